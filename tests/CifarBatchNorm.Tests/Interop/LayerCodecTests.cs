using CifarBatchNorm.Interop;
using CifarBatchNorm.Interop.Codecs;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Tests.Support;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Interop;

/// <summary>One codec per layer type describes it in every format (Keras config and weights, safetensors, PyTorch, ONNX).</summary>
public sealed class LayerCodecTests
{
    [Fact]
    public void Every_concrete_layer_type_has_a_codec()
    {
        var layerTypes = typeof(Layer).Assembly.GetTypes().Where(t => typeof(Layer).IsAssignableFrom(t) && !t.IsAbstract).ToList();
        var covered = LayerCodecs.All.Select(c => c.LayerType).ToHashSet();

        var missing = layerTypes.Where(t => !covered.Contains(t)).Select(t => t.FullName).Order(StringComparer.Ordinal).ToList();

        Assert.True(missing.Count == 0,
            $"layer types without a codec in {nameof(LayerCodecs)} (no file format can describe them; add a LayerCodec): {string.Join(", ", missing)}");
        Assert.Equal(layerTypes.Count, LayerCodecs.All.Count);   // and no codec for a type that is gone, none twice
        Assert.Equal(11, layerTypes.Count);
    }

    [Fact]
    public void A_model_with_dropout_saves_and_loads_through_keras_safetensors_and_onnx()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var model = new Sequential(new LayerShape(6));
        model.Add(new Dense(4, ActivationFunction.Relu));
        model.Add(new Dropout(0.25));
        model.Add(new Dense(3, ActivationFunction.Softmax));
        var x = rand(5, 6);
        float[] expected = model.Predict(x).data<float>().ToArray();

        model.Save(dir.Combine("m.keras"));
        model.SaveWeights(dir.Combine("m.safetensors"));
        model.ExportOnnx(dir.Combine("m.onnx"));
        using var loaded = ModelFiles.Load(dir.Combine("m.keras"));

        var dropout = Assert.IsType<Dropout>(loaded.Layers[1]);
        Assert.Equal(0.25, dropout.Rate);
        Assert.Equal(expected, loaded.Predict(x).data<float>().ToArray());
        Assert.Contains("nn.Dropout(p=0.25)", SafetensorsWeights.ModuleSource(dir.Combine("m.safetensors")), StringComparison.Ordinal);
        Assert.True(new FileInfo(dir.Combine("m.onnx")).Length > 0);
    }
}
