using System.Xml.Linq;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Reporting;
using CifarBatchNorm.Tests.Support;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Tests.Reporting;

/// <summary>
/// The plots and report of one <see cref="History"/>, the confusion matrix drawn as vector cells, and the comparison
/// report naming the optimizer a sweep actually used.
/// </summary>
public sealed class HistoryReportTests
{
    private static readonly XNamespace Xhtml = "http://www.w3.org/1999/xhtml";
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static History ThreeEpochs()
    {
        var history = new History();
        history.Append(1, new Dictionary<string, double> { ["loss"] = 1.5, ["accuracy"] = 0.45, ["val_loss"] = 2.25, ["val_accuracy"] = 0.3125 });
        history.Append(2, new Dictionary<string, double> { ["loss"] = 0.75, ["accuracy"] = 0.7, ["val_loss"] = 0.875, ["val_accuracy"] = 0.65 });
        history.Append(3, new Dictionary<string, double> { ["loss"] = 0.5, ["accuracy"] = 0.8, ["val_loss"] = 0.625, ["val_accuracy"] = 0.775 });
        return history;
    }

    private static IEnumerable<string> Texts(XElement svg) => svg.Descendants(Svg + "text").Select(t => t.Value.Trim());

    [Fact]
    public void Write_gives_loss_and_accuracy_plots_as_png_and_svg_and_an_html_report_with_the_epochs()
    {
        using var temp = new TempDirectory();

        HistoryReport.Write(temp.Path, ThreeEpochs(), "Quick run on Fashion-MNIST");

        foreach (string plot in HistoryReport.Plots)
        {
            byte[] png = File.ReadAllBytes(temp.Combine(plot + ".png"));
            Assert.True(png.Length > 5_000, $"{plot}.png has {png.Length} bytes");
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
            var svg = XElement.Load(temp.Combine(plot + ".svg"));
            Assert.Contains("training", Texts(svg));
            Assert.Contains("validation", Texts(svg));
            Assert.Contains(Texts(svg), t => t.Contains("Fashion-MNIST", StringComparison.Ordinal) && t.Contains(plot, StringComparison.OrdinalIgnoreCase));
        }

        var html = XDocument.Load(temp.Combine(HistoryReport.HtmlFile)).Root!;
        Assert.Equal(HistoryReport.Plots, html.Descendants(Xhtml + "figure").Select(f => (string?)f.Attribute("id")));
        Assert.All(html.Descendants(Xhtml + "figure"), f => Assert.Single(f.Elements(Svg + "svg")));
        var rows = html.Descendants(Xhtml + "tbody").Single().Elements(Xhtml + "tr")
            .Select(r => r.Elements(Xhtml + "td").Select(c => c.Value).ToArray()).ToList();
        Assert.Equal(["epoch", "loss", "accuracy", "val_loss", "val_accuracy"], html.Descendants(Xhtml + "th").Select(h => h.Value));
        Assert.Equal(["2", "0.7500", "0.7000", "0.8750", "0.6500"], rows[1]);
        Assert.Equal(3, rows.Count);
    }

    [Fact]
    public void Svg_draws_one_metric_inline_and_a_missing_metric_names_the_keys_there_are()
    {
        var svg = XElement.Parse(HistoryReport.Svg(ThreeEpochs(), "accuracy"));
        Assert.Contains("Training vs validation accuracy", Texts(svg));
        Assert.Contains("validation", Texts(svg));

        var error = Assert.Throws<ArgumentException>(() => HistoryReport.Svg(ThreeEpochs(), "precision"));
        Assert.StartsWith("The history has no 'precision' values; it has 'loss', 'accuracy', 'val_loss', 'val_accuracy'.", error.Message, StringComparison.Ordinal);

        var both = XElement.Parse(HistoryReport.CompareSvg([new("bn", ThreeEpochs()), new("none", ThreeEpochs())], "val_accuracy", "BN vs none"));
        Assert.Contains("BN vs none", Texts(both));
        Assert.Contains("bn", Texts(both));
        Assert.Contains("none", Texts(both));
    }

