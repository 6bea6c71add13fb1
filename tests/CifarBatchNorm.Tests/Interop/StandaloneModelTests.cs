using System.Globalization;
using System.Text.RegularExpressions;
using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Interop;
using CifarBatchNorm.Tests.Support;
using CifarBatchNorm.Training;
using static CifarBatchNorm.Tests.Support.InProcessCli;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Interop;

/// <summary>
/// Model files without a run folder: a tf.keras 2 <c>model.save("m.h5")</c> (fixtures/keras2_model.py writes tf.keras
/// 2's exact layout and computes the same weights' loss in float64), bare weights with <c>--architecture notebook</c>,
/// an exported <c>.safetensors</c> alone, and an <c>.onnx</c> given as input.
/// </summary>
public sealed partial class StandaloneModelTests
{
    private const int Images = 200;

    /// <summary>Writes full.h5 and weights.h5 in <paramref name="dir"/>; returns the script's float64 loss on the first <see cref="Images"/> test images.</summary>
    private static double WriteKeras2Files(TempDirectory dir, string style)
    {
        Python.Require("h5py", "numpy");
        RequiredData.FashionMnist();
        var (code, output, error) = Python.Run(
            "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')",
            InteropFixtures.Path("keras2_model.py"), dir.Combine("full.h5"), dir.Combine("weights.h5"), style, FashionMnist.DebianDirectory,
            Images.ToString(CultureInfo.InvariantCulture));
        Assert.True(code == 0, error);
        return double.Parse(output.Trim(), CultureInfo.InvariantCulture);
    }

    private static double PrintedLoss(string output)
    {
        var match = TestLoss().Match(output);
        Assert.True(match.Success, output);
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [SkippableTheory]
    [InlineData("2.4")]    // configs without module/registered_name
    [InlineData("2.15")]   // Keras 2.13 and later: module, registered_name, build_config
    public void Evaluate_of_a_tf_keras2_model_save_h5_gives_the_float64_loss(string style)
    {
        using var dir = new TempDirectory();
        double expected = WriteKeras2Files(dir, style);

        var (code, output, error) = Run("evaluate", "--model", dir.Combine("full.h5"), "--dataset", "fashion-mnist",
            "--test-limit", Images.ToString(CultureInfo.InvariantCulture), "--device", "cpu");
        Assert.True(code == 0, error);
        Assert.Contains($"({Images} images)", output);
        double loss = PrintedLoss(output);
        // The line prints 4 decimals: rounding adds at most 5e-5 to the float32-vs-float64 difference.
        Assert.True(Math.Abs(loss - expected) <= 1e-4, $"evaluate {loss}, float64 {expected:R}");
    }

    [SkippableFact]
    public void Predict_and_export_take_the_h5_and_bare_weights_need_an_architecture()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        double expected = WriteKeras2Files(dir, "2.15");

        using (var full = StandaloneModel.Open(dir.Combine("full.h5")))
        {
            Assert.Equal(new[] { "Conv2D", "BatchNormalization", "Conv2D", "BatchNormalization", "MaxPooling2D", "Conv2D", "BatchNormalization", "Conv2D",
                "BatchNormalization", "MaxPooling2D", "Flatten", "Dropout", "Dense", "BatchNormalization", "Dense", "Activation" }, full.Layers.Select(l => l.KerasType));
            Assert.Equal(0.25, full.Layers.OfType<CifarBatchNorm.Layers.Dropout>().Single().Rate);
            using var bare = StandaloneModel.Open(dir.Combine("weights.h5"), "notebook");
            Assert.Equal(new CifarBatchNorm.Layers.LayerShape(28, 28, 1), bare.InputShape);
            Assert.Equal(10, bare.OutputShape.Features);
            var x = rand(4, 1, 28, 28, generator: new Generator(5));
            Assert.True(full.Predict(x).allclose(bare.Predict(x), rtol: 1e-5, atol: 1e-6));
        }

        var (code, output, error) = Run("evaluate", "--model", dir.Combine("weights.h5"), "--architecture", "notebook",
            "--test-limit", Images.ToString(CultureInfo.InvariantCulture), "--device", "cpu");
        Assert.True(code == 0, error);
        Assert.True(Math.Abs(PrintedLoss(output) - expected) <= 1e-4, output);

        (code, _, error) = Run("evaluate", "--model", dir.Combine("weights.h5"), "--dataset", "fashion-mnist");
        Assert.Equal(1, code);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains("holds weights only, not the architecture; name its architecture (--architecture notebook", error);

        string image = dir.Combine("gray.png");
        CifarBatchNorm.Tests.Data.ImageFilesTests.WritePng(image, 28, 28, (x, y) => new SkiaSharp.SKColor((byte)(x * 9), (byte)(y * 9), 100));
        (code, output, error) = Run("predict", "--weights", dir.Combine("full.h5"), image);
        Assert.True(code == 0, error);
        Assert.StartsWith($"{image}: class_", output, StringComparison.Ordinal);   // no class names in a Keras 2 file
        Assert.Equal(3, output.Trim().Split(", ").Length);
        (code, _, error) = Run("predict", "--weights", dir.Combine("weights.h5"), "--architecture", "notebook", image);
        Assert.True(code == 0, error);

        string safetensors = dir.Combine("exported.safetensors");
        (code, _, error) = Run("export", "--weights", dir.Combine("full.h5"), "--format", "safetensors", "--output", safetensors);
        Assert.True(code == 0, error);
        (code, output, error) = Run("evaluate", "--model", safetensors, "--test-limit", Images.ToString(CultureInfo.InvariantCulture), "--device", "cpu");
        Assert.True(code == 0, error);
        Assert.True(Math.Abs(PrintedLoss(output) - expected) <= 1e-4, output);
    }

