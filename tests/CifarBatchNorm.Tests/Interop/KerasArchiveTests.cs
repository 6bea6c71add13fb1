using System.IO.Compression;
using System.Text.Json.Nodes;
using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Interop;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Tests.Support;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Interop;

/// <summary>
/// Keras 3 <c>.keras</c> archives (keras-team/keras keras/src/saving/saving_lib.py save_model/load_model): the
/// fixture was written by fixtures/make_fixtures.py from the Keras layout, not by this library.
/// </summary>
public sealed class KerasArchiveTests
{
    [Fact]
    public void Archive_from_the_script_builds_the_model_and_predicts_like_the_reference()
    {
        using var scope = NewDisposeScope();
        var reference = InteropFixtures.LoadReference("bn");
        using var model = Sequential.Load(InteropFixtures.Path("tiny-bn.keras"));
        Assert.Equal(["Conv2D", "BatchNormalization", "MaxPooling2D", "Conv2D", "BatchNormalization", "Flatten", "Dense", "BatchNormalization", "Dense"],
            model.Layers.Select(l => l.KerasType));
        Assert.Equal(new LayerShape(8, 6, 3), model.InputShape);
        var probabilities = InteropFixtures.Values(model.Predict(reference.Input()));
        Assert.True(InteropFixtures.MaxAbsDiff(probabilities, reference.Probabilities) < 1e-5);
    }

    [Theory]
    [InlineData(NormalizationVariant.Bn)]
    [InlineData(NormalizationVariant.None)]
    [InlineData(NormalizationVariant.BnBeforeRelu)]
    [InlineData(NormalizationVariant.Renorm)]
    public void Save_then_load_rebuilds_the_same_model_with_identical_predictions(NormalizationVariant variant)
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var model = ModelPresets.Notebook(new ImageShape(28, 28, 1), variant: variant);
        KerasWeightsTests.Perturb(model);
        string path = dir.Combine("m.keras");
        ModelFiles.Save(model, path, FashionMnist.ClassNames);

        using var loaded = Sequential.Load(path);
        Assert.Equal(model.Layers.Select(l => (l.Name, l.KerasType, l.OutputShape)), loaded.Layers.Select(l => (l.Name, l.KerasType, l.OutputShape)));
        var x = InteropFixtures.Images(model, 3);
        Assert.True(model.Predict(x).eq(loaded.Predict(x)).all().item<bool>());
        Assert.Equal(FashionMnist.ClassNames, KerasArchive.ClassNames(path));
    }

    [Fact]
    public void A_model_with_augmentation_layers_saves_and_loads_them_with_their_keras_arguments()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var model = ModelPresets.Notebook(ImageShape.Cifar10, augment: [Augmentation.Flip, Augmentation.Translate, Augmentation.Crop]);
        KerasWeightsTests.Perturb(model);
        string path = dir.Combine("augmented.keras");
        model.Save(path);

        using var loaded = Sequential.Load(path);
        Assert.Equal(["RandomFlip", "RandomTranslation", "RandomCrop"], loaded.Layers.Take(3).Select(l => l.KerasType));
        Assert.Equal(FlipMode.Horizontal, ((RandomFlip)loaded.Layers[0]).Mode);
        Assert.Equal((-0.1, 0.1), ((RandomTranslation)loaded.Layers[1]).HeightRange);
        Assert.Equal(FillMode.Reflect, ((RandomTranslation)loaded.Layers[1]).FillMode);
        Assert.Equal((32, 32), (((RandomCrop)loaded.Layers[2]).Height, ((RandomCrop)loaded.Layers[2]).Width));
        using var zip = ZipFile.OpenRead(path);
        using var stream = zip.GetEntry("config.json")!.Open();
        var flip = JsonNode.Parse(stream)!["config"]!["layers"]![1]!["config"]!;
        Assert.Equal("horizontal", flip["mode"]!.GetValue<string>());             // Keras's mode string
        var x = InteropFixtures.Images(model, 3);
        Assert.True(model.Predict(x).eq(loaded.Predict(x)).all().item<bool>());   // identity at inference in both
    }

    [Fact]
    public void Saved_config_follows_keras_serialization()
    {
        using var dir = new TempDirectory();
        using var model = ModelPresets.Notebook(ImageShape.Cifar10);
        string path = dir.Combine("m.keras");
        model.Save(path);
        using var zip = ZipFile.OpenRead(path);
        Assert.Equal(["metadata.json", "config.json", "model.weights.h5"], zip.Entries.Select(e => e.FullName));
        using var stream = zip.GetEntry("config.json")!.Open();
        var config = JsonNode.Parse(stream)!.AsObject();
        Assert.Equal("Sequential", config["class_name"]!.GetValue<string>());
        Assert.Equal("keras", config["module"]!.GetValue<string>());
        var layers = config["config"]!["layers"]!.AsArray();
        Assert.Equal("InputLayer", layers[0]!["class_name"]!.GetValue<string>());
        Assert.Equal("[null,32,32,3]", layers[0]!["config"]!["batch_shape"]!.ToJsonString());
        var conv = layers[1]!.AsObject();
        Assert.Equal("keras.layers", conv["module"]!.GetValue<string>());
        Assert.Equal("[3,3]", conv["config"]!["kernel_size"]!.ToJsonString());
        Assert.Equal("relu", conv["config"]!["activation"]!.GetValue<string>());
        Assert.Equal("[null,32,32,3]", conv["build_config"]!["input_shape"]!.ToJsonString());
        Assert.Equal(15, layers.Count);                                      // InputLayer + the 14 layers
    }

    [Theory]
    [InlineData("GaussianNoise", null, "layer 'x' is a GaussianNoise, which this library does not have")]
    [InlineData("Dense", "kernel_regularizer", "kernel_regularizer = {\"class_name\":\"L2\"}, which this library does not support")]
    [InlineData("Dense", "mystery", "has an argument 'mystery' that this library does not know")]
    public void Unknown_layers_and_arguments_are_one_line_naming_them(string className, string? argument, string fragment)
    {
        using var dir = new TempDirectory();
        var dense = new JsonObject { ["name"] = "x", ["units"] = 3, ["activation"] = "softmax" };
        if (argument is not null)
        {
            dense[argument] = argument == "mystery" ? 1 : new JsonObject { ["class_name"] = "L2" };
        }

        var config = new JsonObject
        {
            ["module"] = "keras",
            ["class_name"] = "Sequential",
            ["config"] = new JsonObject
            {
                ["name"] = "s",
                ["layers"] = new JsonArray(
                    new JsonObject { ["class_name"] = "InputLayer", ["config"] = new JsonObject { ["batch_shape"] = new JsonArray(null, 4) } },
                    new JsonObject { ["module"] = "keras.layers", ["class_name"] = className, ["config"] = dense }),
            },
        };
        string path = dir.Combine("bad.keras");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using var writer = new StreamWriter(zip.CreateEntry("config.json").Open());
            writer.Write(config.ToJsonString());
        }

        var e = Assert.Throws<ModelFileException>(() => Sequential.Load(path));
        Assert.Contains(fragment, e.Message);
        Assert.Single(e.Message.Split('\n'));
    }

    [Fact]
    public void A_file_that_is_not_a_zip_is_one_line()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("m.keras");
        File.WriteAllText(path, "nope");
        var e = Assert.Throws<ModelFileException>(() => Sequential.Load(path));
        Assert.Contains("is not a .keras archive", e.Message);
    }
}
