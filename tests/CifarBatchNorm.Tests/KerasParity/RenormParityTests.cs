using CifarBatchNorm.Layers;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.KerasParity;

/// <summary>Batch Renormalization as Keras 3 keeps it (<c>BatchNormalization(renorm=True)</c>), from Keras's own tests.</summary>
public sealed class RenormParityTests
{
    // keras-team/keras keras/src/layers/normalization/batch_normalization_test.py::BatchNormalizationTest.test_renorm_basics
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Renorm_basics(int rank)
    {
        using var model = new global::CifarBatchNorm.Training.Sequential(rank == 1 ? new LayerShape(3) : new LayerShape(4, 4, 3));
        var layer = new BatchRenormalization(clipping: RenormClipping.Fixed(rmax: 3.0, dmax: 5.0, rmin: 0.3));
        model.Add(layer);

        Assert.Equal(2, layer.parameters().Count(p => p.requires_grad));                      // gamma, beta
        Assert.Equal(["moving_mean", "moving_variance", "moving_stddev", "renorm_mean", "renorm_stddev"],
            layer.named_buffers().Where(b => b.buffer.is_floating_point()).Select(b => b.name));
        Assert.Equal((6L, 15L), model.CountParameters());
        Assert.Equal(RenormClipping.None, new BatchRenormalization().Clipping);                   // Keras: renorm_clipping=None
    }

    // keras-team/keras keras/src/layers/normalization/batch_normalization_test.py::BatchNormalizationTest.test_renorm_correctness
    // (the initial values are drawn at random in Keras; fixed ones here, the expected values computed the same way).
    [Fact]
    public void Renorm_correctness()
    {
        using var scope = NewDisposeScope();
        const double epsilon = 1e-3, momentum = 0.9, renormMomentum = 0.8;
        var layer = new BatchRenormalization(momentum: momentum, epsilon: epsilon, renormMomentum: renormMomentum);
        layer.Build(new LayerShape(3));
        double[] initMovingMean = [0.3, -1.2, 0.7], initMovingVar = [1.4, 0.6, 0.9], initRenormMean = [-0.4, 0.9, 0.1];
        double[] initRenormStddev = [1.3, 0.7, 1.1], initGamma = [1.05, 0.92, 1.1], initBeta = [0.02, -0.08, 0.1];
        double[] initMovingStddev = initMovingVar.Select(Math.Sqrt).ToArray();
        using (no_grad())
        {
            layer.MovingMean.copy_(tensor(initMovingMean.Select(v => (float)v).ToArray()));
            layer.MovingVariance.copy_(tensor(initMovingVar.Select(v => (float)v).ToArray()));
            layer.MovingStddev.copy_(tensor(initMovingStddev.Select(v => (float)v).ToArray()));
            layer.RenormMean.copy_(tensor(initRenormMean.Select(v => (float)v).ToArray()));
            layer.RenormStddev.copy_(tensor(initRenormStddev.Select(v => (float)v).ToArray()));
            layer.Gamma.copy_(tensor(initGamma.Select(v => (float)v).ToArray()));
            layer.Beta.copy_(tensor(initBeta.Select(v => (float)v).ToArray()));
        }

        double[,] x = { { 4, 6, 2 }, { 8, -2, 5 }, { 6, 4, 3 } };
        layer.train();
        var actual = layer.call(tensor(new float[,] { { 4, 6, 2 }, { 8, -2, 5 }, { 6, 4, 3 } }));

        for (int j = 0; j < 3; j++)
        {
            double mean = (x[0, j] + x[1, j] + x[2, j]) / 3;
            double variance = (Math.Pow(x[0, j] - mean, 2) + Math.Pow(x[1, j] - mean, 2) + Math.Pow(x[2, j] - mean, 2)) / 3;
            double stddev = Math.Sqrt(variance + epsilon);
            double r = stddev / initRenormStddev[j], d = (mean - initRenormMean[j]) / initRenormStddev[j];
            for (int i = 0; i < 3; i++)
            {
                double expected = ((((x[i, j] - mean) / stddev) * r) + d) * initGamma[j] + initBeta[j];
                Assert.Equal(expected, actual[i, j].item<float>(), 1e-5);
            }

            double movingStddev = (initMovingStddev[j] * momentum) + (stddev * (1 - momentum));
            Assert.Equal((initRenormMean[j] * renormMomentum) + (mean * (1 - renormMomentum)), layer.RenormMean[j].item<float>(), 1e-5);
            Assert.Equal((initRenormStddev[j] * renormMomentum) + (stddev * (1 - renormMomentum)), layer.RenormStddev[j].item<float>(), 1e-5);
            Assert.Equal((initMovingMean[j] * momentum) + (mean * (1 - momentum)), layer.MovingMean[j].item<float>(), 1e-5);
            Assert.Equal(movingStddev, layer.MovingStddev[j].item<float>(), 1e-5);
            Assert.Equal((movingStddev * movingStddev) - epsilon, layer.MovingVariance[j].item<float>(), 1e-5);
        }
    }

    // keras-team/keras keras/src/layers/normalization/batch_normalization_test.py::BatchNormalizationTest.test_renorm_inference
    [Fact]
    public void Renorm_inference_is_plain_batch_normalization()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var bn = new BatchNormalization();
        bn.Build(new LayerShape(10));
        var renorm = new BatchRenormalization();
        renorm.Build(new LayerShape(10));
        using (no_grad())
        {
            foreach (var (a, b) in new[] { (bn.Gamma!, renorm.Gamma), (bn.Beta!, renorm.Beta), (bn.MovingMean, renorm.MovingMean) })
            {
                a.copy_(randn(10));
                b.copy_(a);
            }

            bn.MovingVariance.copy_(rand(10) + 0.5);
            renorm.MovingVariance.copy_(bn.MovingVariance);
        }

        var x = randn(4, 10);
        bn.eval();
        renorm.eval();
        Assert.True(bn.call(x).allclose(renorm.call(x), rtol: 1e-5, atol: 1e-5));
    }

    // keras-team/tf-keras tf_keras/legacy_tf_layers/normalization_test.py::BNTest
    // .testRenormNoClippingSameMomentumGivesSameTestTrain: shape (4, 3), gamma 2, beta 3, epsilon 1e-3, momentum and
    // renorm_momentum 0.9, no clipping; six steps on uniform random batches, the test output computed before the
    // training step. Training output == inference output, within epsilon * 1.5 at the first step ("initialization
    // inconsistencies") and 1e-5 after.
    [Fact]
    public void Renorm_without_clipping_and_same_momentum_gives_the_same_train_and_test_output()
    {
        using var scope = NewDisposeScope();
        manual_seed(8);
        const double epsilon = 1e-3;
        var layer = new BatchRenormalization(momentum: 0.9, epsilon: epsilon, renormMomentum: 0.9);
        layer.Build(new LayerShape(3));
        using (no_grad())
        {
            layer.Gamma.fill_(2);
            layer.Beta.fill_(3);
        }

        for (int step = 0; step < 6; step++)
        {
            var x = rand(4, 3);
            layer.eval();
            var test = layer.call(x);
            layer.train();
            var train = layer.call(x);
            double atol = step == 0 ? epsilon * 1.5 : 1e-5;
            Assert.True(train.allclose(test, rtol: 0, atol: atol), $"step {step}: largest difference {(train - test).abs().max().item<float>()}");
        }
    }
}
