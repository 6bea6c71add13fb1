using System.Text.Json.Nodes;
using CifarBatchNorm.Layers;

namespace CifarBatchNorm.Interop.Codecs;

/// <summary>
/// <see cref="BatchNormalization"/> in every format: Keras <c>BatchNormalization</c> (whose config this codec reads,
/// <c>renorm=True</c> included), PyTorch <c>nn.BatchNorm1d/2d</c>, ONNX <c>BatchNormalization</c> or folded into the convolution before it.
/// </summary>
internal sealed class BatchNormalizationCodec : LayerCodec<BatchNormalization>
{
    private static readonly VariableMapping[] Mapping =
    [
        new("gamma", "bn.weight", "weight", WeightLayout.Vector),
        new("beta", "bn.bias", "bias", WeightLayout.Vector),
        new("moving_mean", "bn.running_mean", "running_mean", WeightLayout.Vector),
        new("moving_variance", "bn.running_var", "running_var", WeightLayout.Vector),
    ];

    /// <inheritdoc />
    public override string? ReadsKerasClass => "BatchNormalization";

    /// <inheritdoc />
    public override bool TracksBatches => true;

    /// <inheritdoc />
    public override double? FoldableEpsilon(Layer layer) => ((BatchNormalization)layer).Epsilon;

    /// <inheritdoc />
    protected override IReadOnlyList<VariableMapping> Variables(BatchNormalization layer) => Mapping;

    /// <inheritdoc />
    protected override void WriteKerasConfig(BatchNormalization bn, JsonObject config) => AddBatchNorm(config, bn.Momentum, bn.Epsilon, renorm: null);

    /// <summary>The arguments Keras's <c>BatchNormalization</c> writes, with its renorm arguments when <paramref name="renorm"/> is given.</summary>
    internal static void AddBatchNorm(JsonObject config, double momentum, double epsilon, BatchRenormalization? renorm)
    {
        config["axis"] = -1;
        config["momentum"] = momentum;
        config["epsilon"] = epsilon;
        config["center"] = true;
        config["scale"] = true;
        config["beta_initializer"] = KerasConfig.Initializer("Zeros");
        config["gamma_initializer"] = KerasConfig.Initializer("Ones");
        config["moving_mean_initializer"] = KerasConfig.Initializer("Zeros");
        config["moving_variance_initializer"] = KerasConfig.Initializer("Ones");
        config["beta_regularizer"] = null;
        config["gamma_regularizer"] = null;
        config["beta_constraint"] = null;
        config["gamma_constraint"] = null;
        config["synchronized"] = false;
        if (renorm is null)
        {
            // Keras 3.8 to 3.13 have no renorm arguments and reject them: a plain BN writes none.
            return;
        }

        config["renorm"] = true;
        // Keras takes fixed clipping bounds: a schedule is written as its final bounds (inference does not use them).
        config["renorm_clipping"] = new JsonObject
        {
            ["rmax"] = Finite(renorm.Clipping.RMax),
            ["rmin"] = Finite(renorm.Clipping.RMin),
            ["dmax"] = Finite(renorm.Clipping.DMax),
        };
        config["renorm_momentum"] = renorm.RenormMomentum;
    }

    private static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    /// <inheritdoc />
    public override Layer ReadKerasConfig(ConfigArguments args, string name)
    {
        int axis = args.Int("axis", -1);
        if (axis is not (-1 or 3 or 1))
        {
            throw args.Unsupported("axis", axis);
        }

        double momentum = args.Double("momentum", 0.99);
        double epsilon = args.Double("epsilon", 1e-3);
        args.Expect("center", true);
        args.Expect("scale", true);
        foreach (string key in new[] { "beta_initializer", "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer" })
        {
            args.Take(key);
        }

        foreach (string key in new[] { "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint" })
        {
            args.Take(key, mustBeNull: true);
        }

        args.Take("synchronized");
        bool renorm = args.Bool("renorm", false);
        var clipping = args.Take("renorm_clipping") as JsonObject;
        double renormMomentum = args.Double("renorm_momentum", 0.99);
        if (!renorm)
        {
            return new BatchNormalization(momentum, epsilon, name: name);
        }

        // tf-keras's defaults for missing bounds: rmax inf, rmin 0, dmax inf.
        double rmax = clipping?["rmax"]?.GetValue<double>() ?? double.PositiveInfinity;
        double rmin = clipping?["rmin"]?.GetValue<double>() ?? 0;
        double dmax = clipping?["dmax"]?.GetValue<double>() ?? double.PositiveInfinity;
        return new BatchRenormalization(momentum, epsilon, renormMomentum, RenormClipping.Fixed(rmax, dmax, rmin), name);
    }

    /// <inheritdoc />
    protected override void AddPyTorchModules(BatchNormalization bn, PyTorchEquivalent.Modules modules) =>
        modules.AddWeights(bn, PyTorchEquivalent.BatchNorm(bn.InputShape, bn.Epsilon, bn.Momentum));

    /// <inheritdoc />
    protected override (string Output, bool FoldedNext) ExportOnnx(OnnxExporter.GraphBuilder graph, string x, BatchNormalization bn, Layer? next) =>
        (graph.BatchNorm(x, bn, bn.Epsilon), false);
}
