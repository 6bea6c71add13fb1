using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CifarBatchNorm.Training;

/// <summary>
/// Any TorchSharp optimizer (<c>torch.optim.SGD</c>, <c>Adam</c>, <c>RMSProp</c>, ...) in a Keras-style model:
/// <c>model.Compile(torch.optim.Adam(model.parameters()))</c>. Each step calls the optimizer's own <c>step()</c>, so
/// PyTorch's update rules apply, not Keras's (PyTorch's Adam puts epsilon elsewhere, its SGD momentum keeps no
/// learning rate, its weight decay is L2 unless the optimizer says otherwise), and no Keras clipping or weight decay
/// is added.
/// </summary>
/// <remarks>
/// Keras callbacks that set <see cref="Optimizer.LearningRate"/> (ReduceLROnPlateau) scale every parameter group's
/// learning rate by the same factor, keeping their ratios. The first group's learning rate is the starting value.
/// The optimizer's state is saved and loaded with TorchSharp's <c>save_state_dict</c>/<c>load_state_dict</c>, so a
/// checkpointed run resumes; <c>Summary</c> counts only the iteration and the learning rate as optimizer variables.
/// </remarks>
public sealed class TorchOptimizer : Optimizer
{
    private double _applied;

    /// <summary>Wraps <paramref name="optimizer"/>, created over this model's parameters.</summary>
    /// <exception cref="ArgumentException">The optimizer has no parameter groups or a learning rate that is not positive.</exception>
    public TorchOptimizer(optim.Optimizer optimizer)
        : base(StartingRate(optimizer))
    {
        Inner = optimizer;
        _applied = LearningRate;
    }

    /// <summary>The wrapped TorchSharp optimizer.</summary>
    public optim.Optimizer Inner { get; }

    /// <inheritdoc />
    public override string KerasName => "torch";

    /// <summary>
    /// Checks that the TorchSharp optimizer updates parameters of this model, then binds.
    /// </summary>
    /// <exception cref="ArgumentException">The optimizer was created over another model's parameters.</exception>
    public override void Bind(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var model = parameters.ToList();
        var handles = model.Select(p => p.Handle).ToHashSet();
        if (!Inner.parameters().Any(p => handles.Contains(p.Handle)))
        {
            throw new ArgumentException(
                "The TorchSharp optimizer updates none of this model's parameters: create it over model.parameters() of the model you compile.",
                nameof(parameters));
        }

        base.Bind(model);
    }

    /// <inheritdoc />
    protected override void UpdateStep(IReadOnlyList<Tensor?> gradients, double learningRate)
    {
        if (learningRate != _applied)
        {
            double factor = learningRate / _applied;
            foreach (var group in Inner.ParamGroups)
            {
                group.LearningRate *= factor;
            }

            _applied = learningRate;
        }

        Inner.step();
    }

    /// <inheritdoc />
    public override void SaveState(BinaryWriter writer)
    {
        base.SaveState(writer);
        writer.Write(_applied);
        Helper().save_state_dict(writer);
    }

    /// <inheritdoc />
    public override void LoadState(BinaryReader reader)
    {
        base.LoadState(reader);
        _applied = reader.ReadDouble();
        Helper().load_state_dict(reader);
    }

    private OptimizerHelper Helper() => Inner as OptimizerHelper
        ?? throw new NotSupportedException($"{Inner.GetType().Name} cannot save its state (it is not one of TorchSharp's managed optimizers).");

    private static double StartingRate(optim.Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        double rate = optimizer.ParamGroups.Select(g => g.LearningRate).DefaultIfEmpty(double.NaN).First();
        return rate > 0 && double.IsFinite(rate)
            ? rate
            : throw new ArgumentException($"The TorchSharp optimizer's learning rate is {rate}; it must be positive.", nameof(optimizer));
    }
}
