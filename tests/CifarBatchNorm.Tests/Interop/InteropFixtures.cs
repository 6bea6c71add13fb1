using System.Text.Json;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Tests.Support;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Interop;

/// <summary>
/// The Keras-layout fixtures written by fixtures/make_fixtures.py (committed, so the tests need no Python) and the
/// tiny model they describe: input 8x6x3, Conv2D(4) BN MaxPool Conv2D(6) BN Flatten Dense(5) BN Dense(3, softmax).
/// </summary>
internal static class InteropFixtures
{
    public static string Path(string name) => RepositoryRoot.Combine("tests", "CifarBatchNorm.Tests", "Interop", "fixtures", name);

    public static Sequential TinyModel(bool renorm = false)
    {
        var model = new Sequential(new LayerShape(8, 6, 3));
        Layer Norm() => renorm ? new BatchRenormalization() : new BatchNormalization();
        model.Add(new Conv2D(4, 3, padding: ConvPadding.Same, activation: ActivationFunction.Relu));
        model.Add(Norm());
        model.Add(new MaxPooling2D(2));
        model.Add(new Conv2D(6, 3, padding: ConvPadding.Same, activation: ActivationFunction.Relu));
        model.Add(Norm());
        model.Add(new Flatten());
        model.Add(new Dense(5, activation: ActivationFunction.Relu));
        model.Add(Norm());
        model.Add(new Dense(3, activation: ActivationFunction.Softmax));
        return model;
    }

    /// <summary>The script's input (N, C, H, W for Predict), labels, and float64 probabilities and loss per model.</summary>
    public static Reference LoadReference(string key)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path("tiny-reference.json")));
        var root = document.RootElement;
        float[] nhwc = root.GetProperty("input_nhwc").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        long[] shape = root.GetProperty("input_shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        long[] labels = root.GetProperty("labels").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var model = root.GetProperty(key);
        double[] probabilities = model.GetProperty("probabilities").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        return new Reference(nhwc, shape, labels, probabilities, model.GetProperty("loss").GetDouble());
    }

    /// <summary>Max |a - b| over two equally long arrays.</summary>
    public static double MaxAbsDiff(IReadOnlyList<float> a, IReadOnlyList<double> b)
    {
        Assert.Equal(b.Count, a.Count);
        return a.Select((v, i) => Math.Abs(v - b[i])).Max();
    }

    public static float[] Values(Tensor t) => t.cpu().contiguous().data<float>().ToArray();

    /// <summary>Random (N, C, H, W) images in [0, 1] for a model, from a fixed seed.</summary>
    public static Tensor Images(Sequential model, int count, int seed = 3)
    {
        using var generator = new TorchSharp.torch.Generator((ulong)seed);
        return rand(model.InputShape.TorchShape(count), generator: generator);
    }

    internal sealed record Reference(float[] InputNhwc, long[] InputShape, long[] Labels, double[] Probabilities, double Loss)
    {
        /// <summary>The input as a (N, C, H, W) tensor.</summary>
        public Tensor Input() => tensor(InputNhwc, InputShape).permute(0, 3, 1, 2).contiguous();
    }
}
