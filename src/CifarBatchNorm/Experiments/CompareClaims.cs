using System.Globalization;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// The notebook's and the papers' claims that a comparison can test, each on one primary endpoint named in advance,
/// paired by seed (for one seed every variant starts from the same weights and sees the same shuffles), with Holm's
/// correction over the claims of one report.
/// </summary>
/// <remarks>
/// Endpoints. Final test accuracy: the test accuracy after the last epoch; paired t-test on the per-seed differences
/// (with the exact sign-flip test beside it); runs that diverged are left out of the pairs and counted. Steps to the
/// training-loss target: the interpolated step at which the moving average of the per-step loss reached the target;
/// when every run of both variants reached it, the paired t-test on the differences; otherwise the exact Wilcoxon
/// signed-rank test with runs that never reached it (or diverged first) censored and ranked as the slowest.
/// Verdicts, on the Holm-adjusted p at 0.05: <c>supported</c> (the claimed direction), <c>opposite holds</c>;
/// otherwise <c>not shown</c> when the design could detect a meaningful difference (1 point of accuracy, or 10% of
/// the comparator's steps) with 80% power, else <c>inconclusive (underpowered)</c>; fewer than 3 seeds or
/// differences without spread are <c>not testable at n = ...</c>.
/// </remarks>
public static class CompareClaims
{
    /// <summary>The significance level of every verdict (after Holm's correction).</summary>
    public const double Alpha = 0.05;

    /// <summary>The smallest difference in accuracy the verdicts treat as meaningful (1 point).</summary>
    public const double MeaningfulAccuracy = 0.01;

    /// <summary>The smallest difference in steps the verdicts treat as meaningful, as a share of the comparator's mean steps.</summary>
    public const double MeaningfulStepsShare = 0.10;

    private enum Endpoint
    {
        FinalAccuracy,
        StepsToLossTarget,
    }

    private sealed record Spec(string Claim, string A, string B, Endpoint Endpoint, double LearningRate, int BatchSize);

    /// <summary>The claims <paramref name="result"/> can test, in report order, with their verdicts after Holm's correction.</summary>
    public static IReadOnlyList<ClaimResult> Evaluate(CompareResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var specs = Specs(result);
        var claims = specs.Select(s => Test(result, s)).ToList();
        double[] holm = Statistics.Holm(claims.Select(c => c.PValue).ToList());
        return claims.Select((c, i) => Decide(c with { HolmPValue = holm[i] }, result, specs[i])).ToList();
    }

    private static List<Spec> Specs(CompareResult result)
    {
        var c = result.Config;
        var variants = c.Variants.Select(ModelPresets.VariantName).ToHashSet(StringComparer.Ordinal);
        double lr = c.GridLearningRates[0];
        int batch = c.GridBatchSizes[0];
        var specs = new List<Spec>();
        bool Has(params string[] names) => names.All(variants.Contains);
        if (Has("bn", "none"))
        {
            foreach (double rate in c.GridLearningRates)
            {
                specs.Add(new Spec(rate == lr ? "BN makes training faster" : F($"BN makes training faster at the higher learning rate {rate:G3} (where no-BN may stall or diverge)"),
                    "bn", "none", Endpoint.StepsToLossTarget, rate, batch));
            }

            specs.Add(new Spec("BN gives a higher final test accuracy", "bn", "none", Endpoint.FinalAccuracy, lr, batch));
        }

        if (Has("bn-m09", "bn"))
        {
            specs.Add(new Spec("The moving-statistics lag lowers BN's test accuracy (BN momentum 0.9 beats 0.99)", "bn-m09", "bn", Endpoint.FinalAccuracy, lr, batch));
        }

        if (Has("bn-m09", "none"))
        {
            specs.Add(new Spec("Without the lag (BN momentum 0.9), BN gives a higher final test accuracy than no BN", "bn-m09", "none", Endpoint.FinalAccuracy, lr, batch));
        }

        if (Has("bn", "bn-before-relu"))
        {
            specs.Add(new Spec("BN after ReLU (the notebook) does better than BN before ReLU (Ioffe and Szegedy's placement)", "bn", "bn-before-relu", Endpoint.FinalAccuracy, lr, batch));
        }

        if (Has("renorm", "bn"))
        {
            foreach (int size in c.GridBatchSizes)
            {
                specs.Add(new Spec(F($"Batch Renormalization does better than BN (batch {size}, {SamplingName(c.Training.BatchSampling)} batches)"), "renorm", "bn", Endpoint.FinalAccuracy, lr, size));
            }
        }

        return specs;
    }

