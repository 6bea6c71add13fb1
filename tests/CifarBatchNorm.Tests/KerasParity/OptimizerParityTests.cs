using CifarBatchNorm.Training;
using TorchSharp;
using static TorchSharp.torch;
using Adam = CifarBatchNorm.Training.Adam;
using Parameter = TorchSharp.Modules.Parameter;

namespace CifarBatchNorm.Tests.KerasParity;

/// <summary>Keras 3's optimizer tests, ported with their golden numbers and tolerances.</summary>
public sealed class OptimizerParityTests
{
    private static Parameter Variable(params float[] values) => new(tensor(values));

    private static void Apply(Optimizer optimizer, Parameter variable, params float[] gradient)
    {
        variable.grad = tensor(gradient);
        optimizer.Step();
    }

    private static void AssertAllClose(double[] expected, Parameter actual, double tolerance)
    {
        float[] values = actual.data<float>().ToArray();
        Assert.Equal(expected.Length, values.Length);
        for (int i = 0; i < values.Length; i++)
        {
            // numpy's assert_allclose: |actual - expected| <= atol + rtol * |expected|
            Assert.True(Math.Abs(values[i] - expected[i]) <= tolerance + (tolerance * Math.Abs(expected[i])),
                $"element {i}: expected {expected[i]}, got {values[i]}");
        }
    }

    private static float[] Range01To1() => Enumerable.Range(1, 10).Select(i => i * 0.1f).ToArray(); // ops.arange(0.1, 1.1, 0.1)

    // keras-team/keras keras/src/optimizers/adam_test.py::AdamTest.test_single_step
    // (fused: the same update as one C# pass, Optimizer.FusedUpdate, which --fused-kernels trains with)
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Adam_single_step(bool fused)
    {
        using var scope = NewDisposeScope();
        var x = Variable(1, 2, 3, 4);
        var optimizer = new Adam(learningRate: 0.5) { FusedUpdate = fused };
        optimizer.Bind([x]);

        Apply(optimizer, x, 1, 6, 7, 2);

        AssertAllClose([0.5, 1.5, 2.5, 3.5], x, 1e-4);
    }

    // keras-team/keras keras/src/optimizers/adam_test.py::AdamTest.test_correctness_with_golden (amsgrad=True)
    [Fact]
    public void Adam_amsgrad_correctness_with_golden()
    {
        using var scope = NewDisposeScope();
        var x = Variable(Enumerable.Repeat(1f, 10).ToArray());
        var optimizer = new Adam(amsgrad: true);
        optimizer.Bind([x]);
        double[] golden = [0.999, 0.9982, 0.9974, 0.9965, 0.9955];

        Apply(optimizer, x, Enumerable.Repeat(0.01f, 10).ToArray());
        for (int i = 0; i < 5; i++)
        {
            AssertAllClose(Enumerable.Repeat(golden[i], 10).ToArray(), x, 5e-4);
            Apply(optimizer, x, Range01To1());
        }
    }

    // keras-team/keras keras/src/optimizers/adam_test.py::AdamTest.test_weight_decay (and fused, as above)
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Adam_weight_decay(bool fused)
    {
        using var scope = NewDisposeScope();
        var x = Variable(2);
        for (int i = 0; i < 3; i++)
        {
            var optimizer = new Adam(learningRate: 1.0, options: new OptimizerOptions { WeightDecay = 0.004 }) { FusedUpdate = fused };
            optimizer.Bind([x]);
            Apply(optimizer, x, 0);
        }

        Assert.Equal(1.9760959, x.data<float>()[0], 6);
    }

    // keras-team/keras keras/src/optimizers/adam_test.py::AdamTest.test_clip_norm and ::test_clip_value
    [Theory]
    [InlineData("clipnorm", 0.7071067811865476)]
    [InlineData("clipvalue", 1.0)]
    public void Gradients_are_clipped_before_the_update(string option, double clipped)
    {
        using var scope = NewDisposeScope();
        // SGD with learning rate 1 moves the variable by exactly the clipped gradient.
        var options = option == "clipnorm" ? new OptimizerOptions { ClipNorm = 1 } : new OptimizerOptions { ClipValue = 1 };
        var x = Variable(0, 0);
        var optimizer = new Sgd(learningRate: 1.0, options: options);
        optimizer.Bind([x]);

        Apply(optimizer, x, 100, 100);

        AssertAllClose([-clipped, -clipped], x, 1e-6);
    }

    // keras-team/keras keras/src/optimizers/adamw_test.py::AdamWTest.test_single_step
    [Fact]
    public void AdamW_single_step()
    {
        using var scope = NewDisposeScope();
        var x = Variable(1, 2, 3, 4);
        var optimizer = new AdamW(learningRate: 0.5);
        optimizer.Bind([x]);

        Apply(optimizer, x, 1, 6, 7, 2);

        AssertAllClose([0.4980, 1.4960, 2.494, 3.492], x, 1e-4);
    }

