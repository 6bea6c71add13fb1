using CifarBatchNorm.Training;
using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using Adam = CifarBatchNorm.Training.Adam;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Training;

public sealed class AdamTests
{
    [Fact]
    public void The_first_steps_follow_the_keras_formula_computed_by_hand()
    {
        using var scope = NewDisposeScope();
        var w = new Parameter(tensor(new[] { 0.5f, -1.0f, 2.0f }));
        var adam = new Adam(learningRate: 0.01);
        adam.Bind([w]);
        double[] weights = [0.5, -1.0, 2.0], m = new double[3], v = new double[3];
        double[][] gradients = [[0.1, -0.2, 0.3], [0.05, 0.4, -0.1], [-0.3, 0.0, 0.2]];

        for (int t = 1; t <= 3; t++)
        {
            w.grad = tensor(gradients[t - 1].Select(g => (float)g).ToArray());
            adam.Step();
            double alpha = 0.01 * Math.Sqrt(1 - Math.Pow(0.999, t)) / (1 - Math.Pow(0.9, t));
            for (int i = 0; i < 3; i++)
            {
                double g = gradients[t - 1][i];
                m[i] = (0.9 * m[i]) + (0.1 * g);
                v[i] = (0.999 * v[i]) + (0.001 * g * g);
                weights[i] -= alpha * m[i] / (Math.Sqrt(v[i]) + 1e-7);
            }

            var actual = w.data<float>().ToArray();
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(weights[i], actual[i], 5);
            }
        }

        Assert.Equal(3, adam.Iterations);
    }

    [Fact]
    public void Epsilon_sits_where_keras_puts_it_not_where_pytorch_does()
    {
        using var scope = NewDisposeScope();
        var keras = new Parameter(zeros(1));
        var torchSide = new Parameter(zeros(1));
        var adam = new Adam(learningRate: 1.0, epsilon: 1e-3);
        adam.Bind([keras]);
        var pytorch = optim.Adam([torchSide], lr: 1.0, eps: 1e-3);

        keras.grad = tensor(new[] { 1e-3f });
        torchSide.grad = tensor(new[] { 1e-3f });
        adam.Step();
        pytorch.step();

        // Keras: alpha_1 = sqrt(0.001) / 0.1; m = 1e-4; sqrt(v) = sqrt(1e-9) -> -0.3162 * 1e-4 / (3.16e-5 + 1e-3)
        double expected = -(Math.Sqrt(0.001) / 0.1) * 1e-4 / (Math.Sqrt(1e-9) + 1e-3);
        Assert.Equal(expected, keras.item<float>(), 4);
        Assert.Equal(-0.5, torchSide.item<float>(), 3);      // PyTorch: 1e-3 / (1e-3 + 1e-3)
    }

    [Fact]
    public void Bad_hyper_parameters_name_the_argument()
    {
        Assert.Equal("value", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(learningRate: 0)).ParamName);
        Assert.Equal("beta1", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta1: 1)).ParamName);
        Assert.Equal("beta2", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta2: -0.1)).ParamName);
        Assert.Equal("epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(epsilon: 0)).ParamName);
        Assert.Throws<InvalidOperationException>(() => new Adam().Step());
    }

    [Fact]
    public void Saved_state_continues_bit_for_bit()
    {
        using var scope = NewDisposeScope();
        var a = new Parameter(tensor(new[] { 1f, 2f }));
        var b = new Parameter(tensor(new[] { 1f, 2f }));
        var first = new Adam();
        first.Bind([a]);
        a.grad = tensor(new[] { 0.3f, -0.1f });
        first.Step();
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            first.SaveState(writer);
        }

        var second = new Adam();
        second.Bind([b]);
        using (no_grad())
        {
            b.copy_(a);
        }

        stream.Position = 0;
        using (var reader = new BinaryReader(stream))
        {
            second.LoadState(reader);
        }

        a.grad = tensor(new[] { -0.2f, 0.4f });
        b.grad = tensor(new[] { -0.2f, 0.4f });
        first.Step();
        second.Step();

        Assert.True(a.eq(b).all().item<bool>());
        Assert.Equal(2, second.Iterations);
    }
}
