using CifarBatchNorm.IO;
using ScottPlot;

namespace CifarBatchNorm.Reporting;

/// <summary>
/// Line and bar charts written as PNG and SVG (headless, ScottPlot). Text uses DejaVu Sans, which the
/// <c>fonts-dejavu-core</c> package provides on Debian; each file is written to a temporary name and renamed.
/// </summary>
internal static class Charts
{
    private const int Width = 900;
    private const int Height = 540;

    private static readonly Color[] Palette =
    [
        Color.FromHex("#1f77b4"), Color.FromHex("#d62728"), Color.FromHex("#2ca02c"), Color.FromHex("#9467bd"),
        Color.FromHex("#ff7f0e"), Color.FromHex("#8c564b"), Color.FromHex("#e377c2"), Color.FromHex("#17becf"),
    ];

    static Charts()
    {
        Fonts.Default = "DejaVu Sans";
    }

    /// <summary>Writes a line chart to <paramref name="pathWithoutExtension"/>.png and .svg; returns both paths.</summary>
    /// <param name="pathWithoutExtension">Target path; <c>.png</c> and <c>.svg</c> are appended.</param>
    /// <param name="title">Chart title.</param>
    /// <param name="xLabel">X axis label.</param>
    /// <param name="yLabel">Y axis label.</param>
    /// <param name="series">The lines.</param>
    /// <param name="integerX">Put ticks on whole numbers only (epochs). The default value is <c>true</c>.</param>
    public static (string Png, string Svg) Lines(string pathWithoutExtension, string title, string xLabel, string yLabel,
        IReadOnlyList<ChartSeries> series, bool integerX = true)
    {
        ArgumentNullException.ThrowIfNull(series);
        var plot = new Plot();
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i];
            var color = Palette[(s.ColorIndex >= 0 ? s.ColorIndex : i) % Palette.Length];
            if (s.Lower is not null && s.Upper is not null)
            {
                var band = plot.Add.FillY(s.X, s.Lower, s.Upper);
                band.FillColor = color.WithAlpha(0.18);
                band.LineColor = Colors.Transparent;
            }

            var line = plot.Add.Scatter(s.X, s.Y);
            line.Color = color;
            line.LineWidth = 2;
            line.MarkerSize = s.X.Length <= 30 ? 5 : 0;
            line.LegendText = s.Name;
            if (s.Secondary)
            {
                // Skia's SVG backend cannot draw dash patterns, so secondary lines differ by weight and marker.
                line.LineWidth = 1;
                line.MarkerShape = MarkerShape.OpenCircle;
                line.MarkerSize = 7;
            }
        }

        if (integerX)
        {
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        }

        Decorate(plot, title, xLabel, yLabel);
        plot.ShowLegend(Alignment.LowerRight);
        return Save(plot, pathWithoutExtension);
    }

    /// <summary>Writes a bar chart with error bars to <paramref name="pathWithoutExtension"/>.png and .svg.</summary>
    public static (string Png, string Svg) Bars(string pathWithoutExtension, string title, string yLabel,
        IReadOnlyList<string> names, IReadOnlyList<double> values, IReadOnlyList<double> errors)
    {
        ArgumentNullException.ThrowIfNull(names);
        var plot = new Plot();
        var bars = new List<Bar>();
        for (int i = 0; i < names.Count; i++)
        {
            bars.Add(new Bar
            {
                Position = i,
                Value = values[i],
                Error = errors[i],
                FillColor = Palette[i % Palette.Length],
            });
        }

        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, names.Count).Select(i => (double)i).ToArray(), names.ToArray());
        double low = values.Select((v, i) => v - errors[i]).DefaultIfEmpty(0).Min();
        double high = values.Select((v, i) => v + errors[i]).DefaultIfEmpty(1).Max();
        double pad = Math.Max(0.01, (high - low) * 0.3);
        plot.Axes.SetLimitsY(Math.Max(0, low - pad), high + pad);
        Decorate(plot, title, string.Empty, yLabel);
        return Save(plot, pathWithoutExtension);
    }

    private static void Decorate(Plot plot, string title, string xLabel, string yLabel)
    {
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
    }

    private static (string Png, string Svg) Save(Plot plot, string pathWithoutExtension)
    {
        string png = pathWithoutExtension + ".png";
        string svg = pathWithoutExtension + ".svg";
        AtomicFile.Write(png, temp => plot.SavePng(temp, Width, Height));
        AtomicFile.Write(svg, temp => plot.SaveSvg(temp, Width, Height));
        return (png, svg);
    }
}
