using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Interop;
using CifarBatchNorm.Tests.Support;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Interop;

/// <summary>
/// Keras weight files in and out. The fixtures come from fixtures/make_fixtures.py, which follows the layouts in
/// keras-team/keras keras/src/saving/saving_lib.py (H5IOStore) and keras-team/tf-keras
/// tf_keras/src/saving/legacy/hdf5_format.py, and computes the expected output in float64 in Keras's NHWC layout.
/// </summary>
public sealed class KerasWeightsTests
{
    [Theory]
    [InlineData("tiny-bn.weights.h5", "bn", false)]
    [InlineData("tiny-renorm.weights.h5", "renorm", true)]
    [InlineData("tiny-bn-keras2.h5", "bn", false)]
    public void Keras_file_from_the_script_predicts_and_evaluates_like_the_float64_reference(string file, string key, bool renorm)
    {
        using var scope = NewDisposeScope();
        var reference = InteropFixtures.LoadReference(key);
        using var model = InteropFixtures.TinyModel(renorm);
        model.LoadWeights(InteropFixtures.Path(file));

        var x = reference.Input();
        var probabilities = InteropFixtures.Values(model.Predict(x));
        Assert.True(InteropFixtures.MaxAbsDiff(probabilities, reference.Probabilities) < 1e-5,
            $"max |diff| {InteropFixtures.MaxAbsDiff(probabilities, reference.Probabilities)}");
        var result = model.Evaluate(x, tensor(reference.Labels));
        Assert.Equal(reference.Loss, result.Loss, 1e-4);
    }

    [Theory]
    [InlineData(NormalizationVariant.Bn)]
    [InlineData(NormalizationVariant.Renorm)]
    public void Keras3_weights_round_trip_gives_identical_predictions(NormalizationVariant variant)
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var trained = ModelPresets.Notebook(ImageShape.Cifar10, variant: variant);
        Perturb(trained);
        string path = dir.Combine("model.weights.h5");
        trained.SaveWeights(path);
        using var loaded = ModelPresets.Notebook(ImageShape.Cifar10, variant: variant);
        loaded.LoadWeights(path);
        var x = InteropFixtures.Images(trained, 4);
        Assert.True(trained.Predict(x).eq(loaded.Predict(x)).all().item<bool>());
    }

    [SkippableFact]
    public void Keras3_file_written_here_has_the_layout_h5py_reads_as_keras_does()
    {
        Python.Require("h5py", "numpy");
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var model = InteropFixtures.TinyModel();
        model.LoadWeights(InteropFixtures.Path("tiny-bn.weights.h5"));
        string written = dir.Combine("again.weights.h5");
        model.SaveWeights(written);

        // Every dataset of the script's file is in ours, with the same shape and values.
        var (code, output, error) = Python.Run("""
            import sys, h5py, numpy as np
            a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
            names = []
            a.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
            for n in names:
                assert n in b, n
                assert np.array_equal(a[n][()], b[n][()]), n
            print(len(names))
            """, InteropFixtures.Path("tiny-bn.weights.h5"), written);
        Assert.True(code == 0, error);
        Assert.Equal("20", output.Trim());
    }

    [Fact]
    public void Weights_of_another_architecture_name_the_first_mismatching_layer_and_leave_the_model_unchanged()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var other = ModelPresets.Notebook(new ImageShape(28, 28, 1));
        string path = dir.Combine("fashion.weights.h5");
        other.SaveWeights(path);
        using var model = ModelPresets.Notebook(ImageShape.Cifar10);
        var before = ModelState.Read(model);

        var e = Assert.Throws<ModelFileException>(() => model.LoadWeights(path));
        Assert.Contains("layer 'conv2d' (Conv2D)", e.Message);
        Assert.Contains("expected shape (3, 3, 3, 8), found (3, 3, 1, 8)", e.Message);
        AssertUnchanged(before, model);
    }

    [Fact]
    public void A_file_with_a_later_mismatch_copies_nothing()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        // Same convolutions, different classifier: the first layers match, dense_1 does not.
        using var other = ModelPresets.Notebook(ImageShape.Cifar10, classes: 5);
        string path = dir.Combine("five.weights.h5");
        other.SaveWeights(path);
        using var model = ModelPresets.Notebook(ImageShape.Cifar10);
        var before = ModelState.Read(model);

        var e = Assert.Throws<ModelFileException>(() => model.LoadWeights(path));
        Assert.Contains("layer 'dense_1' (Dense)", e.Message);
        Assert.Contains("expected shape (256, 10), found (256, 5)", e.Message);
        AssertUnchanged(before, model);
    }

    [Fact]
    public void Bn_weights_into_a_model_without_bn_name_the_missing_layer()
    {
        using var scope = NewDisposeScope();
        using var model = ModelPresets.Notebook(ImageShape.Cifar10, variant: NormalizationVariant.None);
        using var dir = new TempDirectory();
        using var bn = ModelPresets.Notebook(ImageShape.Cifar10);
        bn.SaveWeights(dir.Combine("bn.weights.h5"));
        var e = Assert.Throws<ModelFileException>(() => model.LoadWeights(dir.Combine("bn.weights.h5")));
        Assert.Contains("batch_normalization", e.Message);
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("not-hdf5")]
    [InlineData("empty")]
    public void Damaged_or_foreign_files_give_one_line_and_leave_the_model_unchanged(string kind)
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        string path = dir.Combine("bad.weights.h5");
        byte[] good = File.ReadAllBytes(InteropFixtures.Path("tiny-bn.weights.h5"));
        File.WriteAllBytes(path, kind switch
        {
            "truncated" => good[..(good.Length / 2)],
            "not-hdf5" => "this is a text file, not HDF5"u8.ToArray(),
            _ => [],
        });
        using var model = InteropFixtures.TinyModel();
        var before = ModelState.Read(model);

        var e = Assert.Throws<ModelFileException>(() => model.LoadWeights(path));
        Assert.Contains(path, e.Message);
        Assert.Single(e.Message.Split('\n'));
        Assert.Contains(kind == "truncated" ? "truncated" : "not an HDF5 file", e.Message);
        AssertUnchanged(before, model);
    }

    [Fact]
    public void Keras_path_names_follow_keras_snake_case_numbered_per_class()
    {
        using var model = ModelPresets.Notebook(ImageShape.Cifar10, variant: NormalizationVariant.Renorm);
        var paths = KerasWeightMapper.Layers(model).Select(l => l.KerasPath).ToArray();
        Assert.Equal(
            ["conv2d", "batch_normalization", "conv2d_1", "batch_normalization_1", "conv2d_2", "batch_normalization_2",
             "conv2d_3", "batch_normalization_3", "dense", "batch_normalization_4", "dense_1"],
            paths);
        // keras-team/keras keras/src/utils/naming.py to_snake_case
        Assert.Equal("max_pooling2d", KerasWeightMapper.SnakeCase("MaxPooling2D"));
        Assert.Equal("batch_normalization", KerasWeightMapper.SnakeCase("BatchNormalization"));
    }

    internal static void Perturb(Sequential model)
    {
        using var noGrad = no_grad();
        using var generator = new Generator(11);
        foreach (var (name, t) in model.state_dict())
        {
            if (t.dtype == ScalarType.Float32)
            {
                t.add_(rand(t.shape, generator: generator).mul(0.1));
            }
        }
    }

    internal static void AssertUnchanged(Dictionary<string, WeightArray> before, Sequential model)
    {
        var after = ModelState.Read(model);
        foreach (var (name, array) in before)
        {
            Assert.True(array.Data.AsSpan().SequenceEqual(after[name].Data), $"{name} changed");
        }
    }
}
