using System.Globalization;

namespace CifarBatchNorm.Runtime;

/// <summary>How many cores other processes keep busy, from two readings of <c>/proc/stat</c> (Linux).</summary>
internal static class CpuLoad
{
    /// <summary>
    /// Samples the machine's busy time and this process's own CPU time over <paramref name="window"/> and returns the
    /// number of cores that other processes kept busy (0 to the core count), or <c>null</c> where it cannot be read.
    /// </summary>
    public static double? OthersBusyCores(TimeSpan window)
    {
        if (Read() is not { } before)
        {
            return null;
        }

        Thread.Sleep(window);
        return Read() is { } after ? OthersBusyCores(before, after) : null;
    }

    /// <summary>Busy cores of other processes between two samples (clock ticks, as in <c>/proc</c>).</summary>
    internal static double OthersBusyCores(Sample before, Sample after)
    {
        double total = after.Total - before.Total;
        if (total <= 0)
        {
            return 0;
        }

        double busy = (after.Total - after.Idle) - (before.Total - before.Idle);
        double own = after.Self - before.Self;
        return Math.Clamp((busy - own) / total * after.Cores, 0, after.Cores);
    }

    /// <summary>Parses the aggregate <c>cpu</c> line of <c>/proc/stat</c>: (total ticks, idle + iowait ticks).</summary>
    internal static (long Total, long Idle) ParseStat(string cpuLine)
    {
        long[] fields = [.. cpuLine.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(f => long.Parse(f, CultureInfo.InvariantCulture))];
        return (fields.Sum(), fields[3] + fields[4]);
    }

    /// <summary>utime + stime of <c>/proc/self/stat</c> (fields 14 and 15, counted after the parenthesised name).</summary>
    internal static long ParseSelf(string selfStat)
    {
        string[] rest = selfStat[(selfStat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(rest[11], CultureInfo.InvariantCulture) + long.Parse(rest[12], CultureInfo.InvariantCulture);
    }

    private static Sample? Read()
    {
        try
        {
            string[] lines = File.ReadAllLines("/proc/stat");
            var (total, idle) = ParseStat(lines[0]);
            int cores = lines.Count(l => l.Length > 3 && l.StartsWith("cpu", StringComparison.Ordinal) && char.IsAsciiDigit(l[3]));
            return new Sample(total, idle, ParseSelf(File.ReadAllText("/proc/self/stat")), Math.Max(cores, 1));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>One reading: machine ticks (all cores), idle ticks, this process's ticks, and the machine's core count.</summary>
    internal readonly record struct Sample(long Total, long Idle, long Self, int Cores);
}
