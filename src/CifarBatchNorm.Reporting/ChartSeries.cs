namespace CifarBatchNorm.Reporting;

/// <summary>One line of a chart, optionally with a shaded band (for example the min-max over seeds).</summary>
/// <param name="Name">Legend text.</param>
/// <param name="X">X values.</param>
/// <param name="Y">Y values (for example the mean over seeds).</param>
/// <param name="Lower">Lower edge of the band, or <c>null</c> for none.</param>
/// <param name="Upper">Upper edge of the band, or <c>null</c> for none.</param>
/// <param name="Secondary">Draw the line thin with open markers (for example validation next to training).</param>
/// <param name="ColorIndex">Index into the palette; lines with the same index share a colour.</param>
internal sealed record ChartSeries(string Name, double[] X, double[] Y, double[]? Lower = null, double[]? Upper = null, bool Secondary = false, int ColorIndex = -1);
