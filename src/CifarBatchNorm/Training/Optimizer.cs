using static TorchSharp.torch;

namespace CifarBatchNorm.Training;

/// <summary>
/// Base of the Keras-style optimizers: created with hyper-parameters only, bound to a model's parameters by
/// <c>Sequential.Compile</c> (or by <see cref="Bind"/> for a hand-written TorchSharp loop).
/// </summary>
public abstract class Optimizer
{
    private double _learningRate;
    private IReadOnlyList<TorchSharp.Modules.Parameter> _parameters = [];

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">Step size, positive and finite.</param>
    protected Optimizer(double learningRate)
    {
        LearningRate = learningRate;
    }

    /// <summary>Current learning rate; callbacks such as ReduceLROnPlateau change it between steps.</summary>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            if (!(value > 0) || double.IsInfinity(value))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "The learning rate must be positive and finite.");
            }

            _learningRate = value;
        }
    }

    /// <summary>Number of <see cref="Step"/> calls so far (Keras <c>optimizer.iterations</c>).</summary>
    public long Iterations { get; protected set; }

    /// <summary>
    /// Whether the optimizer has created its variables (Keras <c>optimizer.built</c>): after its first step or after
    /// its state was loaded. Keras 3 builds it when <c>fit</c> starts.
    /// </summary>
    public bool IsBuilt { get; protected set; }

    /// <summary>
    /// How many scalars Keras 3 counts in <c>optimizer.variables</c>: the iteration counter and the learning rate, plus
    /// the optimizer's slots (<see cref="SlotCount"/>). Shown by <c>Summary</c> as "Optimizer params" once built.
    /// </summary>
    public long VariableCount => 2 + SlotCount;

    /// <summary>
    /// Bytes of those variables as Keras 3 on TensorFlow sizes them: an int64 iteration counter (8 bytes), a float32
    /// learning rate (4) and float32 slots.
    /// </summary>
    public long VariableBytes => 8 + 4 + (SlotCount * 4);

    /// <summary>Scalars held in per-parameter slots (Adam: two moments per trainable weight).</summary>
    protected virtual long SlotCount => 0;

    /// <summary>Keras's name of the optimizer, e.g. <c>adam</c>.</summary>
    public abstract string KerasName { get; }

    /// <summary>The trainable parameters this optimizer updates.</summary>
    protected IReadOnlyList<TorchSharp.Modules.Parameter> Parameters => _parameters;

    /// <summary>Binds the optimizer to the parameters it will update (those with <c>requires_grad</c>).</summary>
    public virtual void Bind(IEnumerable<TorchSharp.Modules.Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = parameters.Where(p => p.requires_grad).ToArray();
        Iterations = 0;
    }

    /// <summary>Applies one update from the gradients currently stored in the parameters.</summary>
    public abstract void Step();

    /// <summary>Clears the parameters' gradients.</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters)
        {
            using var grad = p.grad;
            grad?.zero_();
        }
    }

    /// <summary>
    /// Writes the optimizer's state (iterations, learning rate and any per-parameter slots) so that
    /// <see cref="LoadState"/> on an optimizer bound to the same parameters continues bit for bit.
    /// </summary>
    public virtual void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(KerasName);
        writer.Write(Iterations);
        writer.Write(LearningRate);
        writer.Write(_parameters.Count);
    }

    /// <summary>Reads a state written by <see cref="SaveState"/>.</summary>
    /// <exception cref="InvalidDataException">The state is from another optimizer or another model.</exception>
    public virtual void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        string name = reader.ReadString();
        if (name != KerasName)
        {
            throw new InvalidDataException($"optimizer state is for '{name}', not '{KerasName}'.");
        }

        long iterations = reader.ReadInt64();
        double learningRate = reader.ReadDouble();
        int count = reader.ReadInt32();
        if (count != _parameters.Count)
        {
            throw new InvalidDataException($"optimizer state has {count} parameters, the model has {_parameters.Count}.");
        }

        Iterations = iterations;
        LearningRate = learningRate;
        IsBuilt = true;
    }

    /// <summary>Throws unless the optimizer has been bound.</summary>
    protected void EnsureBound()
    {
        if (_parameters.Count == 0)
        {
            throw new InvalidOperationException($"{KerasName} has no parameters: call Sequential.Compile (or Bind) first.");
        }
    }
}
