using System.Globalization;
using System.Text;

namespace CifarBatchNorm.Data.Download;

/// <summary>
/// Shows download progress on a <see cref="TextWriter"/>. Live mode (a terminal) redraws one bar line with
/// <c>'\r'</c> at most 10 times per second and ends it with a newline when the file is complete; plain mode
/// (redirected output, CI logs) writes one line each time another 10% has arrived (10%, 20%, ... 100%). Both
/// write one line for each failed attempt that will be retried, so a retrying download is not silent.
/// </summary>
internal sealed class ConsoleDownloadProgress : IProgress<DownloadProgress>, IProgress<DownloadRetry>
{
    private const int BarWidth = 30;
    private static readonly TimeSpan MinRedrawInterval = TimeSpan.FromMilliseconds(100);

    private readonly TextWriter _writer;
    private readonly TimeProvider _clock;
    private readonly Lock _gate = new();
    private long _lastDrawTimestamp;
    private bool _drawn;
    private bool _finished;
    private int _lastDecile;

    /// <summary>Creates a reporter.</summary>
    /// <param name="writer">Where to write.</param>
    /// <param name="live"><c>true</c> for a redrawn bar (terminal), <c>false</c> for a line every 10%.</param>
    /// <param name="clock">Time source for the redraw limit; the default value is <see cref="TimeProvider.System"/>.</param>
    public ConsoleDownloadProgress(TextWriter writer, bool live, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        _writer = writer;
        IsLive = live;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>Whether this reporter redraws a bar (<c>true</c>) or writes plain lines (<c>false</c>).</summary>
    public bool IsLive { get; }

    /// <summary>
    /// A reporter on standard output: live unless standard output is redirected.
    /// </summary>
    public static ConsoleDownloadProgress ForConsole() => new(Console.Out, live: IO.ConsoleOutput.IsInteractive(Console.Out));

    /// <summary>Shows <paramref name="value"/> if it is due (see the class remarks).</summary>
    public void Report(DownloadProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        lock (_gate)
        {
            if (IsLive)
            {
                ReportLive(value);
            }
            else
            {
                ReportPlain(value);
            }
        }
    }

    /// <summary>Writes one line for a failed attempt that will be retried (after the live bar, on a line of its own).</summary>
    public void Report(DownloadRetry value)
    {
        ArgumentNullException.ThrowIfNull(value);
        lock (_gate)
        {
            if (IsLive && _drawn && !_finished)
            {
                _writer.WriteLine();   // the bar's line ends; the next attempt draws a new one
                _drawn = false;
            }

            _writer.WriteLine(value.Describe());
            _writer.Flush();
        }
    }

    private void ReportLive(DownloadProgress value)
    {
        if (_finished)
        {
            return;
        }

        long now = _clock.GetTimestamp();
        if (_drawn && !value.IsComplete && _clock.GetElapsedTime(_lastDrawTimestamp, now) < MinRedrawInterval)
        {
            return;
        }

        _lastDrawTimestamp = now;
        _drawn = true;
        int filled = (int)Math.Round(value.Fraction * BarWidth);
        var line = new StringBuilder("\r[");
        line.Append('#', filled).Append('.', BarWidth - filled).Append("] ").Append(Describe(value)).Append("   ");
        _writer.Write(line.ToString());
        if (value.IsComplete)
        {
            _finished = true;
            _writer.WriteLine();
        }

        _writer.Flush();
    }

    private void ReportPlain(DownloadProgress value)
    {
        int decile = (int)Math.Floor(value.Fraction * 10);
        if (decile <= _lastDecile)
        {
            return;
        }

        _lastDecile = decile;
        _writer.WriteLine("Downloaded " + Describe(value));
        _writer.Flush();
    }

    private static string Describe(DownloadProgress value)
    {
        var text = string.Create(
            CultureInfo.InvariantCulture,
            $"{value.Fraction * 100,5:0.0}% {Megabytes(value.BytesReceived)} of {Megabytes(value.TotalBytes)} MB");
        if (value.BytesPerSecond > 0)
        {
            text += string.Create(CultureInfo.InvariantCulture, $", {Megabytes(value.BytesPerSecond)} MB/s");
        }

        if (value.Eta is { } eta && !value.IsComplete)
        {
            text += ", ETA " + FormatDuration(eta);
        }

        return text;
    }

    private static string Megabytes(double bytes) => (bytes / 1_000_000).ToString("0.0", CultureInfo.InvariantCulture);

    private static string FormatDuration(TimeSpan span) =>
        span.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}:{span.Minutes:00}:{span.Seconds:00}")
            : string.Create(CultureInfo.InvariantCulture, $"{span.Minutes}:{span.Seconds:00}");
}
