namespace CifarBatchNorm.Experiments;

/// <summary>
/// The statistics the comparison reports: mean, sample standard deviation, Student-t 95% confidence intervals,
/// paired tests (paired t, the exact sign-flip permutation test, a signed-rank test for censored times), Holm's
/// correction, the smallest difference a paired design detects at 80% power, and Welch's two-sample t-test for
/// unpaired designs; the t distribution comes from the regularized incomplete beta function.
/// </summary>
public static class Statistics
{
    /// <summary>The mean of <paramref name="values"/>.</summary>
    public static double Mean(IReadOnlyList<double> values) => values.Count == 0 ? double.NaN : values.Average();

    /// <summary>The sample (n - 1) variance; 0 for one value.</summary>
    public static double Variance(IReadOnlyList<double> values)
    {
        if (values.Count < 2)
        {
            return 0;
        }

        double mean = Mean(values);
        return values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
    }

    /// <summary>Half-width of the 95% confidence interval of the mean: t(0.975, n - 1) * s / sqrt(n); <c>NaN</c> below two values.</summary>
    public static double ConfidenceHalfWidth95(IReadOnlyList<double> values) =>
        values.Count < 2 ? double.NaN : StudentTQuantile(0.975, values.Count - 1) * Math.Sqrt(Variance(values) / values.Count);

    /// <summary>
    /// Two-sided p-value of Welch's t-test that <paramref name="a"/> and <paramref name="b"/> have the same mean
    /// (Welch-Satterthwaite degrees of freedom), for unpaired designs; <c>NaN</c> (not testable) when either has fewer
    /// than two values or both have no spread.
    /// </summary>
    public static double WelchPValue(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count < 2 || b.Count < 2)
        {
            return double.NaN;
        }

        double va = Variance(a) / a.Count, vb = Variance(b) / b.Count;
        if (va + vb == 0)
        {
            return double.NaN;
        }

