using System.Text.Json;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Experiments;

public sealed class RunRecordTests
{
    [Fact]
    public void Config_json_records_the_cpu_model_the_execution_policy_and_unescaped_text()
    {
        using var temp = new TempDirectory();
        var config = new TrainConfig { Dataset = DatasetKind.Synthetic, Epochs = 1, TrainLimit = 64, TestLimit = 32 };

        var result = NotebookExperiment.Run(TestSession.Start(), config, temp.Combine("run"));

        string text = File.ReadAllText(Path.Combine(result.Folder, "config.json"));
        using var json = JsonDocument.Parse(text);
        string cpu = json.RootElement.GetProperty("cpu_model").GetString()!;
        Assert.Equal(MachineInfo.CpuModel(), cpu);
        Assert.False(string.IsNullOrWhiteSpace(cpu));
        Assert.StartsWith("device cpu, layout channels-last after pooling in training", json.RootElement.GetProperty("execution").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("\\u002B", text, StringComparison.Ordinal);
    }
}