    // keras-team/keras keras/src/optimizers/adamw_test.py::AdamWTest.test_correctness_with_golden
    [Fact]
    public void AdamW_correctness_with_golden()
    {
        using var scope = NewDisposeScope();
        var x = Variable(Enumerable.Repeat(1f, 10).ToArray());
        var optimizer = new AdamW(learningRate: 1.0, weightDecay: 0.5, epsilon: 2);
        optimizer.Bind([x]);
        double[][] golden =
        [
            [0.4998, 0.4998, 0.4998, 0.4998, 0.4998, 0.4998, 0.4998, 0.4998, 0.4998, 0.4998],
            [0.2486, 0.2475, 0.2463, 0.2451, 0.244, 0.2428, 0.2417, 0.2405, 0.2394, 0.2382],
            [0.1223, 0.1198, 0.1174, 0.1149, 0.1124, 0.11, 0.1075, 0.1051, 0.1027, 0.1003],
            [0.0586, 0.0549, 0.0512, 0.0475, 0.0439, 0.0402, 0.0366, 0.033, 0.0294, 0.0258],
            [0.0263, 0.0215, 0.0167, 0.012, 0.0073, 0.0026, -0.0021, -0.0067, -0.0113, -0.0159],
        ];

        Apply(optimizer, x, Enumerable.Repeat(0.01f, 10).ToArray());
        for (int i = 0; i < 5; i++)
        {
            AssertAllClose(golden[i], x, 5e-4);
            Apply(optimizer, x, Range01To1());
        }
    }

    // keras-team/keras keras/src/optimizers/sgd_test.py::SGDTest.test_single_step
    [Fact]
    public void Sgd_single_step()
    {
        using var scope = NewDisposeScope();
        var x = Variable(1, 2, 3, 4);
        var optimizer = new Sgd(learningRate: 0.5);
        optimizer.Bind([x]);
        Assert.Equal(2, optimizer.VariableCount);                      // iteration and learning rate

        Apply(optimizer, x, 1, 6, 7, 2);

        AssertAllClose([0.5, -1.0, -0.5, 3.0], x, 1e-4);
        Assert.Equal(1, optimizer.Iterations);
    }

    // keras-team/keras keras/src/optimizers/sgd_test.py::SGDTest.test_correctness_with_golden
    [Fact]
    public void Sgd_nesterov_correctness_with_golden()
    {
        using var scope = NewDisposeScope();
        var x = Variable(Enumerable.Repeat(1f, 10).ToArray());
        var optimizer = new Sgd(nesterov: true);
        optimizer.Bind([x]);
        double[][] golden =
        [
            [0.9999, 0.9999, 0.9999, 0.9999, 0.9999, 0.9999, 0.9999, 0.9999, 0.9999, 0.9999],
            [0.9989, 0.9979, 0.9969, 0.9959, 0.9949, 0.9939, 0.9929, 0.9919, 0.9909, 0.9899],
            [0.9979, 0.9959, 0.9939, 0.9919, 0.9899, 0.9879, 0.9859, 0.9839, 0.9819, 0.9799],
            [0.9969, 0.9939, 0.9909, 0.9879, 0.9849, 0.9819, 0.9789, 0.9759, 0.9729, 0.9699],
            [0.9959, 0.9919, 0.9879, 0.9839, 0.9799, 0.9759, 0.9719, 0.9679, 0.9639, 0.9599],
        ];

        Apply(optimizer, x, Enumerable.Repeat(0.01f, 10).ToArray());
        for (int i = 0; i < 5; i++)
        {
            AssertAllClose(golden[i], x, 5e-4);
            Apply(optimizer, x, Range01To1());
        }
    }

    [Fact]
    public void Sgd_momentum_follows_keras_formula()
    {
        // keras-team/keras keras/src/optimizers/sgd.py::SGD.update_step: m = momentum * m - lr * g; w += momentum * m - lr * g (Nesterov) or w += m.
        using var scope = NewDisposeScope();
        var plain = Variable(1);
        var nesterov = Variable(1);
        var a = new Sgd(learningRate: 0.1, momentum: 0.9);
        var b = new Sgd(learningRate: 0.1, momentum: 0.9, nesterov: true);
        a.Bind([plain]);
        b.Bind([nesterov]);
        double w1 = 1, w2 = 1, m1 = 0, m2 = 0;
        foreach (float g in new[] { 1f, 0.5f, -2f })
        {
            Apply(a, plain, g);
            Apply(b, nesterov, g);
            m1 = (0.9 * m1) - (0.1 * g);
            w1 += m1;
            m2 = (0.9 * m2) - (0.1 * g);
            w2 += (0.9 * m2) - (0.1 * g);
        }

        Assert.Equal(w1, plain.data<float>()[0], 5);
        Assert.Equal(w2, nesterov.data<float>()[0], 5);
    }

    [Fact]
    public void Bad_optimizer_arguments_are_refused_naming_the_argument()
    {
        Assert.Equal("momentum", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(momentum: -1)).ParamName);
        Assert.Equal("ClipNorm", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(options: new OptimizerOptions { ClipNorm = 0 })).ParamName);
        Assert.Throws<ArgumentException>(() => new Adam(options: new OptimizerOptions { ClipNorm = 1, ClipValue = 1 }));
    }
}