        double t = (Mean(a) - Mean(b)) / Math.Sqrt(va + vb);
        double dof = (va + vb) * (va + vb) / ((va * va / (a.Count - 1)) + (vb * vb / (b.Count - 1)));
        return 2 * (1 - StudentTCdf(Math.Abs(t), dof));
    }

    /// <summary>The most pairs the exact sign-flip tests enumerate (2^20 sign assignments).</summary>
    public const int MaxExactPairs = 20;

    /// <summary>
    /// Paired comparison of <paramref name="a"/> and <paramref name="b"/> (same length, element i of both from the same
    /// seed): the mean of the differences a - b with its 95% interval (Student t), the paired t-test and the exact
    /// sign-flip permutation test on the differences (statistic |sum of differences|, all 2^n sign assignments,
    /// two-sided). Fewer than 3 pairs, or differences without spread, give a result that is not testable (p <c>NaN</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The lists differ in length.</exception>
    public static PairedTest Paired(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count != b.Count)
        {
            throw new ArgumentException($"paired samples need the same length, got {a.Count} and {b.Count}.", nameof(b));
        }

        double[] d = a.Select((x, i) => x - b[i]).ToArray();
        int n = d.Length;
        double mean = Mean(d);
        double sd = Math.Sqrt(Variance(d));
        if (n < 3)
        {
            return new PairedTest(n, mean, sd, double.NaN, double.NaN, double.NaN, $"not testable at n = {n} (fewer than 3 seeds)");
        }

        if (sd <= 1e-12 * Math.Max(1, Math.Abs(mean)))   // equal differences, up to the rounding of their subtraction
        {
            return new PairedTest(n, mean, sd, double.NaN, double.NaN, SignFlipExactPValue(d), $"not testable at n = {n} (the paired differences have no spread)");
        }

        double se = sd / Math.Sqrt(n);
        double t = mean / se;
        double p = 2 * StudentTCdf(-Math.Abs(t), n - 1);
        return new PairedTest(n, mean, sd, StudentTQuantile(0.975, n - 1) * se, p, SignFlipExactPValue(d), null);
    }

    /// <summary>
    /// Exact two-sided p-value of the sign-flip permutation test of <paramref name="differences"/> (paired differences;
    /// the null is symmetry about 0): the share of the 2^n sign assignments whose |sum| is at least the observed one.
    /// Its smallest possible value is 2 / 2^n. <c>NaN</c> for no differences or more than <see cref="MaxExactPairs"/>.
    /// </summary>
    public static double SignFlipExactPValue(IReadOnlyList<double> differences)
    {
        ArgumentNullException.ThrowIfNull(differences);
        int n = differences.Count;
        if (n == 0 || n > MaxExactPairs)
        {
            return double.NaN;
        }

        double observed = Math.Abs(differences.Sum());
        double tolerance = 1e-9 * Math.Max(1, differences.Sum(Math.Abs));
        long extreme = 0;
        for (long mask = 0; mask < 1L << n; mask++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                sum += (mask & (1L << i)) != 0 ? -differences[i] : differences[i];
            }

            if (Math.Abs(sum) >= observed - tolerance)
            {
                extreme++;
            }
        }

        return (double)extreme / (1L << n);
    }

    /// <summary>
    /// Paired comparison of times to an event where some runs never had it (<c>null</c>: never reached, or diverged
    /// first; censored at the end of the run and ranked as worse than any time). Per pair the difference a - b is
    /// finite when both reached, +infinity when only b reached, -infinity when only a reached, and the pair is a tie
    /// (dropped) when neither did or both took the same time. The test is the Wilcoxon signed-rank test computed
    /// exactly: |differences| ranked (mid-ranks for ties, infinities on top), and the two-sided p is the share of the
    /// 2^n sign assignments of those ranks whose |sum of signed ranks| is at least the observed one. The direction is
    /// the sign of the same sum (positive: a took longer). Fewer than 3 untied pairs: not testable.
    /// </summary>
    public static CensoredPairedTest CensoredPaired(IReadOnlyList<double?> a, IReadOnlyList<double?> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count != b.Count)
        {
            throw new ArgumentException($"paired samples need the same length, got {a.Count} and {b.Count}.", nameof(b));
        }

        var d = new List<double>();
        int aFirst = 0, bFirst = 0;
        for (int i = 0; i < a.Count; i++)
        {
            double difference = (a[i], b[i]) switch
            {
                (null, null) => 0,
                (null, _) => double.PositiveInfinity,
                (_, null) => double.NegativeInfinity,
                var (x, y) => x!.Value - y!.Value,
            };
            if (difference != 0)
            {
                d.Add(difference);
                aFirst += difference < 0 ? 1 : 0;
                bFirst += difference > 0 ? 1 : 0;
            }
        }

        int n = d.Count;
        double[] ranks = MidRanks(d.Select(Math.Abs).ToArray());
        double[] signed = ranks.Select((r, i) => d[i] > 0 ? r : -r).ToArray();
        double statistic = signed.Sum();
        if (n < 3)
        {
            return new CensoredPairedTest(a.Count, n, aFirst, bFirst, statistic, double.NaN, $"not testable at n = {n} untied pair(s) (fewer than 3)");
        }

        return new CensoredPairedTest(a.Count, n, aFirst, bFirst, statistic, SignFlipExactPValue(signed), null);
    }

    /// <summary>Mid-ranks (1-based, ties share the mean of their ranks) of <paramref name="values"/>; infinities rank last.</summary>
    internal static double[] MidRanks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        double[] ranks = new double[values.Count];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]])
            {
                end++;
            }

            for (int k = start; k <= end; k++)
            {
                ranks[order[k]] = ((start + end) / 2.0) + 1;
            }

            start = end + 1;
        }

        return ranks;
    }

    /// <summary>
    /// Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1) of a family of tests, in the given order.
    /// <c>NaN</c> entries (claims not testable) are left out of the family and stay <c>NaN</c>.
    /// </summary>
    public static double[] Holm(IReadOnlyList<double> pValues)
    {
        ArgumentNullException.ThrowIfNull(pValues);
        var tested = Enumerable.Range(0, pValues.Count).Where(i => !double.IsNaN(pValues[i])).OrderBy(i => pValues[i]).ToArray();
        double[] adjusted = Enumerable.Repeat(double.NaN, pValues.Count).ToArray();
        double running = 0;
        for (int k = 0; k < tested.Length; k++)
        {
            running = Math.Max(running, Math.Min(1, (tested.Length - k) * pValues[tested[k]]));
            adjusted[tested[k]] = running;
        }

        return adjusted;
    }

    /// <summary>
    /// The smallest true mean difference a paired t-test of <paramref name="pairs"/> pairs detects with 80% power at a
    /// two-sided alpha of <paramref name="alpha"/>, given the standard deviation of the differences:
    /// (t(1 - alpha/2, n - 1) + t(0.8, n - 1)) * sd / sqrt(n) (the usual approximation by central t quantiles);
    /// <c>NaN</c> below 3 pairs.
    /// </summary>
    public static double MinimumDetectableDifference(double sdOfDifferences, int pairs, double alpha = 0.05)
    {
        if (pairs < 3 || !double.IsFinite(sdOfDifferences))
        {
            return double.NaN;
        }

        return (StudentTQuantile(1 - (alpha / 2), pairs - 1) + StudentTQuantile(0.8, pairs - 1)) * sdOfDifferences / Math.Sqrt(pairs);
    }

    /// <summary>The CDF of Student's t with <paramref name="dof"/> degrees of freedom.</summary>
    public static double StudentTCdf(double t, double dof)
    {
        double x = dof / (dof + (t * t));
        double tail = 0.5 * RegularizedIncompleteBeta(dof / 2, 0.5, x);
        return t >= 0 ? 1 - tail : tail;
    }

    /// <summary>The quantile of Student's t (bisection on the CDF, to 1e-12).</summary>
    public static double StudentTQuantile(double p, double dof)
    {
        if (!(p > 0 && p < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "p must be in (0, 1).");
        }

        double low = -1e6, high = 1e6;
        for (int i = 0; i < 200 && high - low > 1e-12; i++)
        {
            double mid = (low + high) / 2;
            if (StudentTCdf(mid, dof) < p)
            {
                low = mid;
            }
            else
            {
                high = mid;
            }
        }

        return (low + high) / 2;
    }

    /// <summary>I_x(a, b) by its continued fraction (Lentz's method), using the symmetry for x beyond the mean.</summary>
    private static double RegularizedIncompleteBeta(double a, double b, double x)
    {
        if (x <= 0)
        {
            return 0;
        }

        if (x >= 1)
        {
            return 1;
        }

        double front = Math.Exp(LogGamma(a + b) - LogGamma(a) - LogGamma(b) + (a * Math.Log(x)) + (b * Math.Log(1 - x)));
        return x < (a + 1) / (a + b + 2)
            ? front * BetaContinuedFraction(a, b, x) / a
            : 1 - (front * BetaContinuedFraction(b, a, 1 - x) / b);
    }

    private static double BetaContinuedFraction(double a, double b, double x)
    {
        const double tiny = 1e-300;
        double c = 1, d = 1 - ((a + b) * x / (a + 1));
        d = Math.Abs(d) < tiny ? tiny : d;
        d = 1 / d;
        double h = d;
        for (int m = 1; m <= 300; m++)
        {
            int m2 = 2 * m;
            double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
            d = 1 + (aa * d);
            d = Math.Abs(d) < tiny ? tiny : d;
            c = 1 + (aa / c);
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            h *= d * c;
            aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
            d = 1 + (aa * d);
            d = Math.Abs(d) < tiny ? tiny : d;
            c = 1 + (aa / c);
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-15)
            {
                break;
            }
        }

        return h;
    }

    /// <summary>log Gamma(x) (Lanczos approximation, g = 7).</summary>
    private static double LogGamma(double x)
    {
        double[] g =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        if (x < 0.5)
        {
            return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        }

        x -= 1;
        double sum = g[0];
        for (int i = 1; i < g.Length; i++)
        {
            sum += g[i] / (x + i);
        }

        double t = x + 7.5;
        return (0.5 * Math.Log(2 * Math.PI)) + ((x + 0.5) * Math.Log(t)) - t + Math.Log(sum);
    }
}
