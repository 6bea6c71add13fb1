using TorchSharp;
using static TorchSharp.torch;

namespace CifarBatchNorm.Layers;

/// <summary>
/// A Keras-style layer that is also a TorchSharp module. Like Keras, a layer creates its weights when it is
/// built for an input shape (<see cref="Build"/>, called by <c>Sequential.Add</c>), so only the first layer of
/// a model needs an input shape and <c>Flatten</c> followed by <c>Dense</c> needs no hand-computed size.
/// </summary>
public abstract class Layer : nn.Module<Tensor, Tensor>
{
    private LayerShape? _inputShape;
    private LayerShape? _outputShape;

    /// <summary>Creates an unbuilt layer.</summary>
    /// <param name="name">The layer's name; <c>null</c> lets the model assign Keras's default (<c>conv2d</c>, <c>conv2d_1</c>, ...).</param>
    protected Layer(string? name) : base(name ?? string.Empty)
    {
        if (name is not null && (name.Length == 0 || name.Contains('.', StringComparison.Ordinal)))
        {
            throw new ArgumentException($"Layer name '{name}' must be non-empty and contain no '.'.", nameof(name));
        }

        Name = name;
    }

    /// <summary>The layer's name in the model (Keras <c>layer.name</c>); <c>null</c> until the layer is added.</summary>
    public string? Name { get; internal set; }

    /// <summary>
    /// Whether the layer's weights are trained (Keras <c>layer.trainable</c>). The default value is <c>true</c>. Setting it
    /// to <c>false</c> freezes every parameter of the layer (no gradient, not updated, counted as non-trainable) and runs
    /// a <c>BatchNormalization</c> in inference mode, as Keras 3 does. Set it before <c>Compile</c>, which binds the
    /// optimizer to the trainable parameters.
    /// </summary>
    public bool Trainable
    {
        get => _trainable;
        set
        {
            _trainable = value;
            FreezeParameters();
        }
    }

    private bool _trainable = true;

    /// <summary>Applies <see cref="Trainable"/> to the parameters (also called once the layer is built).</summary>
    private void FreezeParameters()
    {
        foreach (var (name, p) in named_parameters())
        {
            p.requires_grad = _trainable && IsTrainableParameter(name);
        }
    }

    /// <summary>
    /// Whether the parameter <paramref name="name"/> is one of Keras's weights of this layer (false for a variable the
    /// layer's options switch off: it is never trained nor counted).
    /// </summary>
    protected internal virtual bool IsWeight(string name) => true;

    private bool IsTrainableParameter(string name) => IsWeight(name);

    /// <summary>Keras's class name, shown by <c>Summary</c> (<c>Conv2D</c>, <c>BatchNormalization</c>, ...).</summary>
    public virtual string KerasType => GetType().Name;

    /// <summary>Whether <see cref="Build"/> has run.</summary>
    public bool IsBuilt => _outputShape is not null;

    /// <summary>Shape of one input sample; throws before the layer is built.</summary>
    public LayerShape InputShape => _inputShape ?? throw NotBuilt();

    /// <summary>Shape of one output sample; throws before the layer is built.</summary>
    public LayerShape OutputShape => _outputShape ?? throw NotBuilt();

    /// <summary>The activation this layer applies last (Linear when none).</summary>
    public virtual ActivationFunction OutputActivation => ActivationFunction.Linear;

    /// <summary>Creates the weights for <paramref name="inputShape"/> and returns the output shape.</summary>
    /// <exception cref="InvalidOperationException">The layer is already built.</exception>
    /// <exception cref="ArgumentException">The layer does not accept this input shape.</exception>
    public LayerShape Build(LayerShape inputShape)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        if (IsBuilt)
        {
            throw new InvalidOperationException($"Layer '{Name}' is already built for input {_inputShape}; a layer instance can be used once.");
        }

        var output = BuildCore(inputShape);
        _inputShape = inputShape;
        _outputShape = output;
        FreezeParameters();
        return output;
    }

    /// <summary>Creates and registers the submodules; returns the output shape.</summary>
    protected abstract LayerShape BuildCore(LayerShape inputShape);

    /// <summary>
    /// The output before a final softmax, if this layer ends with one; otherwise the same as <c>forward</c>.
    /// Losses use it to compute cross-entropy on logits, as Keras does internally.
    /// </summary>
    public virtual Tensor ForwardLogits(Tensor input) => forward(input);

    /// <summary>
    /// The output before this layer's own activation (for a Conv2D or Dense with ReLU: the input of that ReLU; for an
    /// Activation layer: its input). Layers without an activation return <c>forward</c>. Used to watch activation drift.
    /// </summary>
    public virtual Tensor ForwardPreActivation(Tensor input) => forward(input);

    /// <summary>
    /// Takes the memory layouts the model runs with (called by <c>Sequential</c> when the layer is added and when its
    /// execution policy changes). Layers whose kernels care override it; the default ignores it.
    /// </summary>
    protected internal virtual void ApplyLayout(LayoutPolicy layout)
    {
    }

    /// <summary>Throws unless <paramref name="input"/> has the expected rank.</summary>
    protected void CheckRank(Tensor input, long rank)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != rank)
        {
            throw new ArgumentException($"{KerasType} '{Name}' expected {rank}D input, but got {input.dim()}D input of shape [{string.Join(", ", input.shape)}].");
        }
    }

    private InvalidOperationException NotBuilt() =>
        new($"{KerasType} '{Name}' is not built yet: add it to a Sequential model that has an input shape.");
}
