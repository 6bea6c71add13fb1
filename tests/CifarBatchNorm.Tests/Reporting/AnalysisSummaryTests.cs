using CifarBatchNorm.Experiments;
using CifarBatchNorm.Reporting;

namespace CifarBatchNorm.Tests.Reporting;

/// <summary>The numbers of the analyze report's tables, against values worked out by hand.</summary>
public sealed class AnalysisSummaryTests
{
    private static LandscapePoint Point(int seed, int step, double beta) => new(step, 1, 0.5, 1.5, 0, beta, beta, 1) { Seed = seed };

    private static AnalyzeResult Result(IReadOnlyList<LandscapePoint> bn, IReadOnlyList<LandscapePoint> none) =>
        new(new AnalyzeConfig { Training = new TrainConfig { Dataset = DatasetKind.Synthetic } }, "", "", new Dictionary<string, IReadOnlyList<LandscapePoint>> { ["bn"] = bn, ["none"] = none },
            new Dictionary<string, IReadOnlyList<DriftPoint>>());

    [Fact]
    public void Training_splits_into_two_halves_by_the_last_probed_step()
    {
        var phases = AnalysisSummary.Phases(Result([Point(1, 50, 1), Point(1, 100, 1), Point(1, 2350, 1)], []));

        Assert.Equal([("early", 1, 1175), ("late", 1176, 2350)], phases.Select(p => (p.Name, p.First, p.Last)));
        Assert.Equal("early (steps 1-1,175)", phases[0].Label);
        Assert.Empty(AnalysisSummary.Phases(Result([], [])));
    }

    [Fact]
    public void Seed_means_their_spread_and_paired_counts_follow_the_definitions()
    {
        // Seeds 1 and 2, probes at steps 10 and 20 (early = 1-10, late = 11-20).
        LandscapePoint[] bn = [Point(1, 10, 1), Point(1, 20, 5), Point(2, 10, 3), Point(2, 20, 1)];
        LandscapePoint[] none = [Point(1, 10, 2), Point(1, 20, 4), Point(2, 10, 2), Point(2, 20, 6)];
        var late = AnalysisSummary.Phases(Result(bn, none))[1];

        var means = AnalysisSummary.SeedMeans(bn, late, p => p.Step, p => p.Seed, p => p.BetaSmoothness);
        var spread = AnalysisSummary.Of(means)!;
        var below = AnalysisSummary.CountBelow(bn, none, late, p => p.Step, p => p.Seed, p => p.BetaSmoothness);
        var all = new AnalysisSummary.Phase("all", 1, 20);
        var belowAll = AnalysisSummary.CountBelow(bn, none, all, p => p.Step, p => p.Seed, p => p.BetaSmoothness);

        Assert.Equal(new Dictionary<int, double> { [1] = 5, [2] = 1 }, means);
        Assert.Equal((3.0, 1.0, 5.0, 2), (spread.Mean, spread.Min, spread.Max, spread.Seeds));
        Assert.Equal("3.00 (1.00-5.00)", spread.Format("0.00"));
        Assert.Equal(("1 of 2", "1 of 2"), (below.SeedsText, below.ProbesText));
        // All steps: seed 1 means 3 vs 3 (not below), seed 2 means 2 vs 4 (below); probes: 1<2, 5>4, 3>2, 1<6.
        Assert.Equal((1, 2, 2, 4), (belowAll.Seeds, belowAll.OfSeeds, belowAll.Probes, belowAll.OfProbes));
    }

    [Fact]
    public void Per_step_aggregates_take_the_mean_and_the_extremes_over_seeds()
    {
        LandscapePoint[] points = [Point(1, 10, 1), Point(2, 10, 3), Point(3, 10, 8), Point(1, 20, 2)];

        var (steps, mean, low, high) = AnalysisSummary.PerStep(points, p => p.Step, p => p.BetaSmoothness, p => p.BetaSmoothness, p => p.BetaSmoothness);

        Assert.Equal([10.0, 20.0], steps);
        Assert.Equal([4.0, 2.0], mean);
        Assert.Equal([1.0, 2.0], low);
        Assert.Equal([8.0, 2.0], high);
    }
}
