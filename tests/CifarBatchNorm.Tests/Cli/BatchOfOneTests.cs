using System.Text.Json;
using CifarBatchNorm.Callbacks;
using CifarBatchNorm.Tests.Support;
using static CifarBatchNorm.Tests.Support.InProcessCli;

namespace CifarBatchNorm.Tests.Cli;

/// <summary>Keras trains on a batch of one; so does this, and NaN/Infinity never crash a writer.</summary>
public sealed class BatchOfOneTests
{
    [Theory]
    [InlineData("--batch-size", "1", "--train-limit", "12")]
    [InlineData("--batch-size", "256", "--train-limit", "257")]
    public void A_batch_of_one_trains_and_evaluates_to_finite_numbers(string option, string value, string limit, string count)
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");

        var (code, _, error) = Run("train", "--dataset", "synthetic", "--epochs", "1", option, value, limit, count, "--test-limit", "16", "-o", run);

        Assert.True(code == 0, error);
        using var history = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "history.json")));
        foreach (string key in new[] { "loss", "val_loss", "accuracy", "val_accuracy" })
        {
            double v = history.RootElement.GetProperty(key)[0].GetDouble();
            Assert.True(double.IsFinite(v), $"{key} = {v}");
        }
    }

    [Fact]
    public void Csv_logger_and_history_json_write_nan_and_infinity()
    {
        using var temp = new TempDirectory();
        string csv = temp.Combine("log.csv");
        using (var logger = new CsvLogger(csv))
        {
            logger.OnTrainBegin();
            logger.OnEpochEnd(1, new Dictionary<string, double> { ["loss"] = double.NaN, ["val_loss"] = double.PositiveInfinity });
            logger.OnTrainEnd(new Dictionary<string, double>());
        }

        string[] lines = File.ReadAllLines(csv);
        Assert.Equal("epoch,loss,val_loss", lines[0]);
        Assert.Equal("1,NaN,Infinity", lines[1]);
        string json = JsonSerializer.Serialize(new Dictionary<string, double[]> { ["loss"] = [double.NaN, double.NegativeInfinity] },
            CifarBatchNorm.Experiments.RunFolder.Json);
        Assert.Contains("\"NaN\"", json, StringComparison.Ordinal);
        Assert.Contains("\"-Infinity\"", json, StringComparison.Ordinal);
    }
}
