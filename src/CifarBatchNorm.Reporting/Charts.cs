using CifarBatchNorm.IO;
using ScottPlot;

namespace CifarBatchNorm.Reporting;

/// <summary>
/// Line charts and interval charts written as PNG and SVG (headless, ScottPlot). Text uses DejaVu Sans, which the
/// <c>fonts-dejavu-core</c> package provides on Debian; each file is written to a temporary name and renamed.
/// Legends sit outside the data area, so they never cover a line.
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

    // One marker per series, so lines that lie on each other stay apart; the open shapes mark secondary series.
    private static readonly MarkerShape[] Filled =
        [MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond];

    private static readonly MarkerShape[] Open =
        [MarkerShape.OpenCircle, MarkerShape.OpenSquare, MarkerShape.OpenTriangleUp, MarkerShape.OpenDiamond];

    static Charts()
    {
        Fonts.Default = "DejaVu Sans";
    }

    /// <summary>Writes a line chart to <paramref name="pathWithoutExtension"/>.png and .svg; returns both paths.</summary>
    /// <param name="pathWithoutExtension">Target path; <c>.png</c> and <c>.svg</c> are appended.</param>
    /// <param name="title">Chart title (name the dataset in it).</param>
    /// <param name="xLabel">X axis label.</param>
    /// <param name="yLabel">Y axis label.</param>
    /// <param name="series">The lines. Secondary series are drawn first and primary ones in reverse order, so the
    /// first primary series (the notebook's variant) is drawn on top.</param>
    /// <param name="integerX">Put ticks on whole numbers only (epochs). The default value is <c>true</c>.</param>
    /// <param name="logY">Plot the Y values on a log10 scale (values must be positive). The default value is <c>false</c>.</param>
    public static (string Png, string Svg) Lines(string pathWithoutExtension, string title, string xLabel, string yLabel,
        IReadOnlyList<ChartSeries> series, bool integerX = true, bool logY = false) =>
        Save(LinesPlot(title, xLabel, yLabel, series, integerX, logY), pathWithoutExtension);

    /// <summary>The line chart of <see cref="Lines"/> as SVG text, for showing inline (a notebook cell) without a file.</summary>
    public static string LinesSvg(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series) =>
        LinesPlot(title, xLabel, yLabel, series, integerX: true, logY: false).GetSvgXml(Width, Height);

    private static Plot LinesPlot(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series, bool integerX, bool logY)
    {
        ArgumentNullException.ThrowIfNull(series);
        var plot = new Plot();
        var drawOrder = series.Select((s, i) => (Series: s, Index: i))
            .OrderByDescending(p => p.Series.Secondary).ThenByDescending(p => p.Index).ToList();
        var legend = new LegendItem[series.Count];
        double[] Y(double[] values) => logY ? values.Select(v => Math.Log10(Math.Max(v, double.Epsilon))).ToArray() : values;
        foreach (var (s, i) in drawOrder)
        {
            int colorIndex = s.ColorIndex >= 0 ? s.ColorIndex : i;
            var color = Palette[colorIndex % Palette.Length];
            if (s.Lower is not null && s.Upper is not null)
            {
                var band = plot.Add.FillY(s.X, Y(s.Lower), Y(s.Upper));
                band.FillColor = color.WithAlpha(0.18);
                band.LineColor = Colors.Transparent;
            }

            var line = plot.Add.Scatter(s.X, Y(s.Y));
            line.Color = color;
            line.LineWidth = s.Secondary ? 1 : 2.5f;
            line.MarkerShape = (s.Secondary ? Open : Filled)[colorIndex % Filled.Length];
            line.MarkerSize = s.X.Length <= 30 ? (s.Secondary ? 8 : 6) : 0;
            legend[i] = new LegendItem
            {
                LabelText = s.Name,
                LineColor = color,
                LineWidth = line.LineWidth,
                MarkerShape = line.MarkerShape,
                MarkerColor = color,
                MarkerSize = Math.Max(line.MarkerSize, 6),
            };
        }

        // The legend lists the series in the order given, whatever order they were drawn in.
        plot.Legend.ManualItems.AddRange(legend);

        if (integerX)
        {
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        }

        if (logY)
        {
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = y => Math.Pow(10, y).ToString("G3", System.Globalization.CultureInfo.InvariantCulture),
            };
            yLabel += " (log scale)";
        }

        Decorate(plot, title, xLabel, yLabel);
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>
    /// Writes a chart of one estimate per group with its interval (a point and an error bar), and the individual
    /// values as small dots beside it, to <paramref name="pathWithoutExtension"/>.png and .svg. Points, not bars:
    /// the Y axis fits the data instead of starting at 0, and nothing suggests that a length means something.
    /// <paramref name="bounds"/>, when given, clips every interval to the range the quantity can take (an accuracy's
    /// [0, 1]): a t interval over few seeds can reach past it.
    /// </summary>
    public static (string Png, string Svg) Intervals(string pathWithoutExtension, string title, string xLabel, string yLabel,
        IReadOnlyList<string> names, IReadOnlyList<double> estimates, IReadOnlyList<double> halfWidths, IReadOnlyList<IReadOnlyList<double>> values,
        (double Low, double High)? bounds = null)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(estimates);
        ArgumentNullException.ThrowIfNull(halfWidths);
        ArgumentNullException.ThrowIfNull(values);
        var plot = new Plot();
        for (int i = 0; i < names.Count; i++)
        {
            var color = Palette[i % Palette.Length];
            double low = estimates[i] - halfWidths[i], high = estimates[i] + halfWidths[i];
            if (bounds is var (min, max))
            {
                low = Math.Max(min, low);
                high = Math.Min(max, high);
            }

            // The interval as a vertical segment with caps (asymmetric once clipped).
            foreach (var (x1, y1, x2, y2) in new[] { (i, low, i, high), (i - 0.08, low, i + 0.08, low), (i - 0.08, high, i + 0.08, high) })
            {
                var segment = plot.Add.Line(x1, y1, x2, y2);
                segment.Color = color;
                segment.LineWidth = 2;
                segment.MarkerSize = 0;
            }

            var point = plot.Add.Scatter(new[] { (double)i }, new[] { estimates[i] });
            point.Color = color;
            point.LineWidth = 0;
            point.MarkerShape = MarkerShape.FilledCircle;
            point.MarkerSize = 10;
            var each = values[i];
            if (each.Count > 0)
            {
                var dots = plot.Add.Scatter(each.Select(_ => i + 0.18).ToArray(), each.ToArray());
                dots.Color = color.WithAlpha(0.7);
                dots.LineWidth = 0;
                dots.MarkerShape = MarkerShape.OpenCircle;
                dots.MarkerSize = 6;
            }
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, names.Count).Select(i => (double)i).ToArray(), names.ToArray());
        if (names.Sum(n => n.Length) > 70)   // slanted names, so long labels of a grid do not run into each other
        {
            plot.Axes.Bottom.TickLabelStyle.Rotation = 30;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
            plot.Axes.Bottom.MinimumSize = 140;
        }

        double Clip(double v) => bounds is var (min, max) ? Math.Clamp(v, min, max) : v;
        var all = estimates.Select((e, i) => Clip(e - halfWidths[i])).Concat(estimates.Select((e, i) => Clip(e + halfWidths[i])))
            .Concat(values.SelectMany(v => v)).Where(double.IsFinite).DefaultIfEmpty(0).ToList();
        double pad = Math.Max(0.005, (all.Max() - all.Min()) * 0.15);
        plot.Axes.SetLimitsY(all.Min() - pad, all.Max() + pad);
        plot.Axes.SetLimitsX(-0.6, names.Count - 0.4);
        Decorate(plot, title, xLabel, yLabel);
        return Save(plot, pathWithoutExtension);
    }

    /// <summary>
    /// Writes a confusion matrix (rows: true class, columns: predicted class) as a heat map of each row's fractions,
    /// with the counts written in the cells, to <paramref name="pathWithoutExtension"/>.png and .svg. Each cell is
    /// one filled rectangle, so the SVG (and the HTML report that inlines it) has sharp vector cells at any zoom
    /// instead of a 10x10 bitmap scaled up with smoothing.
    /// </summary>
    public static (string Png, string Svg) Confusion(string pathWithoutExtension, string title, IReadOnlyList<string> classNames, IReadOnlyList<IReadOnlyList<int>> counts)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(counts);
        int n = counts.Count;
        var fractions = new double[n, n];
        for (int row = 0; row < n; row++)
        {
            double total = Math.Max(1, counts[row].Sum());
            for (int column = 0; column < n; column++)
            {
                fractions[row, column] = counts[row][column] / total;
            }
        }

        var plot = new Plot();
        var colormap = new Darkening(new ScottPlot.Colormaps.Blues());   // 0 white, 1 dark blue
        for (int row = 0; row < n; row++)
        {
            for (int column = 0; column < n; column++)
            {
                // Row 0 of the array is drawn at the top: y = n - 1 - row; cell (row, column) is centred on (column, y).
                double y = n - 1 - row;
                var cell = plot.Add.Rectangle(column - 0.5, column + 0.5, y - 0.5, y + 0.5);
                cell.FillColor = colormap.GetColor(fractions[row, column]);
                cell.LineColor = Colors.Transparent;
                cell.LineWidth = 0;
            }
        }

        for (int row = 0; row < n; row++)
        {
            for (int column = 0; column < n; column++)
            {
                var text = plot.Add.Text(counts[row][column].ToString(System.Globalization.CultureInfo.InvariantCulture), column, n - 1 - row);
                text.LabelFontSize = 11;
                text.LabelFontColor = fractions[row, column] > 0.5 ? Colors.White : Colors.Black;
                text.LabelAlignment = Alignment.MiddleCenter;
            }
        }

        double[] positions = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        string[] names = classNames.Count == n ? [.. classNames] : positions.Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, names);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, names.Reverse().ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 110;   // room for the slanted class names above the axis label
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.Add.ColorBar(new FractionScale(colormap));
        Decorate(plot, title, "predicted class", "true class");
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

    /// <summary>The colour bar's source: the row fractions 0 to 1 in the cells' colours.</summary>
    private sealed class FractionScale(IColormap colormap) : IHasColorAxis
    {
        public IColormap Colormap => colormap;

        public ScottPlot.Range GetRange() => new(0, 1);
    }

    /// <summary>A colormap run backwards, so that larger values are darker (ScottPlot's Blues goes from dark to light).</summary>
    private sealed class Darkening(IColormap inner) : IColormap
    {
        public string Name => inner.Name + " (reversed)";

        public Color GetColor(double position) => inner.GetColor(1 - position);
    }
}
