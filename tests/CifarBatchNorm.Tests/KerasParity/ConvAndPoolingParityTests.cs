using CifarBatchNorm.Layers;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.KerasParity;

/// <summary>
/// Convolution and pooling as TensorFlow pads them. Keras's tensors are NHWC with HWIO kernels; here NCHW with OIHW
/// kernels: the tests permute, and compare with a float64 loop over the NHWC data (Keras's own numpy oracle, <c>np_conv2d</c>).
/// </summary>
public sealed class ConvAndPoolingParityTests
{
    /// <summary>TensorFlow's padding of one axis: output size and the padding before it.</summary>
    private static (int Output, int Before) TfPadding(int size, int window, int stride, bool same) =>
        same
            ? ((size + stride - 1) / stride, Math.Max((((size + stride - 1) / stride) - 1) * stride + window - size, 0) / 2)
            : (((size - window) / stride) + 1, 0);

    // keras-team/keras keras/src/ops/nn_test.py::NNOpsCorrectnessTest.test_conv_2d (strides 1 and 2, padding valid
    // and same): input arange(600) as (2, 10, 10, 3), kernel arange(24) as (2, 2, 3, 2): an even kernel.
    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(2, false)]
    [InlineData(2, true)]
    public void Conv_2d(int strides, bool same)
    {
        using var scope = NewDisposeScope();
        var layer = new Conv2D(2, 2, strides: strides, padding: same ? ConvPadding.Same : ConvPadding.Valid);
        var outputShape = layer.Build(new LayerShape(10, 10, 3));
        var inputNhwc = arange(600, dtype: ScalarType.Float64).reshape(2, 10, 10, 3);
        var kernelHwio = arange(24, dtype: ScalarType.Float64).reshape(2, 2, 3, 2);
        using (no_grad())
        {
            layer.Convolution.weight!.copy_(kernelHwio.permute(3, 2, 0, 1).to(ScalarType.Float32));
        }

        layer.eval();
        using var noGrad = no_grad();
        var actual = layer.call(inputNhwc.permute(0, 3, 1, 2).to(ScalarType.Float32)).permute(0, 2, 3, 1).to(ScalarType.Float64);

        var (outH, padTop) = TfPadding(10, 2, strides, same);
        var (outW, padLeft) = TfPadding(10, 2, strides, same);
        Assert.Equal(new LayerShape(outH, outW, 2), outputShape);
        Assert.Equal([2L, outH, outW, 2], actual.shape);
        double[] x = inputNhwc.data<double>().ToArray(), k = kernelHwio.data<double>().ToArray();
        for (int n = 0; n < 2; n++)
        {
            for (int i = 0; i < outH; i++)
            {
                for (int j = 0; j < outW; j++)
                {
                    for (int o = 0; o < 2; o++)
                    {
                        double sum = 0;
                        for (int di = 0; di < 2; di++)
                        {
                            for (int dj = 0; dj < 2; dj++)
                            {
                                int row = (i * strides) + di - padTop, col = (j * strides) + dj - padLeft;
                                if (row < 0 || row >= 10 || col < 0 || col >= 10)
                                {
                                    continue; // zero padding
                                }

                                for (int c = 0; c < 3; c++)
                                {
                                    sum += x[(((n * 10) + row) * 10 + col) * 3 + c] * k[(((di * 2) + dj) * 3 + c) * 2 + o];
                                }
                            }
                        }

                        double got = actual[n, i, j, o].item<double>();
                        Assert.True(Math.Abs(got - sum) <= 1e-6 * Math.Max(1, Math.Abs(sum)), $"[{n},{i},{j},{o}]: expected {sum}, got {got}");
                    }
                }
            }
        }
    }

    [Fact]
    public void Same_padding_with_an_even_kernel_builds_the_next_layers_for_the_real_size()
    {
        // The crash: Conv(kernel 4, 'same') -> Flatten -> Dense. TensorFlow pads 1 before and 2 after.
        using var scope = NewDisposeScope();
        using var model = new Sequential(new LayerShape(7, 7, 1));
        model.Add(new Conv2D(2, 4, strides: 2, padding: ConvPadding.Same)).Add(new Flatten()).Add(new Dense(3, ActivationFunction.Softmax));

        var y = model.call(randn(5, 1, 7, 7));

        Assert.Equal("(None, 4, 4, 2)", model.Layers[0].OutputShape.ToString());
        Assert.Equal([5L, 3L], y.shape);
    }

    // keras-team/keras keras/src/layers/pooling/max_pooling_test.py::MaxPoolingCorrectnessTest.test_max_pooling2d
    // (pool sizes 2 and 3, strides, padding valid and same; Keras compares with np_maxpool2d): same with a 2x2 window
    // on a 5x5 image pads one row and column at the bottom and right, which never win.
    [Theory]
    [InlineData(2, 1, false)]
    [InlineData(2, 2, true)]
    [InlineData(3, 2, true)]
    [InlineData(3, 1, false)]
    public void Max_pooling_2d(int pool, int strides, bool same)
    {
        using var scope = NewDisposeScope();
        var layer = new MaxPooling2D(pool, strides, same ? ConvPadding.Same : ConvPadding.Valid);
        var outputShape = layer.Build(new LayerShape(5, 5, 2));
        var input = -arange(50, dtype: ScalarType.Float32).reshape(1, 2, 5, 5);     // negative: padding must not win

        var actual = layer.call(input);

        var (outH, padTop) = TfPadding(5, pool, strides, same);
        Assert.Equal(new LayerShape(outH, outH, 2), outputShape);
        float[] x = input.data<float>().ToArray();
        for (int c = 0; c < 2; c++)
        {
            for (int i = 0; i < outH; i++)
            {
                for (int j = 0; j < outH; j++)
                {
                    float best = float.NegativeInfinity;
                    for (int di = 0; di < pool; di++)
                    {
                        for (int dj = 0; dj < pool; dj++)
                        {
                            int row = (i * strides) + di - padTop, col = (j * strides) + dj - padTop;
                            if (row >= 0 && row < 5 && col >= 0 && col < 5)
                            {
                                best = Math.Max(best, x[(c * 25) + (row * 5) + col]);
                            }
                        }
                    }

                    Assert.Equal(best, actual[0, c, i, j].item<float>());
                }
            }
        }
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(3, 0)]
    public void Bad_convolution_arguments_are_refused(int kernelSize, int strides)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2D(4, kernelSize, strides));
        Assert.Equal(kernelSize == 0 ? "kernelSize" : "strides", error.ParamName);
        Assert.Equal("padding", Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2D(4, 3, padding: (ConvPadding)7)).ParamName);
    }
}
