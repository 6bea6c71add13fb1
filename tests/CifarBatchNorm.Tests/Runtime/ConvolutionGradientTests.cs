using CifarBatchNorm.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Runtime;

/// <summary>
/// On AVX-512 CPUs TorchSharp 0.107's bundled oneDNN computes wrong (sometimes NaN) convolution input gradients;
/// TorchRuntime caps it at AVX2. This test compares float32 convolutions with float64 ones, which libtorch computes
/// without oneDNN. Run it with ONEDNN_MAX_CPU_ISA=AVX512_CORE_AMX (or ALL) on such a CPU to see it fail.
/// </summary>
public sealed class ConvolutionGradientTests
{
    public static TheoryData<int, int, int, int> Shapes => new()
    {
        { 16, 3, 8, 32 },
        { 16, 8, 8, 32 },
        { 8, 8, 16, 16 },
        { 4, 16, 16, 16 },
        { 32, 3, 8, 32 },
    };

    [Fact]
    public void The_runtime_caps_onednn_at_avx2_unless_the_user_chose()
    {
        var settings = TorchRuntime.Initialize();

        Assert.Equal(Environment.GetEnvironmentVariable(TorchRuntime.OneDnnIsaVariable), settings.OneDnnMaxIsa);
        Assert.False(string.IsNullOrEmpty(settings.OneDnnMaxIsa));
        Assert.Equal(Environment.ProcessorCount, settings.Threads);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float32_convolution_forward_and_gradients_match_float64(int batch, int inChannels, int outChannels, int size)
    {
        using var scope = NewDisposeScope();
        manual_seed(batch * 1000 + inChannels * 10 + outChannels);
        var x64 = rand(batch, inChannels, size, size, dtype: ScalarType.Float64).requires_grad_(true);
        var w64 = (randn(outChannels, inChannels, 3, 3, dtype: ScalarType.Float64) * 0.2).requires_grad_(true);
        var upstream64 = randn(batch, outChannels, size, size, dtype: ScalarType.Float64);
        var x32 = x64.detach().to(ScalarType.Float32).requires_grad_(true);
        var w32 = w64.detach().to(ScalarType.Float32).requires_grad_(true);

        var y64 = nn.functional.conv2d(x64, w64, padding: [1, 1]);
        var y32 = nn.functional.conv2d(x32, w32, padding: [1, 1]);
        (y64 * upstream64).sum().backward();
        (y32 * upstream64.to(ScalarType.Float32)).sum().backward();

        AssertClose(y64, y32, "forward");
        AssertClose(x64.grad!, x32.grad!, "input gradient");
        AssertClose(w64.grad!, w32.grad!, "weight gradient");
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        var actual64 = actual.to(ScalarType.Float64);
        Assert.False(actual64.isnan().any().item<bool>(), $"{what} has NaN");
        double scale = expected.abs().max().item<double>();
        double error = (expected - actual64).abs().max().item<double>();
        Assert.True(error <= 1e-4 * scale, $"{what}: max error {error:E3} for values up to {scale:E3}");
    }
}
