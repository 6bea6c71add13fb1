using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace CifarBatchNorm.Callbacks;

/// <summary>
/// Keras 3's progress output: <c>Epoch 1/10</c>, then
/// <c>196/196 ━━━━━━━━━━━━━━━━━━━━ 5s 20ms/step - accuracy: 0.4512 - loss: 1.5234 - val_accuracy: ... - val_loss: ...</c>.
/// With <c>live</c> the line is redrawn in place while the epoch runs; otherwise (output redirected, verbose 2)
/// only the final line of each epoch is written.
/// </summary>
public sealed class ProgbarLogger : Callback
{
    private const int BarWidth = 20;
    private static readonly HashSet<string> HiddenKeys = ["learning_rate", "seconds", "train_seconds"];
    private readonly TextWriter _output;
    private readonly bool _live;
    private readonly Stopwatch _epochClock = new();
    private long _lastDrawTicks;
    private int _lastLength;

    /// <summary>Creates the logger.</summary>
    /// <param name="output">Where to write.</param>
    /// <param name="live">Redraw the line during the epoch (a terminal); <c>false</c> writes one line per epoch.</param>
    public ProgbarLogger(TextWriter output, bool live)
    {
        _output = output ?? throw new ArgumentNullException(nameof(output));
        _live = live;
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
        string line = Format(step, Params.Steps, eta, perStep, logs);
        _output.Write('\r' + line.PadRight(_lastLength));
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

    /// <summary>One Keras 3 progress line.</summary>
    internal static string Format(int step, int steps, string time, double secondsPerStep, IReadOnlyDictionary<string, double> logs)
    {
        var sb = new StringBuilder();
        string width = steps.ToString(CultureInfo.InvariantCulture);
        sb.Append(step.ToString(CultureInfo.InvariantCulture).PadLeft(width.Length)).Append('/').Append(width).Append(' ');
        int filled = (int)Math.Round((double)BarWidth * step / steps);
        sb.Append('━', filled).Append(' ', BarWidth - filled).Append(' ');
        sb.Append(time).Append(' ').Append(FormatPerStep(secondsPerStep));
        foreach (var (key, value) in logs.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sb.Append(" - ").Append(key).Append(": ").Append(value.ToString("0.0000", CultureInfo.InvariantCulture));
        }

        return sb.ToString();
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
