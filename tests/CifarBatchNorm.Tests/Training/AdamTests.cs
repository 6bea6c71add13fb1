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

    [Theory]
    [InlineData(1)]
    [InlineData(37)]    // vectors and a scalar tail
    [InlineData(4096)]
    public void The_fused_update_follows_the_libtorch_path_within_float_rounding(int length)
    {
        using var scope = NewDisposeScope();
        manual_seed(length);
        var start = randn(length);
        var (plain, plainAdam, fused, fusedAdam) = PlainAndFused(start, learningRate: 0.01);

        for (int step = 0; step < 5; step++)
        {
            var gradient = randn(length).mul(step % 2 == 0 ? 1e-3 : 10);   // small and large gradients
            plain.grad = gradient.clone();
            fused.grad = gradient.clone();
            plainAdam.Step();
            fusedAdam.Step();
        }

        var expected = plain.detach().to(ScalarType.Float64);
        var actual = fused.detach().to(ScalarType.Float64);
        Assert.False(start.to(ScalarType.Float64).allclose(actual));                  // it moved
        double worst = (actual - expected).abs().max().item<double>();
        Assert.True(worst < 1e-6, $"fused and libtorch Adam differ by {worst} after 5 steps");
        for (int slot = 0; slot < 2; slot++)
        {
            var (mine, theirs) = slot == 0 ? (fusedAdam.FirstMoments[0], plainAdam.FirstMoments[0]) : (fusedAdam.SecondMoments[0], plainAdam.SecondMoments[0]);
            double scale = theirs.abs().max().item<float>();
            double gap = (mine.to(ScalarType.Float64) - theirs.to(ScalarType.Float64)).abs().max().item<double>();
            Assert.True(gap <= 1e-6 * scale, $"moment {slot + 1}: fused and libtorch differ by {gap} (largest value {scale})");
        }
    }

    [Fact]
    public void A_gradient_in_another_memory_layout_takes_the_libtorch_path()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var (plain, plainAdam, fused, fusedAdam) = PlainAndFused(randn(4, 3, 2, 2), learningRate: 0.1);
        var gradient = randn(4, 3, 2, 2);

        plain.grad = gradient.clone();
        fused.grad = gradient.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);   // channels-last strides, same values
        plainAdam.Step();
        fusedAdam.Step();

        // Walking the gradient's memory in order would pair values with the wrong parameters; the fallback does not.
        Assert.True(fused.eq(plain).all().item<bool>());
    }

    [Fact]
    public void Training_with_fused_kernels_fuses_the_update_and_repeats_bit_for_bit()
    {
        float[] Run(bool fusedKernels)
        {
            using var scope = NewDisposeScope();
            manual_seed(3);
            using var model = CifarBatchNorm.Experiments.ModelPresets.Notebook(new CifarBatchNorm.Data.ImageShape(8, 8, 3));
            model.Apply(fusedKernels ? ExecutionPolicy.Cpu.WithFusedKernels() : ExecutionPolicy.Cpu);
            model.Compile(new Adam());
            manual_seed(4);
            var images = rand(16, 3, 8, 8);
            var labels = randint(0, 10, [16]);
            var losses = Enumerable.Range(0, 3).Select(_ => (float)model.TrainOnBatch(images, labels).Loss).ToList();
            Assert.Equal(fusedKernels, model.Trainer!.Optimizer.FusedUpdate);
            return [.. losses, .. model.parameters().First().detach().flatten().data<float>().ToArray()];
        }

        var fused = Run(fusedKernels: true);
        Assert.Equal(fused, Run(fusedKernels: true));
        var plain = Run(fusedKernels: false);
        Assert.NotEqual(plain, fused);                                                // other rounding, ...
        Assert.All(fused.Zip(plain), pair => Assert.True(Math.Abs(pair.First - pair.Second) < 1e-3, $"{pair.First} vs {pair.Second}"));  // ... the same values
    }

    /// <summary>Two copies of <paramref name="start"/>, one under Adam on libtorch's kernels, one under the fused update.</summary>
    private static (Parameter Plain, Adam PlainAdam, Parameter Fused, Adam FusedAdam) PlainAndFused(Tensor start, double learningRate)
    {
        var plain = new Parameter(start.clone());
        var fused = new Parameter(start.clone());
        var plainAdam = new Adam(learningRate: learningRate);
        var fusedAdam = new Adam(learningRate: learningRate) { FusedUpdate = true };
        plainAdam.Bind([plain]);
        fusedAdam.Bind([fused]);
        return (plain, plainAdam, fused, fusedAdam);
    }
}
