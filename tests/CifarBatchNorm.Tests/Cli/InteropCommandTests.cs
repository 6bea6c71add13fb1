using System.Text.Json;
using CifarBatchNorm.Cli;
using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Interop;
using CifarBatchNorm.Tests.Data;
using CifarBatchNorm.Tests.Interop;
using CifarBatchNorm.Tests.Support;
using CifarBatchNorm.Training;
using Microsoft.ML.OnnxRuntime;
using SkiaSharp;
using static TorchSharp.torch;
using static CifarBatchNorm.Tests.Support.InProcessCli;

namespace CifarBatchNorm.Tests.Cli;

/// <summary><c>predict</c> and <c>export</c>, and bad weight files through the CLI: one line, exit 1, no stack trace.</summary>
public sealed class InteropCommandTests
{
    /// <summary>A run folder as 'train' leaves it: config.json and model.pt of the notebook model.</summary>
    private static string RunFolderWithModel(TempDirectory dir, ImageShape shape, string dataset)
    {
        string folder = dir.Combine("run");
        var run = RunFolder.Create(folder);
        run.WriteJson(RunFolder.ConfigFile, new RunRecord
        {
            Config = TrainConfig.Notebook,
            Dataset = dataset,
            DatasetReason = "test",
            InputShape = [shape.Height, shape.Width, shape.Channels],
            Classes = 10,
            TrainSamples = 1,
            TestSamples = 1,
            Version = "test",
            Machine = "test",
        });
        using var model = ModelPresets.Notebook(shape);
        KerasWeightsTests.Perturb(model);
        model.SaveWeights(run.File(RunFolder.WeightsFile));
        return folder;
    }

    [Fact]
    public void Predict_prints_top3_per_image_and_reports_non_images_then_exits_1()
    {
        using var dir = new TempDirectory();
        string folder = RunFolderWithModel(dir, ImageShape.Cifar10, "cifar10");
        string images = dir.Combine("images");
        Directory.CreateDirectory(images);
        ImageFilesTests.WritePng(Path.Combine(images, "red.png"), 40, 40, (_, _) => SKColors.Red);
        ImageFilesTests.WritePng(Path.Combine(images, "green.png"), 32, 32, (x, _) => new SKColor(0, (byte)(x * 8), 0));
        string bad = Path.Combine(images, "broken.png");
        File.WriteAllText(bad, "not a png");

        var (code, output, error) = Run("predict", "--weights", Path.Combine(folder, "model.pt"), images);
        Assert.Equal(1, code);
        Assert.Contains("broken.png is not an image", error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", error);
        string[] lines = output.TrimEnd().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith(Path.Combine(images, "green.png") + ": ", lines[0]);
        Assert.Equal(3, lines[0].Split(", ").Length);
        Assert.Contains(Cifar10.ClassNames, n => lines[1].Contains($": {n} ", StringComparison.Ordinal));
    }

    [Fact]
    public void Predict_json_gives_every_probability_in_class_order_and_matches_the_library()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        string archive = dir.Combine("m.keras");
        using (var model = ModelPresets.Notebook(new ImageShape(28, 28, 1)))
        {
            KerasWeightsTests.Perturb(model);
            ModelFiles.Save(model, archive, FashionMnist.ClassNames);
        }

        string image = dir.Combine("shoe.bmp");
        using (var bitmap = new SKBitmap(28, 28))
        {
            bitmap.Erase(new SKColor(90, 90, 90));
            using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(image, data.ToArray());
        }

        var (code, output, error) = Run("predict", "--weights", archive, "--json", image);
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var item = json.RootElement.EnumerateArray().Single();
        Assert.Equal(image, item.GetProperty("file").GetString());
        float[] p = item.GetProperty("probabilities").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(10, p.Length);
        var top = item.GetProperty("top").EnumerateArray().ToArray();
        Assert.Equal(3, top.Length);
        int best = Array.IndexOf(p, p.Max());
        Assert.Equal(FashionMnist.ClassNames[best], top[0].GetProperty("name").GetString());

        using var loaded = ModelFiles.Load(archive);
        var x = tensor(ImageFiles.Load(image, new ImageShape(28, 28, 1)), [1, 1, 28, 28]);
        float[] expected = loaded.Predict(x).data<float>().ToArray();
        Assert.Equal(expected, p);
    }

    [Theory]
    [InlineData("onnx", "m.onnx")]
    [InlineData("keras", "m.keras")]
    [InlineData("safetensors", "m.safetensors")]
    [InlineData("weights.h5", "m.weights.h5")]
    public void Export_writes_each_format(string format, string file)
    {
        using var dir = new TempDirectory();
        string folder = RunFolderWithModel(dir, ImageShape.Cifar10, "cifar10");
        string target = dir.Combine(file);
        var (code, output, error) = Run("export", "--weights", folder, "--format", format, "--output", target);
        Assert.True(code == 0, error);
        Assert.Contains("Wrote", output);
        if (format == "onnx")
        {
            using var session = new InferenceSession(target);
            Assert.Contains("airplane", session.ModelMetadata.CustomMetadataMap["class_names"]);
        }
        else if (format == "keras")
        {
            Assert.Equal(Cifar10.ClassNames, KerasArchive.ClassNames(target));
        }
        else
        {
            using var model = ModelPresets.Notebook(ImageShape.Cifar10);
            model.LoadWeights(target);
        }
    }

    [Theory]
    [InlineData("other-architecture", "does not match the model at layer 'conv2d' (Conv2D)")]
    [InlineData("truncated", "it is truncated or damaged")]
    [InlineData("not-hdf5", "is not an HDF5 file")]
    public void Bad_weight_files_are_one_line_and_exit_1(string kind, string fragment)
    {
        using var dir = new TempDirectory();
        string folder = RunFolderWithModel(dir, ImageShape.Cifar10, "cifar10");
        string weights = Path.Combine(folder, "bad.weights.h5");
        if (kind == "other-architecture")
        {
            using var other = ModelPresets.Notebook(new ImageShape(28, 28, 1));
            other.SaveWeights(weights);
        }
        else if (kind == "truncated")
        {
            using var model = ModelPresets.Notebook(ImageShape.Cifar10);
            model.SaveWeights(weights);
            byte[] bytes = File.ReadAllBytes(weights);
            File.WriteAllBytes(weights, bytes[..(bytes.Length / 3)]);
        }
        else
        {
            File.WriteAllText(weights, "plain text");
        }

        foreach (string[] args in new[]
        {
            new[] { "export", "--weights", weights, "--format", "onnx", "--output", dir.Combine("m.onnx") },
            new[] { "evaluate", "--model", weights },
        })
        {
            var (code, _, error) = Run(args);
            Assert.Equal(1, code);
            Assert.StartsWith("error: ", error);
            Assert.Contains(fragment, error);
            Assert.Single(error.TrimEnd().Split('\n'));
            Assert.DoesNotContain("   at ", error);
        }

        Assert.False(File.Exists(dir.Combine("m.onnx")));
    }
}
