using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Interop;
using CifarBatchNorm.Tests.Support;
using CifarBatchNorm.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Interop;

/// <summary>The ONNX export run in ONNX Runtime against Predict, and checked by python3-onnx's checker where installed.</summary>
public sealed class OnnxExportTests
{
    public static TheoryData<int, int, int, NormalizationVariant> Cases
    {
        get
        {
            var data = new TheoryData<int, int, int, NormalizationVariant>();
            foreach (var variant in Enum.GetValues<NormalizationVariant>())
            {
                data.Add(32, 32, 3, variant);
            }

            data.Add(28, 28, 1, NormalizationVariant.Bn);
            data.Add(28, 28, 1, NormalizationVariant.BnBeforeRelu);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Onnx_runtime_gives_the_same_probabilities_as_predict(int height, int width, int channels, NormalizationVariant variant)
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var model = ModelPresets.Notebook(new ImageShape(height, width, channels), variant: variant);
        KerasWeightsTests.Perturb(model);
        TrainStatistics(model);
        string path = dir.Combine("m.onnx");
        model.ExportOnnx(path);

        var x = InteropFixtures.Images(model, 5);                                  // (N, C, H, W)
        float[] expected = InteropFixtures.Values(model.Predict(x));
        float[] nhwc = InteropFixtures.Values(x.permute(0, 2, 3, 1).contiguous());
        using var session = new InferenceSession(path);
        var input = new DenseTensor<float>(nhwc, [5, height, width, channels]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxExporter.InputName, input)]);
        float[] actual = results.Single(r => r.Name == OnnxExporter.OutputName).AsTensor<float>().ToArray();

        Assert.Equal(expected.Length, actual.Length);
        double maxDiff = expected.Select((v, i) => Math.Abs(v - actual[i])).Max();
        Assert.True(maxDiff <= 1e-5, $"max |ONNX Runtime - Predict| = {maxDiff}");
        Assert.Equal("[\"class_0\",\"class_1\",\"class_2\",\"class_3\",\"class_4\",\"class_5\",\"class_6\",\"class_7\",\"class_8\",\"class_9\"]",
            session.ModelMetadata.CustomMetadataMap["class_names"]);
    }

    [Fact]
    public void Augmentation_layers_are_the_identity_in_the_exported_graph()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var plain = ModelPresets.Notebook(new ImageShape(28, 28, 1));
        KerasWeightsTests.Perturb(plain);
        TrainStatistics(plain);
        plain.SaveWeights(dir.Combine("w.weights.h5"));
        using var augmented = ModelPresets.Notebook(new ImageShape(28, 28, 1), augment: [Augmentation.Flip, Augmentation.Translate, Augmentation.Crop]);
        augmented.LoadWeights(dir.Combine("w.weights.h5"));
        plain.ExportOnnx(dir.Combine("plain.onnx"));
        augmented.ExportOnnx(dir.Combine("augmented.onnx"));

        // The same file, byte for byte, as the model without them: the layers add no node.
        Assert.Equal(File.ReadAllBytes(dir.Combine("plain.onnx")), File.ReadAllBytes(dir.Combine("augmented.onnx")));
    }

    [Fact]
    public void Batch_dimension_is_dynamic_and_class_names_are_recorded()
    {
        using var dir = new TempDirectory();
        using var model = ModelPresets.Notebook(ImageShape.Cifar10);
        string path = dir.Combine("m.onnx");
        OnnxExporter.Export(model, path, Cifar10.ClassNames);
        using var session = new InferenceSession(path);
        Assert.Equal([-1, 32, 32, 3], session.InputMetadata[OnnxExporter.InputName].Dimensions);
        Assert.Equal([-1, 10], session.OutputMetadata[OnnxExporter.OutputName].Dimensions);
        Assert.Contains("airplane", session.ModelMetadata.CustomMetadataMap["class_names"]);
        var proto = OnnxExporter.Build(model, null);
        Assert.Equal(OnnxExporter.Opset, proto.OpsetImport.Single().Version);
    }

    [SkippableFact]
    public void Onnx_checker_accepts_the_file()
    {
        Python.Require("onnx");
        using var dir = new TempDirectory();
        using var model = ModelPresets.Notebook(ImageShape.Cifar10, variant: NormalizationVariant.BnBeforeRelu);
        string path = dir.Combine("m.onnx");
        model.ExportOnnx(path);
        var (code, output, error) = Python.Run("""
            import sys, onnx
            m = onnx.load(sys.argv[1])
            onnx.checker.check_model(m, full_check=True)
            print(m.opset_import[0].version)
            """, path);
        Assert.True(code == 0, error);
        Assert.Equal("17", output.Trim());
    }

    /// <summary>A few training steps so that the moving statistics are not the initial 0 and 1.</summary>
    private static void TrainStatistics(Sequential model)
    {
        using var scope = NewDisposeScope();
        model.train();
        using var noGrad = no_grad();
        for (int i = 0; i < 3; i++)
        {
            model.call(InteropFixtures.Images(model, 8, seed: 20 + i));
        }

        model.eval();
    }
}
