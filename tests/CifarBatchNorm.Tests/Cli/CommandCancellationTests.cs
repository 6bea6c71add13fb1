using CifarBatchNorm.Cli;
using CifarBatchNorm.Tests.Support;
using static CifarBatchNorm.Tests.Support.InProcessCli;

namespace CifarBatchNorm.Tests.Cli;

/// <summary>What each command does with Ctrl+C: the commands that keep their work stop gracefully, as each declares.</summary>
public sealed class CommandCancellationTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(true, "train")]
    [InlineData(true, "download")]
    [InlineData(true, "compare")]
    [InlineData(true, "compare", "merge", "a")]
    [InlineData(true, "analyze")]
    [InlineData(false, "compare", "report", "a")]
    [InlineData(false, "summary")]
    [InlineData(false, "evaluate", "--model", "a")]
    [InlineData(false, "bench")]
    [InlineData(false, "predict", "-w", "a", "b.png")]
    [InlineData(false, "export", "-w", "a", "-f", "onnx", "-o", "a.onnx")]
    public void Each_command_declares_whether_ctrl_c_stops_it_gracefully(bool graceful, params string[] args) =>
        Assert.Equal(graceful, App.StopsGracefully(args));

    [Fact]
    public void Ctrl_c_stops_compare_merge_and_leaves_no_folder()
    {
        using var temp = new TempDirectory();
        string[] tiny = ["compare", "--dataset", "synthetic", "--variants", "bn", "--seeds", "2", "--epochs", "1", "--train-limit", "64", "--test-limit", "32"];
        Assert.Equal(0, Run([.. tiny, "--shard", "1/2", "-o", temp.Combine("s1")]).Code);
        Assert.Equal(0, Run([.. tiny, "--shard", "2/2", "-o", temp.Combine("s2")]).Code);
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        var (code, _, error) = RunUntil(cancellation.Token, "compare", "merge", temp.Combine("s1"), temp.Combine("s2"), "-o", temp.Combine("merged"));

        Assert.Equal(130, code);
        Assert.Equal("Interrupted before anything worth keeping was finished; no output folder was left behind.", error.TrimEnd());
        Assert.False(Directory.Exists(temp.Combine("merged")));
        Assert.Equal(0, Run("compare", "merge", temp.Combine("s1"), temp.Combine("s2"), "-o", temp.Combine("merged")).Code);
    }
}
