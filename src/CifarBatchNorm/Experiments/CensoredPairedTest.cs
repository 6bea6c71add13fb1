namespace CifarBatchNorm.Experiments;

/// <summary>A paired comparison of times to an event with censored runs (<see cref="Statistics.CensoredPaired"/>).</summary>
/// <param name="Pairs">Seeds compared.</param>
/// <param name="Untied">Pairs left after ties (both censored, or equal times) are dropped: the test's n.</param>
/// <param name="AFirst">Pairs in which a had the event first (or only a had it).</param>
/// <param name="BFirst">Pairs in which b had the event first (or only b had it).</param>
/// <param name="SignedRankSum">Sum of the signed ranks of a - b: positive when a took longer.</param>
/// <param name="PValue">Exact two-sided p of the signed-rank test; <c>NaN</c> when not testable.</param>
/// <param name="NotTestable">Why no test was made (<c>not testable at n = ...</c>), or <c>null</c>.</param>
public sealed record CensoredPairedTest(int Pairs, int Untied, int AFirst, int BFirst, double SignedRankSum, double PValue, string? NotTestable);