    [SkippableFact]
    public void Evaluate_checks_the_dataset_against_the_model_input()
    {
        using var dir = new TempDirectory();
        WriteKeras2Files(dir, "2.4");
        var (code, _, error) = Run("evaluate", "--model", dir.Combine("full.h5"), "--dataset", "synthetic", "--test-limit", "10");
        Assert.Equal(2, code);
        Assert.Equal("error: --dataset synthetic has 32x32x3 images, but the model takes 28x28x1; evaluate it on a dataset with its input shape.", error.Trim());
    }

    [Fact]
    public void An_unsupported_layer_or_argument_is_one_error_naming_it()
    {
        static string Config(string layers) =>
            """{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 8, 8, 1], "dtype": "float32", "sparse": false, "ragged": false, "name": "in"}}, """
            + layers + "]}}";
        var lstm = System.Text.Json.Nodes.JsonNode.Parse(Config("""{"class_name": "LSTM", "config": {"name": "lstm", "units": 4}}"""))!.AsObject();
        var error = Assert.Throws<ModelFileException>(() => Keras2ModelConfig.Deserialize(lstm, "m.h5"));
        Assert.StartsWith("m.h5: layer 'lstm' is a LSTM, which this library does not have", error.Message);

        var virtualBatch = System.Text.Json.Nodes.JsonNode.Parse(Config(
            """{"class_name": "BatchNormalization", "config": {"name": "bn", "axis": [3], "center": true, "scale": true, "virtual_batch_size": 4}}"""))!.AsObject();
        error = Assert.Throws<ModelFileException>(() => Keras2ModelConfig.Deserialize(virtualBatch, "m.h5"));
        Assert.Equal("m.h5: layer 'bn' (BatchNormalization) has an argument 'virtual_batch_size' that this library does not know.", error.Message);

        var channelsFirst = System.Text.Json.Nodes.JsonNode.Parse(Config("""{"class_name": "BatchNormalization", "config": {"name": "bn", "axis": [1], "center": true, "scale": true}}"""))!.AsObject();
        error = Assert.Throws<ModelFileException>(() => Keras2ModelConfig.Deserialize(channelsFirst, "m.h5"));
        Assert.Contains("layer 'bn' (BatchNormalization) has axis = [1] on a 4-D input", error.Message);
    }

    [Fact]
    public void An_onnx_file_as_input_says_it_is_export_only_with_the_onnx_runtime_hint()
    {
        using var dir = new TempDirectory();
        string onnx = dir.Combine("m.onnx");
        using (var model = InteropFixtures.TinyModel())
        {
            model.ExportOnnx(onnx);
        }

        foreach (string[] args in new[] { new[] { "evaluate", "--model", onnx }, new[] { "predict", "--weights", onnx, onnx } })
        {
            var (code, _, error) = Run(args);
            Assert.Equal(1, code);
            Assert.Single(error.TrimEnd().Split('\n'));
            Assert.Contains("is an ONNX export, which this library writes but does not read back; run it with ONNX Runtime (Python: onnxruntime.InferenceSession(path)", error);
        }
    }

    [GeneratedRegex(@"Test loss: ([0-9.]+)")]
    private static partial Regex TestLoss();
}
