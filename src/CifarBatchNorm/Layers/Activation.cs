using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>Keras <c>Activation</c>: applies an activation function on its own, e.g. ReLU after a normalization.</summary>
public sealed class Activation : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="function">The activation.</param>
    /// <param name="name">Layer name; <c>null</c> (the default) lets the model pick <c>activation</c>, ...</param>
    public Activation(ActivationFunction function, string? name = null) : base(name)
    {
        Function = function;
    }

    /// <summary>The activation.</summary>
    public ActivationFunction Function { get; }

    /// <inheritdoc />
    public override ActivationFunction OutputActivation => Function;

    /// <inheritdoc />
    protected override LayerShape BuildCore(LayerShape inputShape)
    {
        if (Function == ActivationFunction.Softmax && inputShape.Rank != 1)
        {
            throw new ArgumentException($"softmax Activation expects a flat input (classes), got {inputShape}.", nameof(inputShape));
        }

        return inputShape;
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => Activations.Apply(Function, input);

    /// <inheritdoc />
    public override Tensor ForwardPreActivation(Tensor input) => input.alias();

    /// <inheritdoc />
    public override Tensor ForwardLogits(Tensor input) => Function == ActivationFunction.Softmax ? input.alias() : forward(input);
}
