using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Training;

public sealed class SummaryTests
{
    [Fact]
    public void Summary_matches_keras_parameter_counts()
    {
        using var scope = NewDisposeScope();
        using var model = ModelPresets.Notebook(ImageShape.Cifar10);
        using var writer = new StringWriter();

        model.Summary(writer);

        string text = writer.ToString();
        Assert.Contains("Model: \"sequential\"", text, StringComparison.Ordinal);
        string header = text.Split('\n').Single(l => l.Contains("Layer (type)", StringComparison.Ordinal));
        Assert.Contains("Output Shape", header, StringComparison.Ordinal);
        Assert.Contains("Param #", header, StringComparison.Ordinal);
        Assert.Contains("Total params: 270,482", text, StringComparison.Ordinal);
        Assert.Contains("Trainable params: 269,874", text, StringComparison.Ordinal);
        Assert.Contains("Non-trainable params: 608", text, StringComparison.Ordinal);

        (string Layer, string Shape, string Count)[] rows =
        [
            ("conv2d (Conv2D)", "(None, 32, 32, 8)", "224"),
            ("batch_normalization (BatchNormalization)", "(None, 32, 32, 8)", "32"),
            ("conv2d_1 (Conv2D)", "(None, 32, 32, 8)", "584"),
            ("batch_normalization_1 (BatchNormalization)", "(None, 32, 32, 8)", "32"),
            ("max_pooling2d (MaxPooling2D)", "(None, 16, 16, 8)", "0"),
            ("conv2d_2 (Conv2D)", "(None, 16, 16, 16)", "1,168"),
            ("batch_normalization_2 (BatchNormalization)", "(None, 16, 16, 16)", "64"),
            ("conv2d_3 (Conv2D)", "(None, 16, 16, 16)", "2,320"),
            ("batch_normalization_3 (BatchNormalization)", "(None, 16, 16, 16)", "64"),
            ("max_pooling2d_1 (MaxPooling2D)", "(None, 8, 8, 16)", "0"),
            ("flatten (Flatten)", "(None, 1024)", "0"),
            ("dense (Dense)", "(None, 256)", "262,400"),
            ("batch_normalization_4 (BatchNormalization)", "(None, 256)", "1,024"),
            ("dense_1 (Dense)", "(None, 10)", "2,570"),
        ];
        // Long names wrap onto a second line in Keras's 31-character column: match on the first line's start.
        string[] lines = text.Split('\n');
        foreach (var (layer, shape, count) in rows)
        {
            string start = layer.Length <= 31 ? layer : layer[..layer.IndexOf(' ', StringComparison.Ordinal)];
            string line = Assert.Single(lines, l => l.StartsWith("│ " + start + " ", StringComparison.Ordinal));
            var cells = line.Split('│', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Equal([start, shape, count], cells);
        }
    }

    [Fact]
    public void CountParameters_separates_moving_statistics()
    {
        using var scope = NewDisposeScope();
        using var model = ModelPresets.Notebook(ImageShape.Cifar10);

        Assert.Equal((269_874L, 608L), model.CountParameters());
    }
}
