using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Support;

/// <summary>Tensor comparisons against a float64 oracle.</summary>
internal static class TensorAssert
{
    /// <summary>Asserts |actual - expected| &lt;= 1e-4 * max(1, max|expected|) everywhere.</summary>
    public static void CloseToFloat64(Tensor expected, Tensor actual)
    {
        var difference = (actual.to(ScalarType.Float64) - expected).abs().max().item<double>();
        var scale = expected.abs().max().item<double>();
        Assert.True(difference <= 1e-4 * Math.Max(1, scale), $"max difference {difference} (scale {scale})");
    }
}
