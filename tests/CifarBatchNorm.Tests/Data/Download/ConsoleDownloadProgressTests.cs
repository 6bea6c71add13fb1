using CifarBatchNorm.Data.Download;

namespace CifarBatchNorm.Tests.Data.Download;

public sealed class ConsoleDownloadProgressTests
{
    private const long Total = 1_000_000;

    [Fact]
    public void Plain_mode_writes_one_line_per_ten_percent()
    {
        var output = new StringWriter();
        var progress = new ConsoleDownloadProgress(output, live: false);

        for (long received = 0; received <= Total; received += Total / 100)
        {
            progress.Report(new DownloadProgress(received, Total, 500_000, TimeSpan.FromSeconds(1)));
        }

        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(10, lines.Length);
        Assert.StartsWith("Downloaded  10.0% 0.1 of 1.0 MB, 0.5 MB/s, ETA 0:01", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("Downloaded 100.0% 1.0 of 1.0 MB", lines[^1], StringComparison.Ordinal);
        Assert.DoesNotContain('\r', output.ToString());
    }

    [Fact]
    public void Live_mode_redraws_at_most_ten_times_a_second_and_ends_the_line()
    {
        var output = new StringWriter();
        var clock = new ManualClock();
        var progress = new ConsoleDownloadProgress(output, live: true, clock);

        // 100 reports 10 ms apart: one second of transfer.
        for (long received = Total / 100; received <= Total; received += Total / 100)
        {
            progress.Report(new DownloadProgress(received, Total, 1_000_000, null));
            clock.Advance(TimeSpan.FromMilliseconds(10));
        }

        string text = output.ToString();
        int redraws = text.Count(c => c == '\r');
        Assert.InRange(redraws, 10, 12);
        Assert.EndsWith(Environment.NewLine, text, StringComparison.Ordinal);
        Assert.Contains("[##############################] 100.0%", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Live_mode_draws_once_more_for_completion_even_within_the_interval()
    {
        var output = new StringWriter();
        var progress = new ConsoleDownloadProgress(output, live: true, new ManualClock());

        progress.Report(new DownloadProgress(1, Total, 0, null));
        progress.Report(new DownloadProgress(Total / 2, Total, 0, null));
        progress.Report(new DownloadProgress(Total, Total, 0, null));

        Assert.Equal(2, output.ToString().Count(c => c == '\r'));
        Assert.Contains("100.0%", output.ToString(), StringComparison.Ordinal);
    }

    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan span) => _ticks += span.Ticks;
    }
}
