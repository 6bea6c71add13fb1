using static TorchSharp.torch;

namespace CifarBatchNorm.Training;

/// <summary>
/// Base of the Keras-style optimizers: created with hyper-parameters only, bound to a model's parameters by
/// <c>Sequential.Compile</c> (or by <see cref="Bind"/> for a hand-written TorchSharp loop).
/// </summary>
/// <remarks>
/// One <see cref="Step"/> does what Keras 3's <c>optimizer.apply</c> does: clip the gradients (<see cref="ClipNorm"/>
/// per variable, else <see cref="GlobalClipNorm"/>, else <see cref="ClipValue"/>), apply decoupled weight decay
/// (<c>w -= w * weight_decay * lr</c>, <see cref="WeightDecay"/>), then the optimizer's own update
/// (<see cref="UpdateStep"/>), and count the iteration. The learning rate is a number, or a
/// <see cref="LearningRateSchedule"/> evaluated at <see cref="Iterations"/> before each step.
/// </remarks>
public abstract class Optimizer
{
    private double _learningRate;
    private IReadOnlyList<TorchSharp.Modules.Parameter> _parameters = [];

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">Step size, positive and finite.</param>
    /// <param name="options">Clipping and weight decay; <c>null</c> for none.</param>
    protected Optimizer(double learningRate, OptimizerOptions? options = null)
    {
        LearningRate = learningRate;
        var o = (options ?? new OptimizerOptions()).Validate();
        WeightDecay = o.WeightDecay;
        ClipNorm = o.ClipNorm;
        ClipValue = o.ClipValue;
        GlobalClipNorm = o.GlobalClipNorm;
    }

    /// <summary>Creates an optimizer whose learning rate follows <paramref name="schedule"/>.</summary>
    /// <param name="schedule">The learning rate per iteration (Keras <c>LearningRateSchedule</c>).</param>
    /// <param name="options">Clipping and weight decay; <c>null</c> for none.</param>
    protected Optimizer(LearningRateSchedule schedule, OptimizerOptions? options = null)
        : this(1.0, options)
    {
        Schedule = schedule ?? throw new ArgumentNullException(nameof(schedule));
    }

    /// <summary>The schedule the learning rate follows, or <c>null</c> for a fixed learning rate.</summary>
    public LearningRateSchedule? Schedule { get; }

    /// <summary>Decoupled weight decay (Keras <c>weight_decay</c>), or <c>null</c> for none.</summary>
    public double? WeightDecay { get; }

    /// <summary>Each gradient is rescaled to at most this norm (Keras <c>clipnorm</c>), or <c>null</c>.</summary>
    public double? ClipNorm { get; }

    /// <summary>Each gradient element is clipped to [-value, value] (Keras <c>clipvalue</c>), or <c>null</c>.</summary>
    public double? ClipValue { get; }

    /// <summary>All gradients together are rescaled to at most this global norm (Keras <c>global_clipnorm</c>), or <c>null</c>.</summary>
    public double? GlobalClipNorm { get; }

