using CifarBatchNorm.Runtime;

namespace CifarBatchNorm.Cli;

/// <summary>The CLI's one place that puts the runtime settings in force, after the options are parsed and before the first torch call.</summary>
internal static class RuntimeStartup
{
    /// <summary>Applies <see cref="TorchRuntime.Initialize"/> with <paramref name="threads"/>; warns when more threads than cores are asked for.</summary>
    public static RuntimeSettings Initialize(int? threads, TextWriter stderr)
    {
        if (threads is int count && count > Environment.ProcessorCount)
        {
            stderr.WriteLine($"warning: --threads {count} is more than the {Environment.ProcessorCount} cores here; oversubscribed threads make every step slower.");
        }

        return TorchRuntime.Initialize(threads);
    }
}
