using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.Json.Nodes;
using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Interop;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Tests.Support;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Tests.Interop;

/// <summary>
/// A <c>.keras</c> export opens in the Keras version it declares, and in every later one: each layer config uses only
/// the arguments that version's layer takes. Keras raises "Unrecognized keyword arguments" for any other.
/// </summary>
public sealed class KerasArchiveVersionTests
{
    /// <summary>Arguments every Keras 3 layer takes (keras/src/layers/layer.py, <c>Layer.__init__</c>: activity_regularizer, trainable, dtype, autocast, name).</summary>
    private static readonly string[] LayerArguments = ["activity_regularizer", "trainable", "dtype", "autocast", "name"];

    private static readonly string[] BatchNormalization38 =
    [
        "axis", "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer", "moving_mean_initializer",
        "moving_variance_initializer", "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint", "synchronized",
    ];

    private static readonly string[] Conv2D38 =
    [
        "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups", "activation", "use_bias",
        "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint",
    ];

    private static readonly string[] Dense38 =
    [
        "units", "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
        "activity_regularizer", "kernel_constraint", "bias_constraint", "lora_rank",
    ];

    /// <summary>
    /// The <c>__init__</c> arguments of each layer per Keras release, read from the tags of keras-team/keras:
    /// keras/src/layers/normalization/batch_normalization.py, convolutional/conv2d.py, core/dense.py,
    /// pooling/max_pooling2d.py, reshaping/flatten.py, regularization/dropout.py. Between 3.8.0 and 3.15.1 only three
    /// changes: Dense gains lora_alpha in 3.10.0 and quantization_config in 3.13; BatchNormalization gains renorm,
    /// renorm_clipping and renorm_momentum in 3.14.0.
    /// </summary>
    public static TheoryData<string> Versions => ["3.8.0", "3.10.0", "3.13.0", "3.14.0", "3.15.1"];

    private static Dictionary<string, string[]> Signatures(string version)
    {
        var v = Version.Parse(version);
        string[] dense = v >= new Version(3, 13) ? [.. Dense38, "lora_alpha", "quantization_config"]
            : v >= new Version(3, 10) ? [.. Dense38, "lora_alpha"] : Dense38;
        string[] bn = v >= new Version(3, 14) ? [.. BatchNormalization38, "renorm", "renorm_clipping", "renorm_momentum"] : BatchNormalization38;
        return new Dictionary<string, string[]>(StringComparer.Ordinal)
        {
            ["BatchNormalization"] = bn,
            ["Conv2D"] = Conv2D38,
            ["Dense"] = dense,
            ["MaxPooling2D"] = ["pool_size", "strides", "padding", "data_format"],
            ["Flatten"] = ["data_format"],
            ["Dropout"] = ["rate", "noise_shape", "seed"],
            ["Activation"] = ["activation"],
        };
    }

    private static (string Declared, JsonArray Layers) Export(Sequential model, TempDirectory dir)
    {
        string path = dir.Combine("m.keras");
        ModelFiles.Save(model, path);
        using var zip = ZipFile.OpenRead(path);
        JsonObject Read(string name)
        {
            using var stream = zip.GetEntry(name)!.Open();
            return JsonNode.Parse(stream)!.AsObject();
        }

        return (Read("metadata.json")["keras_version"]!.GetValue<string>(), Read("config.json")["config"]!["layers"]!.AsArray());
    }

