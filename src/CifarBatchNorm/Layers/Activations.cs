using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>Parses and applies <see cref="ActivationFunction"/> values.</summary>
internal static class Activations
{
    /// <summary>Parses a Keras activation name (<c>relu</c>, <c>softmax</c>, <c>sigmoid</c>, <c>tanh</c>, <c>linear</c>).</summary>
    public static ActivationFunction Parse(string name) => name?.ToLowerInvariant() switch
    {
        "linear" or "none" or "" => ActivationFunction.Linear,
        "relu" => ActivationFunction.Relu,
        "softmax" => ActivationFunction.Softmax,
        "sigmoid" => ActivationFunction.Sigmoid,
        "tanh" => ActivationFunction.Tanh,
        _ => throw new ArgumentException($"Unknown activation '{name}': use relu, softmax, sigmoid, tanh or linear."),
    };

    /// <summary>Keras's name of the activation.</summary>
    public static string Name(ActivationFunction activation) => activation.ToString().ToLowerInvariant();

    /// <summary>Applies the activation. Softmax runs over dimension 1 (the features/classes).</summary>
    public static Tensor Apply(ActivationFunction activation, Tensor x) => activation switch
    {
        ActivationFunction.Linear => x,
        ActivationFunction.Relu => nn.functional.relu(x),
        ActivationFunction.Softmax => nn.functional.softmax(x, 1),
        ActivationFunction.Sigmoid => nn.functional.sigmoid(x),
        ActivationFunction.Tanh => nn.functional.tanh(x),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation."),
    };
}
