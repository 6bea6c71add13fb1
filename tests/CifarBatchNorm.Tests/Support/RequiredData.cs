
namespace CifarBatchNorm.Tests.Support;

/// <summary>
/// What a test needs from the machine (the real Fashion-MNIST, jemalloc). Missing on a fresh machine: the test is
/// skipped with the reason and the install command. CI sets <c>CIFAR_BATCHNORM_REQUIRE_DATA=1</c> (in <c>.ci/run</c>),
/// which turns such a skip into a failure, so nothing is skipped silently there.
/// </summary>
internal static class RequiredData
{
    /// <summary>The variable that makes missing requirements fail instead of skip.</summary>
    public const string RequireVariable = "CIFAR_BATCHNORM_REQUIRE_DATA";

    /// <summary>Skips (or fails under CI) unless Debian's <c>dataset-fashion-mnist</c> is installed.</summary>
    public static void FashionMnist()
    {
        string folder = global::CifarBatchNorm.Data.FashionMnist.DebianDirectory;
        Require(global::CifarBatchNorm.Data.FashionMnist.IsPresent(folder),
            $"the real Fashion-MNIST is not in {folder}; install it with: apt-get install dataset-fashion-mnist");
    }

    /// <summary>Skips (or fails under CI) unless jemalloc is installed.</summary>
    public static void Jemalloc() =>
        Require(Directory.EnumerateFiles("/usr/lib", "libjemalloc.so.2", SearchOption.AllDirectories).Any(),
            "jemalloc is not installed; install it with: apt-get install libjemalloc2");

    /// <summary>Skips (or fails under CI) unless <paramref name="present"/>; <paramref name="reason"/> names the install command.</summary>
    internal static void Require(bool present, string reason)
    {
        if (present)
        {
            return;
        }

        Assert.False(Environment.GetEnvironmentVariable(RequireVariable) == "1", $"{reason} ({RequireVariable}=1 makes this a failure)");
        Skip.If(true, reason);
    }
}
