using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>
/// Fully connected layer, Keras <c>Dense</c>: <c>activation(x @ kernel + bias)</c>, kernel glorot-uniform,
/// bias zero. Its input size comes from the previous layer's output shape.
/// </summary>
public sealed class Dense : ActivatedLayer
{
    private Linear? _linear;

    /// <summary>Creates the layer.</summary>
    /// <param name="units">Output size; at least 1.</param>
    /// <param name="activation">Activation applied to the output. The default value is <see cref="ActivationFunction.Linear"/>.</param>
    /// <param name="useBias">Whether the layer has a bias. The default value is <c>true</c>.</param>
    /// <param name="name">Layer name; <c>null</c> (the default) lets the model pick <c>dense</c>, <c>dense_1</c>, ...</param>
    public Dense(int units, ActivationFunction activation = ActivationFunction.Linear, bool useBias = true, string? name = null)
        : base(activation, useBias, name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(units, 1);
        Units = units;
    }

    /// <summary>Output size.</summary>
    public int Units { get; }

    /// <summary>The underlying TorchSharp linear layer (weight (units, inputs)); available once built.</summary>
    public Linear Linear => _linear ?? throw new InvalidOperationException($"Dense '{Name}' is not built yet.");

    /// <inheritdoc />
    protected override LayerShape BuildCore(LayerShape inputShape)
    {
        if (inputShape.Rank != 1)
        {
            throw new ArgumentException($"Dense expects a flat input (units), got {inputShape}: add a Flatten layer before it.", nameof(inputShape));
        }

        _linear = nn.Linear(inputShape.Dims[0], Units, hasBias: UseBias);
        InitializeAndRegister("linear", _linear, _linear.weight!, _linear.bias);
        return new LayerShape(Units);
    }

    /// <inheritdoc />
    protected override Tensor ForwardLinear(Tensor input)
    {
        CheckRank(input, 2);
        return Linear.call(input);
    }
}