    /// <summary>The arguments of the exported layers that <paramref name="version"/>'s layers do not take.</summary>
    private static List<string> Rejected(JsonArray layers, string version)
    {
        var signatures = Signatures(version);
        var rejected = new List<string>();
        foreach (var layer in layers.Skip(1).Select(l => l!.AsObject()))
        {
            string className = layer["class_name"]!.GetValue<string>();
            var accepted = signatures[className].Concat(LayerArguments).ToHashSet(StringComparer.Ordinal);
            rejected.AddRange(layer["config"]!.AsObject().Select(kv => kv.Key).Where(k => !accepted.Contains(k)).Select(k => $"{className}.{k}"));
        }

        return rejected;
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void A_bn_export_declares_3_8_and_every_later_version_takes_its_config(string version)
    {
        using var dir = new TempDirectory();
        using var model = ModelPresets.Notebook(ImageShape.FashionMnist);
        model.Add(new Dropout(0.5));
        model.Add(new Activation(ActivationFunction.Linear));
        var (declared, layers) = Export(model, dir);
        Assert.Equal("3.8.0", declared);
        Assert.Empty(Rejected(layers, declared));
        Assert.Empty(Rejected(layers, version));
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void A_renorm_export_declares_3_14_the_first_version_with_renorm(string version)
    {
        using var dir = new TempDirectory();
        using var model = ModelPresets.Notebook(ImageShape.FashionMnist, variant: NormalizationVariant.Renorm);
        var (declared, layers) = Export(model, dir);
        Assert.Equal("3.14.0", declared);
        Assert.Empty(Rejected(layers, declared));
        var rejected = Rejected(layers, version);
        if (Version.Parse(version) >= new Version(3, 14))
        {
            Assert.Empty(rejected);
        }
        else
        {
            Assert.Contains("BatchNormalization.renorm", rejected);   // why 3.14 is declared
        }
    }

    [Fact]
    public void Members_are_stored_uncompressed_in_keras_order()
    {
        using var dir = new TempDirectory();
        using var model = InteropFixtures.TinyModel();
        string path = dir.Combine("m.keras");
        ModelFiles.Save(model, path);
        byte[] bytes = File.ReadAllBytes(path);
        var members = new List<(string Name, int Method)>();
        int offset = 0;
        // Walk the local file headers (PKWARE APPNOTE 4.3.7): method at +8, compressed size at +18, name at +30.
        while (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset)) == 0x04034b50)
        {
            int method = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset + 8));
            int compressed = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 18));
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset + 26));
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset + 28));
            members.Add((System.Text.Encoding.UTF8.GetString(bytes, offset + 30, nameLength), method));
            offset += 30 + nameLength + extraLength + compressed;
        }

        Assert.Equal([("metadata.json", 0), ("config.json", 0), ("model.weights.h5", 0)], members);
    }

    /// <summary>Keras 3.8's Adam.get_config keys (base_optimizer.py get_config, then adam.py get_config).</summary>
    private static readonly string[] AdamConfig =
    [
        "name", "learning_rate", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "use_ema", "ema_momentum",
        "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps", "beta_1", "beta_2", "epsilon", "amsgrad",
    ];

    [SkippableFact]
    public void A_compiled_model_writes_its_compile_config_and_the_optimizer_variables_in_keras_order()
    {
        Python.Require("h5py", "numpy");
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var dir = new TempDirectory();
        using var model = InteropFixtures.TinyModel();
        model.Compile(new Adam(learningRate: 0.002));
        var (train, _) = SyntheticImages.Generate(new SyntheticOptions { TrainCount = 8, TestCount = 8, Shape = new ImageShape(8, 6, 3), Classes = 3 });
        model.Fit(train, batchSize: 4, epochs: 1, verbose: 0);
        string path = dir.Combine("m.keras");
        ModelFiles.Save(model, path);

        using (var zip = ZipFile.OpenRead(path))
        using (var stream = zip.GetEntry("config.json")!.Open())
        {
            var compile = JsonNode.Parse(stream)!["compile_config"]!.AsObject();
            var optimizer = compile["optimizer"]!.AsObject();
            Assert.Equal("Adam", optimizer["class_name"]!.GetValue<string>());
            Assert.Equal(AdamConfig.Order(), optimizer["config"]!.AsObject().Select(kv => kv.Key).Order());
            Assert.Equal(0.002, optimizer["config"]!["learning_rate"]!.GetValue<double>());
            Assert.Equal("categorical_crossentropy", compile["loss"]!.GetValue<string>());
            Assert.Equal("[\"accuracy\"]", compile["metrics"]!.ToJsonString());
        }

        // Keras's order: iteration (int64), learning_rate, then momentum and velocity per trainable variable, in
        // Keras's layout (the first conv kernel's moments as HWIO).
        string script = """
import io, json, sys, zipfile
import h5py, numpy as np
with zipfile.ZipFile(sys.argv[1]) as z:
    f = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
    v = f["optimizer/vars"]
    n = len(v.keys())
    print(json.dumps({"count": n, "iteration": int(v["0"][()]), "iteration_dtype": str(v["0"].dtype),
                      "lr": float(v["1"][()]), "m0_shape": list(v["2"].shape), "m0": v["2"][()].reshape(-1).tolist(),
                      "v0_shape": list(v["3"].shape)}))
""";
        var (code, output, error) = Python.Run(script, path);
        Assert.True(code == 0, error);
        var read = JsonNode.Parse(output)!;
        var adam = (Adam)model.Optimizer!;
        int trainable = model.parameters().Count(p => p.requires_grad);
        Assert.Equal(2 + (2 * trainable), read["count"]!.GetValue<int>());
        Assert.Equal(2, read["iteration"]!.GetValue<long>());
        Assert.Equal("int64", read["iteration_dtype"]!.GetValue<string>());
        Assert.Equal(0.002, read["lr"]!.GetValue<double>(), 1e-7);
        Assert.Equal("[3,3,3,4]", read["m0_shape"]!.ToJsonString());
        Assert.Equal("[3,3,3,4]", read["v0_shape"]!.ToJsonString());
        float[] expected = adam.FirstMoments[0].permute(2, 3, 1, 0).contiguous().data<float>().ToArray();   // (out, in, kh, kw) -> HWIO
        float[] written = read["m0"]!.AsArray().Select(e => e!.GetValue<float>()).ToArray();
        Assert.Equal(expected, written);

        using var loaded = ModelFiles.Load(path);
        var x = InteropFixtures.Images(model, 2);
        Assert.True(model.Predict(x).eq(loaded.Predict(x)).all().item<bool>());
    }

    [SkippableFact]
    public void With_a_schedule_the_compile_config_holds_the_schedule_and_no_learning_rate_variable()
    {
        // learning_rate_schedule.py ExponentialDecay.get_config and base_optimizer.py (a schedule is no variable), v3.8.0.
        Python.Require("h5py");
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var dir = new TempDirectory();
        using var model = InteropFixtures.TinyModel();
        model.Compile(new Sgd(new ExponentialDecay(0.1, decaySteps: 10, decayRate: 0.5), momentum: 0.9));
        var (train, _) = SyntheticImages.Generate(new SyntheticOptions { TrainCount = 4, TestCount = 4, Shape = new ImageShape(8, 6, 3), Classes = 3 });
        model.Fit(train, batchSize: 4, epochs: 1, verbose: 0);
        string path = dir.Combine("m.keras");
        ModelFiles.Save(model, path);

        using (var zip = ZipFile.OpenRead(path))
        using (var stream = zip.GetEntry("config.json")!.Open())
        {
            var optimizer = JsonNode.Parse(stream)!["compile_config"]!["optimizer"]!;
            Assert.Equal("SGD", optimizer["class_name"]!.GetValue<string>());
            Assert.Equal(
                """{"module":"keras.optimizers.schedules","class_name":"ExponentialDecay","config":{"initial_learning_rate":0.1,"decay_steps":10,"decay_rate":0.5,"staircase":false,"name":"ExponentialDecay"},"registered_name":null}""",
                optimizer["config"]!["learning_rate"]!.ToJsonString());
            Assert.Equal(0.9, optimizer["config"]!["momentum"]!.GetValue<double>());
        }

        var (code, output, error) = Python.Run(
            "import io, sys, zipfile, h5py\nz = zipfile.ZipFile(sys.argv[1])\nprint(len(h5py.File(io.BytesIO(z.read('model.weights.h5')), 'r')['optimizer/vars'].keys()))", path);
        Assert.True(code == 0, error);
        Assert.Equal(1 + model.parameters().Count(p => p.requires_grad), int.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture));   // iteration + one momentum each
    }
}
