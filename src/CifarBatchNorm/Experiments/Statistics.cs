namespace CifarBatchNorm.Experiments;

/// <summary>
/// The statistics the comparison reports: mean, sample standard deviation, Student-t 95% confidence intervals and
/// Welch's two-sample t-test, with the t distribution computed from the regularized incomplete beta function.
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
    /// (Welch-Satterthwaite degrees of freedom); <c>NaN</c> when either has fewer than two values or both have no spread.
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
            return Mean(a) == Mean(b) ? 1 : 0;
        }

        double t = (Mean(a) - Mean(b)) / Math.Sqrt(va + vb);
        double dof = (va + vb) * (va + vb) / ((va * va / (a.Count - 1)) + (vb * vb / (b.Count - 1)));
        return 2 * (1 - StudentTCdf(Math.Abs(t), dof));
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
