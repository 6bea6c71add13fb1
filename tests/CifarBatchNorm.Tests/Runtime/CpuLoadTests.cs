using CifarBatchNorm.Runtime;

namespace CifarBatchNorm.Tests.Runtime;

public sealed class CpuLoadTests
{
    [Fact]
    public void Parses_the_aggregate_cpu_line_counting_iowait_as_idle()
    {
        var (total, idle) = CpuLoad.ParseStat("cpu  100 5 50 800 40 3 2 0 0 0");

        Assert.Equal(1000, total);
        Assert.Equal(840, idle);
    }

    [Fact]
    public void Reads_utime_and_stime_after_a_process_name_with_spaces_and_parentheses()
    {
        const string stat = "4242 (my (odd) app) S 1 4242 4242 0 -1 4194560 1000 0 0 0 137 42 0 0 20 0 9 0 12345 0 0";

        Assert.Equal(179, CpuLoad.ParseSelf(stat));
    }

    [Fact]
    public void Counts_the_cores_other_processes_keep_busy_without_this_process()
    {
        // 2 cores, 200 ticks elapsed: 150 busy, of which this process used 50 -> others kept half the machine busy.
        var before = new CpuLoad.Sample(Total: 1000, Idle: 800, Self: 10, Cores: 2);
        var after = new CpuLoad.Sample(Total: 1200, Idle: 850, Self: 60, Cores: 2);

        Assert.Equal(1.0, CpuLoad.OthersBusyCores(before, after), precision: 6);
        Assert.Equal(0.0, CpuLoad.OthersBusyCores(before, before));
    }

    [Fact]
    public void Reads_this_machine()
    {
        Assert.True(OperatingSystem.IsLinux(), "reads /proc");

        double? busy = CpuLoad.OthersBusyCores(TimeSpan.FromMilliseconds(50));

        Assert.NotNull(busy);
        Assert.InRange(busy.Value, 0, Environment.ProcessorCount * 4);
    }

    [Theory]
    [InlineData(null, TorchRuntime.SpinThenSleep)]
    [InlineData(0.0, TorchRuntime.SpinThenSleep)]
    [InlineData(0.49, TorchRuntime.SpinThenSleep)]
    [InlineData(0.5, "PASSIVE")]
    [InlineData(1.7, "PASSIVE")]
    public void Idle_openmp_workers_sleep_at_once_only_when_other_processes_keep_half_a_core_busy(double? busy, string expected)
    {
        Assert.Equal(expected, TorchRuntime.WaitPolicyFor(busy));
    }
}
