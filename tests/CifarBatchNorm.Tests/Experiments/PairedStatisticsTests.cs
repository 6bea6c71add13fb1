using CifarBatchNorm.Experiments;

namespace CifarBatchNorm.Tests.Experiments;

/// <summary>
/// The paired tests, Holm's correction and the power statement against values computed independently with scipy 1.10.1
/// (Debian's python3-scipy), by this script:
/// <code>
/// import numpy as np; from scipy import stats
/// a = np.array([0.9012, 0.8975, 0.9050, 0.8991, 0.9030]); b = np.array([0.8950, 0.8961, 0.8990, 0.8932, 0.8979]); d = a - b
/// stats.ttest_rel(a, b).pvalue                                   # 0.00543896583692
/// stats.t.ppf(0.975, 4) * d.std(ddof=1) / np.sqrt(5)              # 0.00249787494153 (mean 0.00492)
/// stats.permutation_test((a, b), lambda x, y: np.mean(x - y), permutation_type='samples', n_resamples=np.inf).pvalue  # 0.0625
/// a2 = np.array([1.0, 2.5, -0.5, 3.0, 0.7, 1.9]); b2 = np.zeros(6)
/// stats.ttest_rel(a2, b2).pvalue                                 # 0.0413096548524; sign-flip as above: 0.0625
/// sa = np.array([240.5, 251.0, 236.2, 260.8, 244.1]); sb = np.array([610.3, 455.0, 702.9, 233.0, 520.4])
/// stats.wilcoxon(sa - sb, method='exact').pvalue                 # 0.125
/// # censored: None = never reached; differences +-inf, ranked top by rankdata; exact sign flips of the signed ranks
/// dd = [-369.8, -inf, -466.7, 27.8, -inf, -inf]; sr = np.sign(dd) * stats.rankdata(np.abs(dd))
/// stats.permutation_test((sr,), np.sum, permutation_type='samples', n_resamples=np.inf).pvalue  # 0.0625; sr.sum() = -19
/// # Holm by hand: sort, (m - k) * p, running maximum, capped at 1
/// [0.01, 0.04, 0.03, 0.005] -> [0.03, 0.06, 0.06, 0.02]
/// (stats.t.ppf(0.975, 4) + stats.t.ppf(0.8, 4)) * 0.004 / np.sqrt(5)  # 0.00664990460004
/// </code>
/// </summary>
public sealed class PairedStatisticsTests
{
    private static readonly double[] A = [0.9012, 0.8975, 0.9050, 0.8991, 0.9030];
    private static readonly double[] B = [0.8950, 0.8961, 0.8990, 0.8932, 0.8979];

    [Fact]
    public void Paired_t_its_interval_and_the_exact_sign_flip_test_match_scipy()
    {
        var test = Statistics.Paired(A, B);

        Assert.Null(test.NotTestable);
        Assert.Equal(5, test.Pairs);
        Assert.Equal(0.00492, test.MeanDifference, 12);
        Assert.Equal(0.00249787494153, test.Ci95, 9);
        Assert.Equal(0.00543896583692, test.TPValue, 9);
        Assert.Equal(0.0625, test.SignFlipPValue, 12);   // all five differences positive: 2 of 32 sign assignments
    }

    [Fact]
    public void Paired_t_and_sign_flip_with_mixed_signs_match_scipy()
    {
        double[] a = [1.0, 2.5, -0.5, 3.0, 0.7, 1.9];
        var test = Statistics.Paired(a, new double[6]);

        Assert.Equal(0.0413096548524, test.TPValue, 9);
        Assert.Equal(0.0625, test.SignFlipPValue, 12);
    }

    [Fact]
    public void Too_few_seeds_or_no_spread_are_not_testable_never_p_0_or_1()
    {
        var two = Statistics.Paired([0.9, 0.8], [0.5, 0.4]);
        Assert.Equal("not testable at n = 2 (fewer than 3 seeds)", two.NotTestable);
        Assert.True(double.IsNaN(two.TPValue) && double.IsNaN(two.Ci95));

        var constant = Statistics.Paired([0.9, 0.8, 0.7], [0.8, 0.7, 0.6]);   // every difference 0.1 (up to rounding)
        Assert.Equal("not testable at n = 3 (the paired differences have no spread)", constant.NotTestable);
        Assert.True(double.IsNaN(constant.TPValue));
        Assert.True(double.IsNaN(Statistics.WelchPValue([1, 1, 1], [2, 2, 2])));   // two constant groups: no p = 0
    }

    [Fact]
    public void Signed_rank_test_without_censoring_matches_scipy_wilcoxon_exact()
    {
        double?[] a = [240.5, 251.0, 236.2, 260.8, 244.1];
        double?[] b = [610.3, 455.0, 702.9, 233.0, 520.4];

        var test = Statistics.CensoredPaired(a, b);

        Assert.Equal(0.125, test.PValue, 12);
        Assert.Equal((4, 1), (test.AFirst, test.BFirst));
        Assert.True(test.SignedRankSum < 0);   // a faster
    }

    [Fact]
    public void Censored_runs_rank_as_the_slowest_and_the_direction_comes_from_the_same_test()
    {
        double?[] a = [240.5, 251.0, 236.2, 260.8, 244.1, 250.0];
        double?[] b = [610.3, null, 702.9, 233.0, null, null];

        var test = Statistics.CensoredPaired(a, b);

        Assert.Equal(0.0625, test.PValue, 12);
        Assert.Equal(-19, test.SignedRankSum, 12);
        Assert.Equal((6, 6, 5, 1), (test.Pairs, test.Untied, test.AFirst, test.BFirst));
    }

    [Fact]
    public void Pairs_where_neither_reached_are_ties_and_too_few_untied_pairs_are_not_testable()
    {
        var test = Statistics.CensoredPaired([null, null, 100, null], [null, null, null, 90]);

        Assert.Equal(2, test.Untied);
        Assert.Equal("not testable at n = 2 untied pair(s) (fewer than 3)", test.NotTestable);
        Assert.True(double.IsNaN(test.PValue));
    }

    [Fact]
    public void Holm_matches_the_step_down_procedure_and_leaves_untestable_claims_out()
    {
        Assert.Equal([0.03, 0.06, 0.06, 0.02], Statistics.Holm([0.01, 0.04, 0.03, 0.005]).Select(p => Math.Round(p, 12)));
        var withGap = Statistics.Holm([0.01, double.NaN, 0.04]);
        Assert.Equal(0.02, withGap[0], 12);
        Assert.True(double.IsNaN(withGap[1]));
        Assert.Equal(0.04, withGap[2], 12);
    }

    [Fact]
    public void Smallest_detectable_difference_at_80_percent_power_matches_scipy()
    {
        Assert.Equal(0.00664990460004, Statistics.MinimumDetectableDifference(0.004, 5), 9);
        Assert.True(double.IsNaN(Statistics.MinimumDetectableDifference(0.004, 2)));
    }
}
