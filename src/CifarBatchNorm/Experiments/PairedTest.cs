namespace CifarBatchNorm.Experiments;

/// <summary>A paired comparison of two variants over the same seeds (<see cref="Statistics.Paired"/>), differences a - b.</summary>
/// <param name="Pairs">Seeds compared.</param>
/// <param name="MeanDifference">Mean of the paired differences.</param>
/// <param name="SdDifference">Sample standard deviation of the differences.</param>
/// <param name="Ci95">Half-width of the 95% confidence interval of <paramref name="MeanDifference"/> (Student t, n - 1 degrees of freedom); <c>NaN</c> when not testable.</param>
/// <param name="TPValue">Two-sided p of the paired t-test; <c>NaN</c> when not testable.</param>
/// <param name="SignFlipPValue">Exact two-sided p of the sign-flip permutation test; its smallest possible value is 2 / 2^n.</param>
/// <param name="NotTestable">Why no test was made (<c>not testable at n = ...</c>), or <c>null</c>.</param>
public sealed record PairedTest(int Pairs, double MeanDifference, double SdDifference, double Ci95, double TPValue, double SignFlipPValue, string? NotTestable);
