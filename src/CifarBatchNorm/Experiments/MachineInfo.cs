using System.Runtime.InteropServices;

namespace CifarBatchNorm.Experiments;

/// <summary>One line describing the machine, for run records and reports.</summary>
internal static class MachineInfo
{
    /// <summary>OS, CPU model, cores and the TorchSharp version, e.g. <c>Linux x64, AMD EPYC ..., 2 cores, TorchSharp 0.107.0</c>.</summary>
    public static string Describe()
    {
        string torchSharp = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(3) ?? "unknown";
        return $"{OsName()} {RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}, {CpuModel()}, "
            + $"{Environment.ProcessorCount} cores, .NET {Environment.Version}, TorchSharp {torchSharp}";
    }

    private static string OsName() =>
        OperatingSystem.IsLinux() ? "Linux" : OperatingSystem.IsWindows() ? "Windows" : OperatingSystem.IsMacOS() ? "macOS" : RuntimeInformation.OSDescription;

    /// <summary>The CPU model: <c>/proc/cpuinfo</c> "model name" on Linux, else the processor architecture.</summary>
    public static string CpuModel()
    {
        const string cpuInfo = "/proc/cpuinfo";
        if (File.Exists(cpuInfo))
        {
            string? line = File.ReadLines(cpuInfo).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null)
            {
                return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
            }
        }

        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
