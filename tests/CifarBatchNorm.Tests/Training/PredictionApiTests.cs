using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Runtime;
using CifarBatchNorm.Tests.Data;
using CifarBatchNorm.Tests.Support;
using CifarBatchNorm.Training;
using SkiaSharp;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Training;

/// <summary>
/// What a library user gets besides the tensor of <c>Predict</c>: classes, plain arrays, image files with class names;
/// the moving-statistics note after their own <c>Fit</c>; and the one-line error when the runtime was not initialized.
/// </summary>
public sealed class PredictionApiTests
{
    private static readonly ImageShape Shape = new(8, 8, 3);

    private static (Sequential Model, ImageDataset Test) Model(double bnMomentum = 0.99)
    {
        manual_seed(5);
        var (_, test) = SyntheticImages.Generate(new SyntheticOptions { Shape = Shape, TrainCount = 16, TestCount = 40, Seed = 5 });
        var model = new Sequential(Shape);
        model.Add(new Conv2D(4, 3, padding: ConvPadding.Same, activation: ActivationFunction.Relu));
        model.Add(new BatchNormalization(momentum: bnMomentum));
        model.Add(new Flatten());
        model.Add(new Dense(10, activation: ActivationFunction.Softmax));
        return (model, test);
    }

    [Fact]
    public void PredictClasses_and_the_array_overloads_agree_with_the_tensor_predictions()
    {
        var (model, test) = Model();
        using var _ = model;
        using var scope = NewDisposeScope();
        var probabilities = model.Predict(test, batchSize: 16);
        int[] expected = probabilities.argmax(1).to(ScalarType.Int32).data<int>().ToArray();

        Assert.Equal(expected, model.PredictClasses(test, batchSize: 7));
        var (images, _) = test.GetRange(0, test.Count);
        Assert.Equal(expected, model.PredictClasses(images));
        float[] flat = images.data<float>().ToArray();
        Assert.Equal(expected, model.PredictClasses(flat, batchSize: 9));
        float[] arrayProbabilities = model.Predict(flat);
        Assert.Equal(test.Count * 10, arrayProbabilities.Length);
        Assert.Equal(probabilities.data<float>().ToArray(), arrayProbabilities);

        var error = Assert.Throws<ArgumentException>(() => model.Predict(new float[Shape.Height * Shape.Width * Shape.Channels + 1]));
        Assert.StartsWith("x has 193 values, not a whole number of samples of (None, 8, 8, 3) (192 values each).", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PredictImageFiles_returns_each_files_best_class_by_name_with_every_probability()
    {
        var (model, _) = Model();
        using var _ = model;
        using var temp = new TempDirectory();
        string red = temp.Combine("red.png"), stripes = temp.Combine("stripes.png");
        ImageFilesTests.WritePng(red, 16, 16, (_, _) => new SKColor(250, 10, 10));
        ImageFilesTests.WritePng(stripes, 8, 8, (x, _) => x % 2 == 0 ? SKColors.White : SKColors.Black);
        string[] names = [.. Enumerable.Range(0, 10).Select(c => $"kind {c}")];

        var predictions = model.PredictImageFiles([red, stripes], names);

        Assert.Equal([red, stripes], predictions.Select(p => p.File));
        float[] expected = model.Predict([.. ImageFiles.Load(red, Shape), .. ImageFiles.Load(stripes, Shape)]);
        for (int i = 0; i < 2; i++)
        {
            var p = predictions[i];
            Assert.Equal(expected[(i * 10)..((i + 1) * 10)], p.Probabilities);
            Assert.Equal(p.Probabilities.Max(), p.Probability);
            Assert.Equal(names[p.ClassIndex], p.ClassName);
            Assert.Equal(p.ClassIndex, p.Top(names, 3)[0].Index);
            Assert.Equal(1.0, p.Probabilities.Sum(), 4);
        }

        Assert.Equal("class_" + predictions[0].ClassIndex, model.PredictImageFiles([red])[0].ClassName);
        var wrong = Assert.Throws<ArgumentException>(() => model.PredictImageFiles([red], ["only", "two"]));
        Assert.StartsWith("2 class names given for a model with 10 outputs.", wrong.Message, StringComparison.Ordinal);
        File.WriteAllText(temp.Combine("notes.png"), "not an image");
        var bad = Assert.Throws<DataFormatException>(() => model.PredictImageFiles([temp.Combine("notes.png")]));
        Assert.Contains("notes.png", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_library_user_gets_the_moving_statistics_note_from_the_same_rule_as_the_command_line()
    {
        var history = new History();
        history.Append(1, new Dictionary<string, double> { ["accuracy"] = 0.95, ["val_accuracy"] = 0.16, ["loss"] = 0.2, ["val_loss"] = 3.0 });
        var (model, _) = Model();
        using var _ = model;

        string? advice = QuickRunCheck.Advise(model, history, stepsPerEpoch: 8);

        Assert.Equal("Validation accuracy 0.1600 ended far below training accuracy 0.9500 after 8 steps: batch normalization's moving "
            + "statistics (momentum 0.99, an average over about the last 100 steps) have probably not caught up with the weights yet. "
            + "Train for more steps (more epochs or images), or lower the momentum of BatchNormalization(momentum: ...) to 0.9 so they follow faster.", advice);
        // The command line's wording comes from the same rule, naming the config's knob instead.
        Assert.Equal(advice!.Replace("the momentum of BatchNormalization(momentum: ...)", "TrainConfig.BnMomentum", StringComparison.Ordinal),
            QuickRunCheck.Advise(TrainConfig.Notebook, history, 8));

        using var plain = new Sequential(Shape);
        plain.Add(new Flatten());
        plain.Add(new Dense(10, activation: ActivationFunction.Softmax));
        Assert.Null(QuickRunCheck.Advise(plain, history, 8));
        var fine = new History();
        fine.Append(1, new Dictionary<string, double> { ["accuracy"] = 0.95, ["val_accuracy"] = 0.9 });
        Assert.Null(QuickRunCheck.Advise(model, fine, 8));
    }

    [Fact]
    public void Training_without_TorchRuntime_Initialize_stops_with_one_line_that_says_what_to_call()
    {
        var (model, test) = Model();
        using var _ = model;
        model.Compile(new Adam());
        var settings = TorchRuntime.Exchange(null);
        try
        {
            var error = Assert.Throws<InvalidOperationException>(() => model.Fit(test, batchSize: 8, epochs: 1, verbose: 0));
            Assert.StartsWith("TorchRuntime.Initialize() has not run: call it once at start-up, before the first torch call and before training", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', error.Message);
            using var scope = NewDisposeScope();
            var (images, labels) = test.GetRange(0, 8);
            Assert.Throws<InvalidOperationException>(() => model.TrainOnBatch(images, labels));
            Assert.Equal(test.Count, model.PredictClasses(test).Length);   // inference needs no start-up settings
        }
        finally
        {
            TorchRuntime.Exchange(settings);
        }

        Assert.Single(model.Fit(test, batchSize: 8, epochs: 1, verbose: 0).Epochs);
    }
}
