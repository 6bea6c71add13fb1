namespace CifarBatchNorm.Reporting;

/// <summary>The 95% confidence interval of a mean from a few samples (Student's t, two-sided).</summary>
internal static class ConfidenceInterval
{
    // t(0.975, df) for df = 1..30; beyond that the normal quantile 1.96 is within 2%.
    private static readonly double[] T975 =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];

    /// <summary>
    /// The mean of <paramref name="samples"/> and the half-width of its 95% interval,
    /// t(0.975, n-1) * s / sqrt(n) with the sample standard deviation s; the half-width is 0 for one sample.
    /// </summary>
    public static (double Mean, double HalfWidth) Mean95(IReadOnlyList<double> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0)
        {
            throw new ArgumentException("No samples: a confidence interval needs at least one value.", nameof(samples));
        }

        double mean = samples.Average();
        if (samples.Count == 1)
        {
            return (mean, 0);
        }

        double s = Math.Sqrt(samples.Sum(v => (v - mean) * (v - mean)) / (samples.Count - 1));
        int df = samples.Count - 1;
        double t = df <= T975.Length ? T975[df - 1] : 1.96;
        return (mean, t * s / Math.Sqrt(samples.Count));
    }
}