    /// <summary>
    /// The learning rate of the next step: the schedule's value at <see cref="Iterations"/>, or the fixed value, which
    /// callbacks such as ReduceLROnPlateau change between steps.
    /// </summary>
    /// <exception cref="InvalidOperationException">Set while the learning rate is a schedule.</exception>
    public double LearningRate
    {
        get => Schedule?.At(Iterations) ?? _learningRate;
        set
        {
            if (Schedule is not null)
            {
                throw new InvalidOperationException("The learning rate follows a schedule; it cannot be set (Keras refuses this too).");
            }

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
    /// the optimizer's slots (<see cref="SlotCount"/>). Shown by <c>Summary</c> as "Optimizer params" once built. With a
    /// <see cref="Schedule"/> there is no learning-rate variable (Keras's base_optimizer.py keeps the schedule itself).
    /// </summary>
    public long VariableCount => 1 + (Schedule is null ? 1 : 0) + SlotCount;

    /// <summary>
    /// Bytes of those variables as Keras 3 on TensorFlow sizes them: an int64 iteration counter (8 bytes), a float32
    /// learning rate (4, none with a schedule) and float32 slots.
    /// </summary>
    public long VariableBytes => 8 + (Schedule is null ? 4 : 0) + (SlotCount * 4);

    /// <summary>Scalars held in per-parameter slots (Adam: two moments per trainable weight).</summary>
    protected long SlotCount => Slots.Sum(t => t.numel());

    /// <summary>The per-parameter state tensors (moments, velocities), saved and loaded with the optimizer's state.</summary>
    protected virtual IEnumerable<Tensor> Slots => [];

    /// <summary>
    /// The slots in the order Keras 3 creates its optimizer variables after the iteration and the learning rate, each
    /// with the index of its parameter in <see cref="Parameters"/> (Adam: momentum and velocity per parameter, then
    /// the AMSGrad maxima; SGD: one momentum per parameter).
    /// </summary>
    internal virtual IEnumerable<(int Parameter, Tensor Slot)> KerasSlots => [];

    /// <summary>How many parameters the optimizer updates.</summary>
    internal int ParameterCount => _parameters.Count;

    /// <summary>Keras's name of the optimizer, e.g. <c>adam</c>.</summary>
    public abstract string KerasName { get; }

    /// <summary>
    /// Whether the update may run as one C# pass per parameter where the optimizer has one (Adam, for contiguous
    /// float32 CPU tensors) instead of libtorch's kernels: the same formula, rounded differently. The trainer sets it
    /// from <see cref="ExecutionPolicy.FusedKernels"/> at the start of training.
    /// </summary>
    internal bool FusedUpdate { get; set; }

    /// <summary>The trainable parameters this optimizer updates.</summary>
    protected IReadOnlyList<TorchSharp.Modules.Parameter> Parameters => _parameters;

    /// <summary>Binds the optimizer to the parameters it will update (those with <c>requires_grad</c>).</summary>
    public virtual void Bind(IEnumerable<TorchSharp.Modules.Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = parameters.Where(p => p.requires_grad).ToArray();
        Iterations = 0;
    }

    /// <summary>
    /// Applies one update from the gradients currently stored in the parameters: clipping, weight decay, the
    /// optimizer's update, and the iteration count.
    /// </summary>
    /// <exception cref="InvalidOperationException">No parameter has a gradient (Keras: "No gradients provided for any variable.").</exception>
    public void Step()
    {
        EnsureBound();
        double learningRate = LearningRate;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var gradients = ClipGradients();
        if (gradients.All(g => g is null))
        {
            // Keras 3 base_optimizer.py (_filter_empty_gradients) raises rather than count a step that changed nothing.
            throw new InvalidOperationException(
                $"No gradients provided for any variable: none of the {_parameters.Count} parameters {KerasName} updates has a gradient; call backward() on the loss before Step().");
        }

        IsBuilt = true;
        if (WeightDecay is double decay)
        {
            foreach (var p in _parameters)
            {
                p.mul_(1 - (decay * learningRate));
            }
        }

        UpdateStep(gradients, learningRate);
        Iterations++;
    }

    /// <summary>
    /// The optimizer's own update for one step, from the (clipped) gradients, one per parameter (<c>null</c> where a
    /// parameter has none). <see cref="Iterations"/> still counts the steps before this one.
    /// </summary>
    /// <param name="gradients">Gradients, in the order of <see cref="Parameters"/>.</param>
    /// <param name="learningRate">The learning rate of this step.</param>
    protected abstract void UpdateStep(IReadOnlyList<Tensor?> gradients, double learningRate);

    private Tensor?[] ClipGradients()
    {
        var gradients = _parameters.Select(p => p.grad).ToArray();
        if (ClipNorm is double maxNorm)
        {
            for (int i = 0; i < gradients.Length; i++)
            {
                if (gradients[i] is { } g)
                {
                    gradients[i] = g * (maxNorm / Math.Max(g.norm().item<float>(), maxNorm));
                }
            }
        }
        else if (GlobalClipNorm is double maxGlobal)
        {
            double global = Math.Sqrt(gradients.Where(g => g is not null).Sum(g => g!.square().sum().item<float>()));
            double factor = maxGlobal / Math.Max(global, maxGlobal);
            for (int i = 0; i < gradients.Length; i++)
            {
                gradients[i] = gradients[i] is { } g ? g * factor : null;
            }
        }
        else if (ClipValue is double value)
        {
            for (int i = 0; i < gradients.Length; i++)
            {
                gradients[i] = gradients[i]?.clamp(-value, value);
            }
        }

        return gradients;
    }

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
        writer.Write(_learningRate);
        writer.Write(_parameters.Count);
        foreach (var slot in Slots)
        {
            TorchSharp.TensorExtensionMethods.Save(slot, writer);
        }
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

        using (no_grad())
        {
            foreach (var slot in Slots)
            {
                using var saved = TorchSharp.TensorExtensionMethods.Load(reader);
                if (!saved.shape.SequenceEqual(slot.shape))
                {
                    throw new InvalidDataException($"optimizer state has a slot of shape [{string.Join(", ", saved.shape)}], the model needs [{string.Join(", ", slot.shape)}].");
                }

                slot.copy_(saved);
            }
        }

        Iterations = iterations;
        if (Schedule is null)
        {
            LearningRate = learningRate;
        }

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
