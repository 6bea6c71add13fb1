using CifarBatchNorm.Callbacks;
using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Training;

public sealed class ValidationSplitTests
{
    private static readonly SyntheticOptions Small = new() { Shape = new ImageShape(16, 16, 3), TrainCount = 600, TestCount = 100, Seed = 2 };

    /// <summary>Remembers what fit told the callbacks.</summary>
    private sealed class ParamsProbe : Callback
    {
        public int Samples { get; private set; }

        public override void OnTrainBegin() => Samples = Params!.Samples;
    }

    private static ImageDataset Slice(ImageDataset data, int start)
    {
        int size = data.Shape.Size;
        return new ImageDataset("tail", data.Shape, data.Pixels[(start * size)..].ToArray(), data.Labels[start..].ToArray(), data.ClassNames);
    }

    [Theory]
    [InlineData(50_000, 0.1, 45_000)]
    [InlineData(10, 0.25, 7)]          // floor(10 * 0.75) = floor(7.5)
    [InlineData(60_000, 0.1, 54_000)]
    [InlineData(7, 0.0, 7)]
    public void The_split_keeps_the_first_floor_n_times_one_minus_split_for_training(int samples, double split, int expected)
    {
        // keras-team/keras keras/src/trainers/data_adapters/array_slicing.py::train_validation_split: split_at = floor(N * (1 - split))
        Assert.Equal(expected, Sequential.ValidationSplitAt(samples, split));
    }

    [Fact]
    public void A_split_that_leaves_one_side_empty_or_is_out_of_range_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => Sequential.ValidationSplitAt(2, 0.9));    // floor(0.2) = 0 training samples
        Assert.Throws<ArgumentException>(() => Sequential.ValidationSplitAt(100, 1e-17)); // 1 - 1e-17 is 1.0: no validation sample
        Assert.Throws<ArgumentOutOfRangeException>(() => Sequential.ValidationSplitAt(100, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sequential.ValidationSplitAt(100, -0.1));
    }

    [Fact]
    public void Fit_with_a_split_trains_on_the_first_images_and_validates_on_the_last_ones()
    {
        var (train, _) = SyntheticImages.Generate(Small);
        manual_seed(3);
        using var model = ModelPresets.Notebook(train.Shape, bnMomentum: 0.9);
        model.Compile(new Adam());
        var probe = new ParamsProbe();

        var history = model.Fit(train, batchSize: 64, epochs: 1, verbose: 0, callbacks: [probe], validationSplit: 0.2);

        Assert.Equal(480, probe.Samples);
        var held = model.Evaluate(Slice(train, 480));
        Assert.Equal(120, held.Samples);
        Assert.Equal(held.Accuracy, history.ValAccuracy[0], 12);
        Assert.Equal(held.Loss, history.ValLoss[0], 5);
    }

    [Fact]
    public void Fit_on_tensors_splits_the_same_way()
    {
        using var scope = NewDisposeScope();
        var (train, _) = SyntheticImages.Generate(Small);
        var (x, y) = train.GetRange(0, train.Count);
        manual_seed(3);
        using var model = ModelPresets.Notebook(train.Shape, bnMomentum: 0.9);
        model.Compile(new Adam());
        var probe = new ParamsProbe();

        var history = model.Fit(x, y, batchSize: 64, epochs: 1, verbose: 0, callbacks: [probe], validationSplit: 0.2);

        Assert.Equal(480, probe.Samples);
        var held = model.Evaluate(x.narrow(0, 480, 120), y.narrow(0, 480, 120));
        Assert.Equal(held.Accuracy, history.ValAccuracy[0], 12);
    }

    [Fact]
    public void Validation_data_wins_over_a_split_as_in_keras()
    {
        var (train, test) = SyntheticImages.Generate(Small);
        manual_seed(3);
        using var model = ModelPresets.Notebook(train.Shape, bnMomentum: 0.9);
        model.Compile(new Adam());
        var probe = new ParamsProbe();

        var history = model.Fit(train, batchSize: 64, epochs: 1, verbose: 0, validationData: test, callbacks: [probe], validationSplit: 0.2);

        Assert.Equal(600, probe.Samples);
        Assert.Equal(model.Evaluate(test).Accuracy, history.ValAccuracy[0], 12);
    }
}
