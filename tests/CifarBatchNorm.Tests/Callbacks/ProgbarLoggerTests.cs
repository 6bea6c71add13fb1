using CifarBatchNorm.Callbacks;

namespace CifarBatchNorm.Tests.Callbacks;

/// <summary>The live progress line fitted to the terminal: the bar goes first, then metrics from the last.</summary>
public sealed class ProgbarLoggerTests
{
    private static readonly Dictionary<string, double> Metrics = new()
    {
        ["accuracy"] = 0.4512, ["loss"] = 1.5234,
    };

    /// <summary>Drives one epoch of <paramref name="steps"/> steps through a live logger of <paramref name="width"/> columns; returns each redrawn line.</summary>
    private static List<string> LiveLines(int? width, int steps = 196)
    {
        var output = new StringWriter();
        var logger = new ProgbarLogger(output, live: true, width: () => width)
        {
            Params = new TrainingParams(Epochs: 10, Steps: steps, BatchSize: 256, Samples: steps * 256, Verbose: 1),
        };
        logger.OnEpochBegin(1);
        logger.OnTrainBatchEnd(1, Metrics);   // the first step is always drawn
        return output.ToString().Split('\r').Skip(1).ToList();
    }

    [Theory]
    [InlineData(40)]
    [InlineData(60)]
    [InlineData(80)]
    [InlineData(120)]
    public void Live_line_fits_the_terminal_width(int width)
    {
        var lines = LiveLines(width);

        Assert.Single(lines);
        Assert.True(lines[0].Length <= width - 1, $"{lines[0].Length} characters on a {width}-column terminal: '{lines[0]}'");
        Assert.StartsWith("  1/196 ", lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Wide_terminal_shows_the_whole_keras_line()
    {
        const string Keras = @"^  1/196 {22}\d+s \d+m?s/step - accuracy: 0\.4512 - loss: 1\.5234$";   // separator, an empty bar of 20, separator

        Assert.Matches(Keras, LiveLines(120)[0]);
        Assert.Matches(Keras, LiveLines(null)[0]);   // no width known: no limit
    }

    [Fact]
    public void Bar_goes_first_then_metrics_from_the_last()
    {
        string full = ProgbarLogger.Format(98, 196, "5s", 0.02, Metrics);
        string noBar = ProgbarLogger.Format(98, 196, "5s", 0.02, Metrics, maxWidth: full.Length - 1);
        string oneMetric = ProgbarLogger.Format(98, 196, "5s", 0.02, Metrics, maxWidth: noBar.Length - 1);
        string bare = ProgbarLogger.Format(98, 196, "5s", 0.02, Metrics, maxWidth: 25);

        Assert.Equal(" 98/196 ━━━━━━━━━━           5s 20ms/step - accuracy: 0.4512 - loss: 1.5234", full);
        Assert.Equal(" 98/196 5s 20ms/step - accuracy: 0.4512 - loss: 1.5234", noBar);
        Assert.Equal(" 98/196 5s 20ms/step - accuracy: 0.4512", oneMetric);
        Assert.Equal(" 98/196 5s 20ms/step", bare);
    }

    [Fact]
    public void Below_the_counter_and_timing_the_line_is_cut_not_wrapped()
    {
        string line = ProgbarLogger.Format(98, 196, "5s", 0.02, Metrics, maxWidth: 10);

        Assert.Equal(" 98/196 5s", line);
    }

    [Fact]
    public void Redraws_never_pad_past_the_width_when_the_window_narrows()
    {
        int width = 120;
        var output = new StringWriter();
        var logger = new ProgbarLogger(output, live: true, width: () => width)
        {
            Params = new TrainingParams(Epochs: 1, Steps: 3, BatchSize: 1, Samples: 3, Verbose: 1),
        };
        logger.OnEpochBegin(1);
        logger.OnTrainBatchEnd(1, Metrics);
        width = 40;
        Thread.Sleep(150);   // redraws are at most ten a second
        logger.OnTrainBatchEnd(2, Metrics);

        var lines = output.ToString().Split('\r').Skip(1).ToList();
        Assert.Equal(2, lines.Count);
        Assert.True(lines[1].Length <= 39, $"'{lines[1]}' is {lines[1].Length} characters wide on a 40-column terminal");
    }
}
