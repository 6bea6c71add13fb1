using CifarBatchNorm.Layers;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Training;

public sealed class CrossEntropyTests
{
    [Fact]
    public void Loss_on_logits_matches_a_hand_computation()
    {
        using var scope = NewDisposeScope();
        double[][] logits = [[2, 1, 0.1], [0.5, 2.5, -1]];
        long[] labels = [0, 2];
        double expected = 0;
        for (int i = 0; i < 2; i++)
        {
            double sum = logits[i].Sum(Math.Exp);
            expected += -Math.Log(Math.Exp(logits[i][labels[i]]) / sum);
        }

        expected /= 2;
        var x = tensor(logits.SelectMany(r => r).Select(v => (float)v).ToArray(), new long[] { 2, 3 });
        var y = tensor(labels);

        Assert.Equal(expected, CategoricalCrossentropy.Compute(x, outputIsLogits: true, y).item<float>(), 5);
        Assert.Equal(expected, CategoricalCrossentropy.Compute(nn.functional.softmax(x, 1), outputIsLogits: false, y).item<float>(), 5);
    }

    [Fact]
    public void A_softmax_model_computes_its_loss_from_logits_so_huge_logits_stay_finite()
    {
        using var scope = NewDisposeScope();
        var model = new Sequential(new LayerShape(2));
        model.Add(new Dense(2, activation: ActivationFunction.Softmax));
        using (no_grad())
        {
            model.Layers[0].parameters().First().copy_(tensor(new[] { 1000f, 0f, -1000f, 0f }, new long[] { 2, 2 }));
        }

        model.Compile(new Adam());
        var x = tensor(new[] { 1f, 0f }, new long[] { 1, 2 });
        var logits = model.ForwardLogits(x);
        var probabilities = model.call(x);

        Assert.Equal([1000f, -1000f], logits.data<float>().ToArray());
        Assert.Equal([1f, 0f], probabilities.data<float>().ToArray());
        Assert.Equal(2000.0, CategoricalCrossentropy.Compute(logits, true, tensor(new long[] { 1 })).item<float>(), 1);
    }
}
