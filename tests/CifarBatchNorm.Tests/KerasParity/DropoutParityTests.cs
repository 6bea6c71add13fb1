using CifarBatchNorm.Layers;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.KerasParity;

/// <summary>keras-team/keras keras/src/layers/regularization/dropout_test.py, ported.</summary>
public sealed class DropoutParityTests
{
    private static Dropout Built(double rate)
    {
        var layer = new Dropout(rate);
        layer.Build(new LayerShape(500));
        return layer;
    }

    // ::DropoutTest.test_dropout_rescaling
    [Fact]
    public void Dropout_rescaling()
    {
        using var scope = NewDisposeScope();
        manual_seed(1337);
        using var layer = Built(0.5);
        layer.train();

        var outputs = layer.call(ones(20, 500));

        Assert.Equal(1.0, outputs.mean().item<float>(), 0.02);
        Assert.Equal(2.0, outputs.max().item<float>(), 6);
        Assert.Equal(0.0, outputs.min().item<float>(), 6);
    }

    [Fact]
    public void Dropout_is_the_identity_at_inference_and_repeats_with_the_seed()
    {
        using var scope = NewDisposeScope();
        using var layer = Built(0.3);
        var x = randn(8, 500);
        layer.eval();
        Assert.True(layer.call(x).eq(x).all().item<bool>());

        layer.train();
        manual_seed(4);
        var a = layer.call(x);
        manual_seed(4);
        var b = layer.call(x);
        Assert.True(a.eq(b).all().item<bool>());
        Assert.False(a.eq(x).all().item<bool>());
    }

    // ::DropoutTest.test_dropout_negative_rate and ::test_dropout_rate_greater_than_one
    [Theory]
    [InlineData(-0.5)]
    [InlineData(1.5)]
    public void Dropout_rate_outside_zero_one_is_refused(double rate)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(rate));
        Assert.Equal("rate", error.ParamName);
        Assert.Contains(rate.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }
}
