using System.Globalization;
using CifarBatchNorm.Experiments;

namespace CifarBatchNorm.Reporting;

/// <summary>
/// The numbers of an <c>analyze</c> report: per-step aggregates over seeds for the plots, and per-phase seed means and
/// paired counts for the tables. Training is split into two halves by step (early and late) because the landscape
/// differences of one seed held only in early training; each phase's value of a run is the mean over its probes.
/// </summary>
internal static class AnalysisSummary
{
    /// <summary>A range of training steps, both ends included.</summary>
    internal sealed record Phase(string Name, int First, int Last)
    {
        public bool Contains(int step) => step >= First && step <= Last;

        public string Label => string.Create(CultureInfo.InvariantCulture, $"{Name} (steps {First:N0}-{Last:N0})");
    }

    /// <summary>Mean over seeds and the seeds' range of one value, at one step or in one phase.</summary>
    internal sealed record Spread(double Mean, double Min, double Max, int Seeds)
    {
        public string Format(string format) => Seeds < 2
            ? Mean.ToString(format, CultureInfo.InvariantCulture)
            : string.Create(CultureInfo.InvariantCulture, $"{Mean.ToString(format, CultureInfo.InvariantCulture)} ({Min.ToString(format, CultureInfo.InvariantCulture)}-{Max.ToString(format, CultureInfo.InvariantCulture)})");
    }

    /// <summary>How often one variant's value is below a reference's, paired by seed (phase means) and by seed and step (probes).</summary>
    internal sealed record Below(int Seeds, int OfSeeds, int Probes, int OfProbes)
    {
        public string SeedsText => string.Create(CultureInfo.InvariantCulture, $"{Seeds} of {OfSeeds}");

        public string ProbesText => string.Create(CultureInfo.InvariantCulture, $"{Probes} of {OfProbes}");
    }

    /// <summary>The early and late halves of training, by the probed steps (none when nothing was probed).</summary>
    public static IReadOnlyList<Phase> Phases(AnalyzeResult result)
    {
        int last = result.Landscape.Values.SelectMany(p => p).Select(p => p.Step).DefaultIfEmpty(0).Max();
        if (last == 0)
        {
            return [];
        }

        int half = Math.Max(1, last / 2);
        return half >= last ? [new Phase("all", 1, last)] : [new Phase("early", 1, half), new Phase("late", half + 1, last)];
    }

    /// <summary>The seeds measured, in order.</summary>
    public static IReadOnlyList<int> Seeds(AnalyzeResult result)
    {
        var seeds = result.Landscape.Values.SelectMany(p => p).Select(p => p.Seed).Distinct().Order().ToArray();
        return seeds.Length > 0 ? seeds : [result.Config.Training.Seed];
    }

    /// <summary>Per step: the mean over seeds of <paramref name="value"/>, and the lowest <paramref name="low"/> and highest <paramref name="high"/> over seeds.</summary>
    public static (double[] Steps, double[] Mean, double[] Low, double[] High) PerStep<T>(IEnumerable<T> points, Func<T, int> step,
        Func<T, double> value, Func<T, double> low, Func<T, double> high)
    {
        var groups = points.GroupBy(step).OrderBy(g => g.Key).ToArray();
        return (groups.Select(g => (double)g.Key).ToArray(), groups.Select(g => g.Average(value)).ToArray(),
            groups.Select(g => g.Min(low)).ToArray(), groups.Select(g => g.Max(high)).ToArray());
    }

    /// <summary>Each seed's mean of <paramref name="value"/> over its probes in <paramref name="phase"/>, by seed.</summary>
    public static IReadOnlyDictionary<int, double> SeedMeans<T>(IEnumerable<T> points, Phase phase, Func<T, int> step, Func<T, int> seed, Func<T, double> value) =>
        points.Where(p => phase.Contains(step(p))).GroupBy(seed).ToDictionary(g => g.Key, g => g.Average(value));

    /// <summary>The mean over seeds and the seeds' range of <paramref name="bySeed"/>, or <c>null</c> when it is empty.</summary>
    public static Spread? Of(IReadOnlyDictionary<int, double> bySeed) =>
        bySeed.Count == 0 ? null : new Spread(bySeed.Values.Average(), bySeed.Values.Min(), bySeed.Values.Max(), bySeed.Count);

    /// <summary>
    /// In how many seeds the phase mean of <paramref name="variant"/> is below <paramref name="reference"/>'s, and at
    /// how many probes (same seed and step in both) its value is.
    /// </summary>
    public static Below CountBelow<T>(IEnumerable<T> variant, IEnumerable<T> reference, Phase phase, Func<T, int> step, Func<T, int> seed, Func<T, double> value)
    {
        var mine = SeedMeans(variant, phase, step, seed, value);
        var theirs = SeedMeans(reference, phase, step, seed, value);
        var common = mine.Keys.Intersect(theirs.Keys).ToArray();
        var probes = reference.Where(p => phase.Contains(step(p))).ToDictionary(p => (seed(p), step(p)), value);
        var pairs = variant.Where(p => phase.Contains(step(p)) && probes.ContainsKey((seed(p), step(p))))
            .Select(p => value(p) < probes[(seed(p), step(p))]).ToArray();
        return new Below(common.Count(s => mine[s] < theirs[s]), common.Length, pairs.Count(b => b), pairs.Length);
    }
}