    [Fact]
    public void Confusion_matrix_svg_is_one_vector_cell_per_pair_of_classes_shaded_by_the_row_fraction_not_a_bitmap()
    {
        using var temp = new TempDirectory();
        IReadOnlyList<IReadOnlyList<int>> counts = [[10, 0, 0], [5, 5, 0], [0, 0, 7]];

        var (_, svgPath) = Charts.Confusion(temp.Combine("confusion"), "Confusion, synthetic", ["a", "b", "c"], counts);

        var svg = XElement.Load(svgPath);
        // The old heat map was an n x n bitmap scaled up with smoothing; the only bitmap left is the colour bar's 1-pixel-wide gradient.
        Assert.All(svg.Descendants(Svg + "image"), image => Assert.Equal("1", (string?)image.Attribute("width")));
        string Fill(double fraction) => "#" + new Colormap(fraction).Hex;
        var fills = svg.Descendants().Select(e => ((string?)e.Attribute("fill"))?.ToUpperInvariant()).OfType<string>().ToList();
        Assert.Equal(2, fills.Count(f => f == Fill(1.0)));    // (a, a) and (c, c): all of their row
        Assert.Equal(2, fills.Count(f => f == Fill(0.5)));    // row b: 5 and 5
        Assert.Contains(Texts(svg), t => t == "7");
    }

    [Fact]
    public void Compare_report_names_the_optimizer_schedule_momentum_and_weight_decay_the_runs_used()
    {
        using var temp = new TempDirectory();
        var training = new TrainConfig
        {
            Dataset = DatasetKind.Synthetic, Epochs = 2, Optimizer = OptimizerKind.Sgd, Momentum = 0.9, Nesterov = true,
            LearningRateSchedule = LearningRateScheduleKind.Cosine, WeightDecay = 1e-4,
        };
        var config = new CompareConfig { Variants = [NormalizationVariant.Bn, NormalizationVariant.None], Seeds = 2, Training = training };
        var rows = (from variant in new[] { "bn", "none" }
                    from seed in new[] { 1, 2 }
                    from epoch in new[] { 1, 2 }
                    select new EpochResult(variant, seed, epoch, 1.0 / epoch, 0.5 + 0.1 * epoch, 1.1 / epoch, 0.45 + 0.1 * epoch, 1.0)).ToList();
        var result = new CompareResult(config, "Using the synthetic CIFAR-10-shaped set, seed 42 (requested).", "test machine", rows,
            CompareRunner.Summarize(config, rows)) { DatasetName = "synthetic" };

        CompareReport.Write(temp.Path, result);

        string markdown = File.ReadAllText(temp.Combine("report.md"));
        Assert.Contains("SGD with Nesterov momentum 0.9, cosine decay to 0, weight decay 0.0001, BN momentum 0.99", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("Adam", markdown, StringComparison.Ordinal);
        Assert.Contains("SGD with Nesterov momentum 0.9", File.ReadAllText(temp.Combine("report.html")), StringComparison.Ordinal);
        Assert.Equal("AdamW, constant learning rate, weight decay 0.004",
            CompareReport.Optimizer(new TrainConfig { Optimizer = OptimizerKind.AdamW }));
        Assert.Equal("Adam, exponential decay x0.9 per epoch, no weight decay",
            CompareReport.Optimizer(new TrainConfig { LearningRateSchedule = LearningRateScheduleKind.Exponential }));
    }

    /// <summary>The colour the confusion matrix gives a row fraction: ScottPlot's Blues reversed (0 white, 1 dark blue).</summary>
    private sealed class Colormap(double fraction)
    {
        public string Hex => new ScottPlot.Colormaps.Blues().GetColor(1 - fraction).ToHex()[1..7].ToUpperInvariant();
    }
}
