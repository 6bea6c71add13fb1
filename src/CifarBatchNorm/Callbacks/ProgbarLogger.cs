using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace CifarBatchNorm.Callbacks;

/// <summary>
/// Keras 3's progress output: <c>Epoch 1/10</c>, then
/// <c>196/196 ━━━━━━━━━━━━━━━━━━━━ 5s 20ms/step - accuracy: 0.4512 - loss: 1.5234 - val_accuracy: ... - val_loss: ...</c>.
/// With <c>live</c> the line is redrawn in place while the epoch runs; otherwise (output redirected, verbose 2)
/// only the final line of each epoch is written. A redrawn line that wrapped would scroll instead of redrawing, so
/// the live line is fitted to the terminal's width: the bar goes first, then metrics from the last.
/// </summary>
public sealed class ProgbarLogger : Callback
{
    private const int BarWidth = 20;
    private static readonly HashSet<string> HiddenKeys = ["learning_rate", "seconds", "train_seconds"];
    private readonly TextWriter _output;
    private readonly bool _live;
    private readonly Func<int?>? _width;
    private readonly Stopwatch _epochClock = new();
    private long _lastDrawTicks;
    private int _lastLength;

    /// <summary>Creates the logger.</summary>
    /// <param name="output">Where to write.</param>
    /// <param name="live">Redraw the line during the epoch (a terminal); <c>false</c> writes one line per epoch.</param>
    /// <param name="width">
    /// The terminal's width in columns, read at every redraw (so a resized window is followed); <c>null</c>, or a
    /// function that returns <c>null</c>, means no limit. The default value is <c>null</c>.
    /// </param>
    public ProgbarLogger(TextWriter output, bool live, Func<int?>? width = null)
    {
        _output = output ?? throw new ArgumentNullException(nameof(output));
        _live = live;
        _width = width;
    }

    /// <inheritdoc />
    public override void OnEpochBegin(int epoch)
    {
        if (Params is { Verbose: 1 })
        {
            _output.WriteLine($"Epoch {epoch}/{Params.Epochs}");
        }

        _epochClock.Restart();
        _lastDrawTicks = 0;
        _lastLength = 0;
    }

    /// <inheritdoc />
    public override void OnTrainBatchEnd(int step, IReadOnlyDictionary<string, double> logs)
    {
        if (!_live || Params is null || step == Params.Steps)
        {
            return;
        }

        long now = _epochClock.ElapsedTicks;
        if (step > 1 && now - _lastDrawTicks < Stopwatch.Frequency / 10)
        {
            return; // redraw at most ten times a second
        }

        _lastDrawTicks = now;
        double perStep = _epochClock.Elapsed.TotalSeconds / step;
        string eta = FormatDuration(perStep * (Params.Steps - step));
        // One column is left free: a line that fills the last column makes some terminals wrap.
        int? columns = _width?.Invoke() is int w and > 0 ? w - 1 : null;
        string line = Format(step, Params.Steps, eta, perStep, logs, columns);
        _output.Write('\r' + line.PadRight(Math.Min(_lastLength, columns ?? int.MaxValue)));
        _lastLength = line.Length;
        _output.Flush();
    }

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        if (Params is null || Params.Verbose == 0)
        {
            return;
        }

        double seconds = _epochClock.Elapsed.TotalSeconds;
        var shown = logs.Where(kv => !HiddenKeys.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
        string line = Format(Params.Steps, Params.Steps, FormatDuration(seconds), seconds / Params.Steps, shown);
        if (Params.Verbose == 2)
        {
            line = $"Epoch {epoch}/{Params.Epochs} - " + line;
        }

        _output.WriteLine((_live ? "\r" : string.Empty) + line.PadRight(_live ? _lastLength : 0));
        _output.Flush();
    }

    /// <summary>
    /// One Keras 3 progress line, at most <paramref name="maxWidth"/> characters: when the whole line is longer,
    /// the bar is left out first, then metrics from the last; the counter, time and speed always stay (cut only
    /// below their own length).
    /// </summary>
    internal static string Format(int step, int steps, string time, double secondsPerStep, IReadOnlyDictionary<string, double> logs,
        int? maxWidth = null)
    {
        string total = steps.ToString(CultureInfo.InvariantCulture);
        string counter = step.ToString(CultureInfo.InvariantCulture).PadLeft(total.Length) + "/" + total;
        int filled = (int)Math.Round((double)BarWidth * step / steps);
        string bar = new string('━', filled) + new string(' ', BarWidth - filled);
        string timing = time + " " + FormatPerStep(secondsPerStep);
        var metrics = logs.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => " - " + kv.Key + ": " + kv.Value.ToString("0.0000", CultureInfo.InvariantCulture))
            .ToList();

        string Line(bool withBar, int metricCount)
        {
            var sb = new StringBuilder(counter).Append(' ');
            if (withBar)
            {
                sb.Append(bar).Append(' ');
            }

            sb.Append(timing);
            metrics.Take(metricCount).ToList().ForEach(m => sb.Append(m));
            return sb.ToString();
        }

        string full = Line(withBar: true, metrics.Count);
        if (maxWidth is not int limit || full.Length <= limit)
        {
            return full;
        }

        for (int count = metrics.Count; count >= 0; count--)
        {
            string line = Line(withBar: false, count);
            if (line.Length <= limit)
            {
                return line;
            }
        }

        string bare = Line(withBar: false, 0);
        return bare[..Math.Max(0, limit)];
    }

    private static string FormatPerStep(double seconds) => seconds >= 1
        ? $"{Math.Round(seconds).ToString(CultureInfo.InvariantCulture)}s/step"
        : $"{Math.Round(seconds * 1000).ToString(CultureInfo.InvariantCulture)}ms/step";

    private static string FormatDuration(double seconds)
    {
        if (seconds < 60)
        {
            return $"{Math.Round(seconds).ToString(CultureInfo.InvariantCulture)}s";
        }

        var t = TimeSpan.FromSeconds(Math.Round(seconds));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}" : $"{t.Minutes}:{t.Seconds:00}";
    }
}
