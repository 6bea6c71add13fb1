using System.Globalization;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// What <see cref="CompareRunner.Merge"/> checks before joining shards: every folder is a shard of one sweep (the same
/// config, the same data, the same shard count), each shard is given once, and together their runs cover every cell
/// of the grid exactly once, each in the shard that <see cref="ShardSpec"/> deals it to. Each failure is one line.
/// </summary>
internal static class ShardMergeCheck
{
    /// <summary>Throws unless <paramref name="shards"/> are all the shards of one sweep; returns the sweep's unsharded config.</summary>
    /// <exception cref="ArgumentException">A shard is from another sweep, given twice, missing, or its runs do not match its cells.</exception>
    public static CompareConfig Validate(IReadOnlyList<(string Dir, CompareResult Result)> shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        var (firstDir, first) = shards[0];
        var unsharded = first.Config with { Shard = null };
        foreach (var (dir, result) in shards)
        {
            var shard = result.Config.Shard
                ?? throw Fail($"{dir} holds an unsharded comparison; merge takes the folders of sharded runs (CompareConfig.Shard).");
            if (first.Config.Shard is { } expected && shard.Count != expected.Count)
            {
                throw Fail($"{dir} is shard {shard} of a sweep in {shard.Count} shards, {firstDir} of one in {expected.Count}; merge only shards of one sweep.");
            }

            if (!SameJson(result.Config with { Shard = null }, unsharded))
            {
                throw Fail($"{dir} ran another configuration than {firstDir}; merge only shards of one sweep.");
            }

            if (result.DatasetName != first.DatasetName || !result.ClassNames.SequenceEqual(first.ClassNames, StringComparer.Ordinal))
            {
                throw Fail($"{dir} trained on {Describe(result)}, {firstDir} on {Describe(first)}; merge only shards of one sweep, trained on the same data.");
            }
        }

        int count = first.Config.Shard!.Count;
        var byIndex = shards.GroupBy(s => s.Result.Config.Shard!.Index).ToDictionary(g => g.Key, g => g.Select(s => s.Dir).ToList());
        if (byIndex.FirstOrDefault(kv => kv.Value.Count > 1) is { Value: not null } twice)
        {
            throw Fail($"shard {twice.Key}/{count} is given twice ({string.Join(", ", twice.Value)}).");
        }

        var missingShards = Enumerable.Range(1, count).Where(k => !byIndex.ContainsKey(k)).ToList();
        if (missingShards.Count > 0)
        {
            throw Fail($"shard(s) {string.Join(", ", missingShards.Select(k => $"{k}/{count}"))} missing; merge needs all {count}.");
        }

        CheckCells(unsharded, shards);
        return unsharded;
    }

    /// <summary>Every cell of the grid has exactly one run, in the shard it belongs to.</summary>
    private static void CheckCells(CompareConfig unsharded, IReadOnlyList<(string Dir, CompareResult Result)> shards)
    {
        var cells = unsharded.Cells().ToList();
        var seen = new Dictionary<(string, int, double, int), string>();
        foreach (var (dir, result) in shards)
        {
            var shard = result.Config.Shard!;
            var mine = cells.Where(c => shard.Contains(c.Index)).Select(Key).ToHashSet();
            foreach (var run in result.Runs)
            {
                var key = (run.Variant, run.Seed, run.LearningRate, run.BatchSize);
                if (!mine.Contains(key))
                {
                    throw Fail($"{dir} (shard {shard}) holds a run that is not one of its cells: {Name(key)}; it is damaged or from another sweep.");
                }

                if (!seen.TryAdd(key, dir))
                {
                    throw Fail($"the run {Name(key)} is in {seen[key]} and again in {dir}; each cell must be run once.");
                }
            }
        }

        var missing = cells.Select(Key).Where(k => !seen.ContainsKey(k)).ToList();
        if (missing.Count > 0)
        {
            throw Fail($"{missing.Count} of {cells.Count} cells have no run in the shards: {string.Join("; ", missing.Select(Name))}. Resume those shards to finish them, then merge again.");
        }
    }

    private static (string, int, double, int) Key(GridCell cell) => (ModelPresets.VariantName(cell.Variant), cell.Seed, cell.LearningRate, cell.BatchSize);

    private static string Name((string Variant, int Seed, double LearningRate, int BatchSize) cell) =>
        string.Create(CultureInfo.InvariantCulture, $"{cell.Variant} seed {cell.Seed} lr {cell.LearningRate:G3} batch {cell.BatchSize}");

    private static string Describe(CompareResult result) => $"{result.DatasetName} ({result.ClassNames.Count} classes)";

    private static bool SameJson(CompareConfig a, CompareConfig b) =>
        System.Text.Json.JsonSerializer.Serialize(a, RunFolder.Json) == System.Text.Json.JsonSerializer.Serialize(b, RunFolder.Json);

    private static ArgumentException Fail(string message) => new(message, "shardFolders");
}
