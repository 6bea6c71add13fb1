using TorchSharp;
using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>
/// A layer computing <c>activation(linear(x))</c> with Keras's initialisation (glorot-uniform kernel, zero bias):
/// the shared part of <see cref="Conv2D"/> and <see cref="Dense"/>.
/// </summary>
public abstract class ActivatedLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="activation">Activation applied to the output.</param>
    /// <param name="useBias">Whether the layer has a bias.</param>
    /// <param name="name">Layer name, or <c>null</c> for Keras's default.</param>
    protected ActivatedLayer(ActivationFunction activation, bool useBias, string? name) : base(name)
    {
        Activation = activation;
        UseBias = useBias;
    }

    /// <summary>Activation applied to the output.</summary>
    public ActivationFunction Activation { get; }

    /// <summary>Whether the layer has a bias.</summary>
    public bool UseBias { get; }

    /// <inheritdoc />
    public override ActivationFunction OutputActivation => Activation;

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => Activations.Apply(Activation, ForwardLinear(input));

    /// <inheritdoc />
    public override Tensor ForwardLogits(Tensor input) =>
        Activation == ActivationFunction.Softmax ? ForwardLinear(input) : forward(input);

    /// <inheritdoc />
    public override Tensor ForwardPreActivation(Tensor input) => ForwardLinear(input);

    /// <summary>The output before the activation.</summary>
    protected abstract Tensor ForwardLinear(Tensor input);

    /// <summary>Applies Keras's initialisation to a freshly created module and registers it under <paramref name="name"/>.</summary>
    protected void InitializeAndRegister(string name, nn.Module module, Tensor weight, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(weight);
        nn.init.xavier_uniform_(weight);
        if (bias is not null)
        {
            nn.init.zeros_(bias);
        }

        register_module(name, module);
    }
}
