using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Interop;
using CifarBatchNorm.Tests.Support;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Interop;

/// <summary>The state dict as .safetensors under PyTorch's nn.Sequential names, checked against Debian's python3-torch.</summary>
public sealed class SafetensorsTests
{
    public static TheoryData<NormalizationVariant> Variants =>
        [NormalizationVariant.Bn, NormalizationVariant.None, NormalizationVariant.BnBeforeRelu, NormalizationVariant.Renorm];

    [Theory]
    [MemberData(nameof(Variants))]
    public void Round_trip_gives_identical_predictions(NormalizationVariant variant)
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var model = ModelPresets.Notebook(ImageShape.Cifar10, variant: variant);
        KerasWeightsTests.Perturb(model);
        string path = dir.Combine("m.safetensors");
        model.SaveWeights(path);
        using var loaded = ModelPresets.Notebook(ImageShape.Cifar10, variant: variant);
        loaded.LoadWeights(path);
        var x = InteropFixtures.Images(model, 4);
        Assert.True(model.Predict(x).eq(loaded.Predict(x)).all().item<bool>());
    }

    [Fact]
    public void Names_and_shapes_are_pytorchs()
    {
        using var dir = new TempDirectory();
        using var model = ModelPresets.Notebook(ImageShape.Cifar10);
        string path = dir.Combine("m.safetensors");
        model.SaveWeights(path);
        var tensors = SafetensorsFile.Read(path);
        Assert.Equal([8, 3, 3, 3], tensors["0.weight"].Shape);
        Assert.Equal([8], tensors["2.running_var"].Shape);
        Assert.Equal("I64", tensors["2.num_batches_tracked"].DType);
        Assert.Equal([256, 1024], tensors["15.weight"].Shape);
        Assert.Equal([10, 256], tensors["18.weight"].Shape);
        Assert.Equal((4 * 2) + (5 * 5) + (2 * 2), tensors.Count);           // conv, BN (with num_batches_tracked), dense
    }

    [Fact]
    public void Truncated_file_is_one_line_and_model_unchanged()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var model = ModelPresets.Notebook(ImageShape.Cifar10);
        string path = dir.Combine("m.safetensors");
        model.SaveWeights(path);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
        KerasWeightsTests.Perturb(model);
        var before = ModelState.Read(model);
        var e = Assert.Throws<ModelFileException>(() => model.LoadWeights(path));
        Assert.Contains("truncated", e.Message);
        KerasWeightsTests.AssertUnchanged(before, model);
    }

    [SkippableTheory]
    [MemberData(nameof(Variants))]
    public void Pytorch_loads_the_file_into_the_documented_module_and_predicts_the_same(NormalizationVariant variant)
    {
        Python.Require("torch", "numpy");
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var model = ModelPresets.Notebook(ImageShape.Cifar10, variant: variant);
        KerasWeightsTests.Perturb(model);
        string path = dir.Combine("m.safetensors");
        model.SaveWeights(path);
        var x = InteropFixtures.Images(model, 4);
        string input = dir.Combine("x.bin");
        File.WriteAllBytes(input, InteropFixtures.Values(x).SelectMany(BitConverter.GetBytes).ToArray());

        // Python 1.13 has no safetensors package: the script parses the format itself (header + raw data).
        var (code, output, error) = Python.Run("""
            import json, struct, sys
            import numpy as np, torch
            raw = open(sys.argv[1], "rb").read()
            n = struct.unpack("<Q", raw[:8])[0]
            header = json.loads(raw[8:8 + n])
            exec(header["__metadata__"]["pytorch_module"])
            dtypes = {"F32": np.float32, "I64": np.int64}
            state = {k: torch.from_numpy(np.frombuffer(raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]],
                     dtype=dtypes[v["dtype"]]).reshape(v["shape"]).copy()) for k, v in header.items() if k != "__metadata__"}
            model.load_state_dict(state, strict=True)
            model.eval()
            x = torch.from_numpy(np.fromfile(sys.argv[2], dtype=np.float32).reshape(4, 3, 32, 32))
            with torch.no_grad():
                print(json.dumps(model(x).reshape(-1).tolist()))
            """, path, input);
        Assert.True(code == 0, error);
        double[] expected = System.Text.Json.JsonSerializer.Deserialize<double[]>(output)!;
        var probabilities = InteropFixtures.Values(model.Predict(x));
        Assert.True(InteropFixtures.MaxAbsDiff(probabilities, expected) < 1e-5, $"max |diff| {InteropFixtures.MaxAbsDiff(probabilities, expected)}");
    }
}
