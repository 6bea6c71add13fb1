using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.KerasParity;

/// <summary>
/// keras-team/keras keras/src/losses/losses_test.py::CategoricalCrossentropyTest, ported (labels as class indices).
/// Keras's <c>assertAlmostEqual</c> is numpy's <c>assert_almost_equal</c> with decimal=3: |actual - expected| &lt; 1.5e-3.
/// </summary>
public sealed class LossAndMetricParityTests
{
    private static readonly long[] Labels = [0, 1, 2]; // y_true = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]

    // ::CategoricalCrossentropyTest.test_unweighted (probabilities; the second row does not sum to 1 and is normalized)
    [Fact]
    public void Crossentropy_on_probabilities()
    {
        using var scope = NewDisposeScope();
        var yPred = tensor(new float[,] { { 0.9f, 0.05f, 0.05f }, { 0.5f, 0.89f, 0.6f }, { 0.05f, 0.01f, 0.94f } });

        double loss = CategoricalCrossentropy.Compute(yPred, outputIsLogits: false, tensor(Labels)).item<float>();

        Assert.Equal(0.3239, loss, 1.5e-3);
    }

    // ::CategoricalCrossentropyTest.test_unweighted (from_logits=True)
    [Fact]
    public void Crossentropy_on_logits()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[,] { { 8, 1, 1 }, { 0, 9, 1 }, { 2, 3, 5 } });

        double loss = CategoricalCrossentropy.Compute(logits, outputIsLogits: true, tensor(Labels)).item<float>();

        Assert.Equal(0.0573, loss, 1.5e-3);
    }

    // ::CategoricalCrossentropyTest.test_label_smoothing
    [Fact]
    public void Crossentropy_with_label_smoothing()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[,] { { 100, -100, -100 } });

        double loss = CategoricalCrossentropy.Compute(logits, outputIsLogits: true, tensor(new long[] { 0 }), labelSmoothing: 0.1).item<float>();

        Assert.Equal(400.0 * 0.1 / 3.0, loss, 1.5e-3);
    }

    [Fact]
    public void Label_smoothing_on_probabilities_matches_the_logit_path()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[,] { { 2, -1, 0.5f }, { 0, 3, -2 } });
        var labels = tensor(new long[] { 0, 2 });

        double fromLogits = CategoricalCrossentropy.Compute(logits, true, labels, 0.2).item<float>();
        double fromProbabilities = CategoricalCrossentropy.Compute(nn.functional.softmax(logits, 1), false, labels, 0.2).item<float>();

        Assert.Equal(fromLogits, fromProbabilities, 5);
        Assert.Throws<ArgumentOutOfRangeException>(() => new CategoricalCrossentropy(labelSmoothing: 1.5));
    }
}