    private static ClaimResult Test(CompareResult result, Spec spec)
    {
        string cell = F($"learning rate {spec.LearningRate:G3}, batch {spec.BatchSize}");
        var seeds = result.Config.Cells().Where(g => g.LearningRate == spec.LearningRate && g.BatchSize == spec.BatchSize).Select(g => g.Seed).Distinct().ToList();
        RunOutcome? Outcome(string variant, int seed) =>
            result.Runs.FirstOrDefault(o => o.Variant == variant && o.Seed == seed && o.LearningRate == spec.LearningRate && o.BatchSize == spec.BatchSize);
        List<EpochResult> Epochs(string variant, int seed) => result.Epochs
            .Where(e => e.Variant == variant && e.Seed == seed && e.LearningRate == spec.LearningRate && e.BatchSize == spec.BatchSize)
            .OrderBy(e => e.Epoch).ToList();
        var present = seeds.Where(s => Outcome(spec.A, s) is not null && Outcome(spec.B, s) is not null).ToList();
        int divergedA = present.Count(s => Outcome(spec.A, s)!.Diverged), divergedB = present.Count(s => Outcome(spec.B, s)!.Diverged);
        string diverged = F($"diverged: {spec.A} {divergedA} of {present.Count}, {spec.B} {divergedB} of {present.Count}");

        if (spec.Endpoint == Endpoint.StepsToLossTarget)
        {
            string endpoint = F($"steps until the moving average of the per-step training loss (half-life {result.Config.LossHalfLifeSteps:0.#} steps) reaches {result.Config.LossTarget:0.###}, {spec.A} vs {spec.B}, {cell}");
            var a = present.Select(s => Outcome(spec.A, s)!.StepsToLossTarget).ToList();
            var b = present.Select(s => Outcome(spec.B, s)!.StepsToLossTarget).ToList();
            if (present.Count > 0 && present.All(s => Outcome(spec.A, s)!.LossCurve is null && Outcome(spec.B, s)!.LossCurve is null))
            {
                const string noCurve = "not testable: these results were written before the per-step loss was recorded";
                return new ClaimResult
                {
                    Claim = spec.Claim, Endpoint = endpoint, Test = "none", Effect = "no per-step loss curve", Pairs = present.Count,
                    NotTestable = noCurve, Detail = noCurve,
                };
            }

            string reached = F($"reached: {spec.A} {a.Count(x => x is not null)} of {present.Count}, {spec.B} {b.Count(x => x is not null)} of {present.Count}; {diverged}");
            if (present.Count > 0 && a.All(x => x is not null) && b.All(x => x is not null))
            {
                var paired = Statistics.Paired(a.Select(x => x!.Value).ToList(), b.Select(x => x!.Value).ToList());
                double mdd = Statistics.MinimumDetectableDifference(paired.SdDifference, paired.Pairs);
                return new ClaimResult
                {
                    Claim = spec.Claim, Endpoint = endpoint, Test = "paired t-test (every run reached the target)", Pairs = paired.Pairs,
                    Effect = F($"{spec.A} - {spec.B} = {paired.MeanDifference:+0;-0;0} steps ± {Num(paired.Ci95, "0")} (95% CI), mean {spec.B} {b.Average(x => x!.Value):0}"),
                    PValue = paired.TPValue, ClaimedDirection = paired.MeanDifference == 0 ? null : paired.MeanDifference < 0, MinimumDetectableDifference = mdd, NotTestable = paired.NotTestable,
                    Detail = F($"{paired.NotTestable ?? ""}{(paired.NotTestable is null ? "" : "; ")}exact sign-flip p = {P(paired.SignFlipPValue)}; smallest difference detectable at 80% power: {Num(mdd, "0")} steps; {reached}"),
                };
            }

            var censored = Statistics.CensoredPaired(a, b);
            return new ClaimResult
            {
                Claim = spec.Claim, Endpoint = endpoint, Pairs = censored.Pairs,
                Test = "exact Wilcoxon signed-rank test, runs that never reached the target (or diverged first) censored and ranked slowest",
                Effect = F($"{spec.A} first in {censored.AFirst} of {censored.Pairs} seeds, {spec.B} first in {censored.BFirst}"),
                PValue = censored.PValue, ClaimedDirection = censored.SignedRankSum == 0 ? null : censored.SignedRankSum < 0, UntiedPairs = censored.Untied, NotTestable = censored.NotTestable,
                Detail = F($"{censored.NotTestable ?? ""}{(censored.NotTestable is null ? "" : "; ")}{reached}; smallest p attainable with {censored.Untied} untied pairs: {P(MinimumExactP(censored.Untied))}"),
            };
        }

        var kept = present.Where(s => !Outcome(spec.A, s)!.Diverged && !Outcome(spec.B, s)!.Diverged && Epochs(spec.A, s).Count > 0 && Epochs(spec.B, s).Count > 0).ToList();
        double[] finalA = kept.Select(s => Epochs(spec.A, s)[^1].TestAccuracyOrValidation).ToArray();
        double[] finalB = kept.Select(s => Epochs(spec.B, s)[^1].TestAccuracyOrValidation).ToArray();
        var test = Statistics.Paired(finalA, finalB);
        double detectable = Statistics.MinimumDetectableDifference(test.SdDifference, test.Pairs);
        int epochs = kept.Count == 0 ? 0 : kept.Min(s => Math.Min(Epochs(spec.A, s).Count, Epochs(spec.B, s).Count));
        var perEpoch = Enumerable.Range(1, epochs).Select(epoch =>
        {
            double[] x = kept.Select(s => Epochs(spec.A, s)[epoch - 1].TestAccuracyOrValidation).ToArray();
            double[] y = kept.Select(s => Epochs(spec.B, s)[epoch - 1].TestAccuracyOrValidation).ToArray();
            return new EpochContrast(epoch, Statistics.Paired(x, y), x.Where((v, i) => v > y[i]).Count());
        }).ToList();
        return new ClaimResult
        {
            Claim = spec.Claim,
            Endpoint = F($"test accuracy after the last epoch ({result.Config.Training.Epochs}), {spec.A} vs {spec.B}, {cell}"),
            Test = "paired t-test", Pairs = test.Pairs,
            Effect = F($"{spec.A} - {spec.B} = {test.MeanDifference:+0.0000;-0.0000;0.0000} ± {Num(test.Ci95, "0.0000")} (95% CI); {spec.A} higher in {finalA.Where((v, i) => v > finalB[i]).Count()} of {test.Pairs} seeds"),
            PValue = test.TPValue, ClaimedDirection = test.MeanDifference == 0 ? null : test.MeanDifference > 0, MinimumDetectableDifference = detectable, NotTestable = test.NotTestable,
            Detail = F($"{test.NotTestable ?? ""}{(test.NotTestable is null ? "" : "; ")}exact sign-flip p = {P(test.SignFlipPValue)}; smallest difference detectable at 80% power: {Num(detectable, "0.0000")}; {diverged} (left out)"),
            PerEpoch = perEpoch,
            StoppingEpochNote = StoppingNote(perEpoch, spec),
        };
    }

