using CifarBatchNorm.Experiments;

namespace CifarBatchNorm.Tests.Experiments;

/// <summary>
/// Claims on hand-made results: censored and diverged runs stay censored (never a number of steps), the direction and
/// the p come from the same test, verdicts are Holm-corrected, and a verdict that changes with the stopping epoch says so.
/// </summary>
public sealed class CompareClaimsTests
{
    private static readonly LossCurve Curve = new(20, [1], [1.0], [1.0]);

    private static CompareResult Result(int seeds, Func<string, int, RunOutcome> outcome, Func<string, int, int, double> accuracy, int epochs = 3,
        NormalizationVariant[]? variants = null)
    {
        variants ??= [NormalizationVariant.Bn, NormalizationVariant.None];
        var config = new CompareConfig { Variants = variants, Seeds = seeds, LossTarget = 0.5, Training = new TrainConfig { Epochs = epochs, BatchSize = 256, Seed = 1 } };
        var runs = new List<RunOutcome>();
        var rows = new List<EpochResult>();
        foreach (var cell in config.Cells())
        {
            string name = ModelPresets.VariantName(cell.Variant);
            var run = outcome(name, cell.Seed);
            runs.Add(run);
            int finished = run.Diverged ? 0 : epochs;
            for (int e = 1; e <= finished; e++)
            {
                rows.Add(new EpochResult(name, cell.Seed, e, 0.5, 0.8, 0.5, accuracy(name, cell.Seed, e), 1.0, cell.LearningRate, cell.BatchSize));
            }
        }

        var result = new CompareResult(config, "test", "test machine", rows, []) { Runs = runs };
        return result with { Summaries = CompareRunner.Summarize(config, rows, runs) };
    }

    private static RunOutcome Run(string variant, int seed, double? steps, bool diverged = false) =>
        new(variant, seed, 0.001, 256, steps, diverged, diverged ? "diverged at epoch 1, step 1" : "complete", diverged ? 1 : 600)
        {
            DivergedAtStep = diverged ? 1 : null,
            LossCurve = Curve,
        };

    [Fact]
    public void Runs_diverged_in_epoch_1_are_censored_and_counted_apart()
    {
        var result = Result(5, (v, s) => v == "bn" ? Run(v, s, 100 + s) : s <= 2 ? Run(v, s, null, diverged: true) : Run(v, s, 500 + s),
            (v, s, e) => 0.8);

        var none = result.Summaries.Single(x => x.Variant == "none");
        Assert.Equal((3, 2), (none.SeedsReachingLossTarget, none.DivergedRuns));
        Assert.Equal(504, none.StepsToLossTargetMean!.Value, 12);   // 503, 504, 505: the diverged runs are not 0 (nor 1) steps
        var faster = CompareClaims.Evaluate(result)[0];
        Assert.Equal("BN makes training faster", faster.Claim);
        Assert.StartsWith("exact Wilcoxon signed-rank test", faster.Test, StringComparison.Ordinal);
        Assert.Equal("bn first in 5 of 5 seeds, none first in 0", faster.Effect);
        Assert.Contains("diverged: bn 0 of 5, none 2 of 5", faster.Detail, StringComparison.Ordinal);
        Assert.Equal(0.0625, faster.PValue, 12);   // 5 pairs, all one way: 2 / 2^5, the smallest an exact test of 5 can give
        Assert.Equal("inconclusive (underpowered)", faster.Verdict);
    }

    [Fact]
    public void A_slower_variant_never_reads_as_supported()
    {
        // bn never reaches the target in 2 seeds and is slower in the others: the censored test says the opposite.
        var result = Result(6, (v, s) => v == "bn" ? Run(v, s, s <= 2 ? null : 900 + s) : Run(v, s, 300 + s), (v, s, e) => 0.8);

        var faster = CompareClaims.Evaluate(result)[0];

        Assert.Equal("bn first in 0 of 6 seeds, none first in 6", faster.Effect);
        Assert.Equal(0.03125, faster.PValue, 12);
        Assert.Equal("opposite holds", faster.Verdict);
    }

    [Fact]
    public void Claims_are_Holm_corrected_and_a_verdict_that_depends_on_the_stopping_epoch_says_so()
    {
        // bn higher than none after epochs 1 and 2, lower after epoch 3, by a steady margin with a little noise.
        double Accuracy(string v, int s, int e) => v == "none" ? 0.80 + (0.001 * s) : 0.80 + (e < 3 ? 0.02 : -0.02) + (0.0013 * s);
        var result = Result(5, (v, s) => Run(v, s, v == "bn" ? 100 + (3 * s) : 200 + (s * s)), Accuracy);

        var claims = CompareClaims.Evaluate(result);

        Assert.Equal(["BN makes training faster", "BN gives a higher final test accuracy"], claims.Select(c => c.Claim));
        var (small, large) = claims[0].PValue < claims[1].PValue ? (claims[0], claims[1]) : (claims[1], claims[0]);
        Assert.Equal(2 * small.PValue, small.HolmPValue, 15);
        Assert.Equal(Math.Max(large.PValue, 2 * small.PValue), large.HolmPValue, 15);
        var accuracy = claims[1];
        Assert.Equal("paired t-test", accuracy.Test);
        Assert.Equal("opposite holds", accuracy.Verdict);
        Assert.StartsWith("bn - none = -0.0191 ± ", accuracy.Effect, StringComparison.Ordinal);
        Assert.Equal(3, accuracy.PerEpoch.Count);
        Assert.Equal("The verdict depends on when training stops: bn higher after epoch(s) 1, 2; none higher after epoch(s) 3 (paired t, p < 0.05 at that epoch, uncorrected).",
            accuracy.StoppingEpochNote);
        Assert.Equal("supported", claims[0].Verdict);   // every run reached: paired t on the steps
        Assert.Equal("paired t-test (every run reached the target)", claims[0].Test);
    }

    [Fact]
    public void Two_seeds_are_not_testable()
    {
        var result = Result(2, (v, s) => Run(v, s, v == "bn" ? 100 : 200), (v, s, e) => v == "bn" ? 0.9 : 0.8);

        var claims = CompareClaims.Evaluate(result);

        Assert.Equal("not testable at n = 2 (fewer than 3 seeds)", claims[0].Verdict);   // the steps, every run reached: no p = 0 or 1
        Assert.Equal("not testable at n = 2 (fewer than 3 seeds)", claims[1].Verdict);
        Assert.All(claims, c => Assert.True(double.IsNaN(c.HolmPValue)));
    }

    [Fact]
    public void The_momentum_control_and_the_placement_get_their_own_claims()
    {
        var result = Result(3, (v, s) => Run(v, s, 100), (v, s, e) => 0.8 + (0.01 * s),
            variants: [NormalizationVariant.Bn, NormalizationVariant.None, NormalizationVariant.BnBeforeRelu, NormalizationVariant.BnMomentum09]);

        var claims = CompareClaims.Evaluate(result).Select(c => c.Claim).ToList();

        Assert.Contains("The moving-statistics lag lowers BN's test accuracy (BN momentum 0.9 beats 0.99)", claims);
        Assert.Contains("Without the lag (BN momentum 0.9), BN gives a higher final test accuracy than no BN", claims);
        Assert.Contains("BN after ReLU (the notebook) does better than BN before ReLU (Ioffe and Szegedy's placement)", claims);
    }
}
