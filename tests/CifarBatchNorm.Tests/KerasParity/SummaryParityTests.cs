using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.KerasParity;

/// <summary>keras-team/keras keras/src/utils/summary_utils.py::print_summary and ::readable_memory_size, as Keras 3 prints them.</summary>
public sealed class SummaryParityTests
{
    private static string Summary(Sequential model)
    {
        using var writer = new StringWriter();
        model.Summary(writer);
        return writer.ToString();
    }

    [Fact]
    public void The_notebook_summary_reads_keras_counts_before_compile_and_adds_the_optimizer_after_fit()
    {
        using var scope = NewDisposeScope();
        using var model = ModelPresets.Notebook(ImageShape.Cifar10);
        string before = Summary(model);
        Assert.Contains(" Total params: 270,482 (1.03 MB)", before, StringComparison.Ordinal);
        Assert.Contains(" Trainable params: 269,874 (1.03 MB)", before, StringComparison.Ordinal);
        Assert.Contains(" Non-trainable params: 608 (2.38 KB)", before, StringComparison.Ordinal);

        model.Compile(new Adam());
        Assert.DoesNotContain("Optimizer params", Summary(model), StringComparison.Ordinal);   // Keras builds it when fit starts

        var (train, _) = SyntheticImages.Generate(new SyntheticOptions { TrainCount = 8, TestCount = 8 });
        model.Fit(train, batchSize: 8, epochs: 1, verbose: 0);
        string after = Summary(model);

        // Adam's variables: the iteration (int64) and the learning rate, then m and v per trainable weight.
        Assert.Contains(" Optimizer params: 539,750 (2.06 MB)", after, StringComparison.Ordinal);
        Assert.Contains(" Total params: 810,232 (3.09 MB)", after, StringComparison.Ordinal);
        Assert.Contains(" Trainable params: 269,874 (1.03 MB)", after, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(36, "36.00 B")]
    [InlineData(2_432, "2.38 KB")]
    [InlineData(1_081_928, "1.03 MB")]
    public void Sizes_are_rendered_as_readable_memory_size(long bytes, string expected) =>
        Assert.Equal(expected, ModelSummary.Bytes(bytes));

    [Fact]
    public void A_frozen_layer_counts_as_non_trainable()
    {
        // keras-team/keras keras/src/layers/layer.py::Layer.trainable: freezing moves the weights to non_trainable_weights.
        using var model = new Sequential(new LayerShape(4));
        var dense = new Dense(3);
        model.Add(dense).Add(new Dense(2));
        dense.Trainable = false;

        Assert.Equal((8L, 15L), model.CountParameters());
        Assert.DoesNotContain(dense.parameters(), p => p.requires_grad);
    }
}