    private static ClaimResult Decide(ClaimResult claim, CompareResult result, Spec spec)
    {
        string verdict;
        if (double.IsNaN(claim.PValue))
        {
            verdict = claim.NotTestable ?? F($"not testable at n = {claim.Pairs}");
        }
        else if (claim.HolmPValue < Alpha)
        {
            verdict = claim.ClaimedDirection == true ? "supported" : "opposite holds";
        }
        else
        {
            verdict = Powered(claim, result, spec) ? "not shown" : "inconclusive (underpowered)";
        }

        return claim with { Verdict = verdict };
    }

    /// <summary>Whether the design could detect a meaningful difference with 80% power (paired t), or reach significance at all (the exact rank test).</summary>
    private static bool Powered(ClaimResult claim, CompareResult result, Spec spec)
    {
        if (claim.UntiedPairs == 0)
        {
            double meaningful = spec.Endpoint == Endpoint.FinalAccuracy
                ? MeaningfulAccuracy
                : MeaningfulStepsShare * result.Runs.Where(o => o.Variant == spec.B && o.LearningRate == spec.LearningRate && o.BatchSize == spec.BatchSize && o.StepsToLossTarget is not null)
                    .Select(o => o.StepsToLossTarget!.Value).DefaultIfEmpty(double.NaN).Average();
            return claim.MinimumDetectableDifference <= meaningful;
        }

        return MinimumExactP(claim.UntiedPairs) < Alpha;
    }

    /// <summary>The smallest two-sided p an exact sign-flip test of <paramref name="pairs"/> pairs can give: 2 / 2^n.</summary>
    public static double MinimumExactP(int pairs) => pairs < 1 ? double.NaN : Math.Min(1, 2 / Math.Pow(2, pairs));

    private static string StoppingNote(IReadOnlyList<EpochContrast> perEpoch, Spec spec)
    {
        var significant = perEpoch.Where(e => e.Test.TPValue < Alpha).ToList();
        var aBetter = significant.Where(e => e.Test.MeanDifference > 0).Select(e => e.Epoch).ToList();
        var bBetter = significant.Where(e => e.Test.MeanDifference < 0).Select(e => e.Epoch).ToList();
        var last = perEpoch.Count > 0 ? perEpoch[^1] : null;
        bool lastSignificant = last is not null && last.Test.TPValue < Alpha;
        if (aBetter.Count == 0 && bBetter.Count == 0)
        {
            return "";
        }

        if ((aBetter.Count > 0 && bBetter.Count > 0) || !lastSignificant)
        {
            string Side(string who, List<int> at) => at.Count == 0 ? "" : F($"{who} higher after epoch(s) {string.Join(", ", at)}");
            return "The verdict depends on when training stops: " + string.Join("; ", new[] { Side(spec.A, aBetter), Side(spec.B, bBetter) }.Where(t => t.Length > 0))
                + " (paired t, p < 0.05 at that epoch, uncorrected).";
        }

        return "";
    }

    private static string SamplingName(Training.BatchSampling sampling) => sampling == Training.BatchSampling.Iid ? "i.i.d." : "non-i.i.d.";

    /// <summary>A p-value as reports print it: <c>&lt;0.001</c>, three decimals, or <c>-</c> when not testable.</summary>
    public static string P(double p) => double.IsNaN(p) ? "-" : p < 0.001 ? "<0.001" : p.ToString("0.000", CultureInfo.InvariantCulture);

    private static string Num(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
