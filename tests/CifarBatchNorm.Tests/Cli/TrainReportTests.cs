using System.Globalization;
using System.Text.Json;
using System.Xml.Linq;
using CifarBatchNorm.Tests.Support;
using static CifarBatchNorm.Tests.Support.InProcessCli;

namespace CifarBatchNorm.Tests.Cli;

/// <summary>Every <c>train</c> run leaves its history plots and a report.html in the run folder, as compare does.</summary>
public sealed class TrainReportTests
{
    private static readonly XNamespace Xhtml = "http://www.w3.org/1999/xhtml";
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void A_train_run_writes_loss_and_accuracy_plots_a_confusion_matrix_and_a_report_with_its_numbers()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");

        var (code, _, error) = Run("train", "--dataset", "synthetic", "--epochs", "2", "--batch-size", "64",
            "--train-limit", "256", "--test-limit", "64", "--bn-momentum", "0.5", "--output", run);

        Assert.True(code == 0, error);
        foreach (string plot in new[] { "loss", "accuracy", "confusion_matrix" })
        {
            Assert.True(new FileInfo(Path.Combine(run, plot + ".png")).Length > 5_000, $"{plot}.png missing or empty");
            Assert.Contains("validation", File.ReadAllText(Path.Combine(run, plot == "confusion_matrix" ? "loss.svg" : plot + ".svg")), StringComparison.Ordinal);
        }

        var html = XDocument.Load(Path.Combine(run, "report.html")).Root!;
        Assert.Equal(["loss", "accuracy", "confusion_matrix"], html.Descendants(Xhtml + "figure").Select(f => (string?)f.Attribute("id")));
        Assert.All(html.Descendants(Xhtml + "figure"), f => Assert.Single(f.Elements(Svg + "svg")));
        Assert.Contains("synthetic", html.Descendants(Xhtml + "h1").Single().Value, StringComparison.Ordinal);
        string text = html.Value;
        Assert.Contains("optimizer adam, learning rate 0.001", text, StringComparison.Ordinal);

        // The report's numbers are the run's: the last epoch of history.csv and evaluation.json.
        string[] header = File.ReadAllLines(Path.Combine(run, "history.csv"))[0].Split(',');
        string[] last = File.ReadAllLines(Path.Combine(run, "history.csv"))[^1].Split(',');
        double valAccuracy = double.Parse(last[Array.IndexOf(header, "val_accuracy")], CultureInfo.InvariantCulture);
        var epochRow = html.Descendants(Xhtml + "tbody").First().Elements(Xhtml + "tr").Last().Elements(Xhtml + "td").Select(c => c.Value).ToList();
        Assert.Equal("2", epochRow[0]);
        Assert.Contains(valAccuracy.ToString("0.0000", CultureInfo.InvariantCulture), epochRow);
        using var evaluation = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "evaluation.json")));
        double accuracy = evaluation.RootElement.GetProperty("accuracy").GetDouble();
        Assert.Contains($"test accuracy {accuracy.ToString("0.0000", CultureInfo.InvariantCulture)} (64 images)", text, StringComparison.Ordinal);
        Assert.Contains("\"bn_momentum\": 0.5", html.Descendants(Xhtml + "code").Single().Value, StringComparison.Ordinal);
    }
}
