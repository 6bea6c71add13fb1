namespace CifarBatchNorm.Layers;

/// <summary>The activations a layer can apply to its output, named as in Keras.</summary>
public enum ActivationFunction
{
    /// <summary>No activation (Keras <c>linear</c>).</summary>
    Linear,

    /// <summary><c>max(x, 0)</c>.</summary>
    Relu,

    /// <summary>Softmax over the last axis (the classes).</summary>
    Softmax,

    /// <summary>Logistic sigmoid.</summary>
    Sigmoid,

    /// <summary>Hyperbolic tangent.</summary>
    Tanh,
}
