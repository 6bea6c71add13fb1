using System.Text.Json.Nodes;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Interop;

/// <summary>
/// What a compiled model adds to a <c>.keras</c> archive, as Keras 3.8 writes it: the <c>compile_config</c>
/// (keras/src/trainers/trainer.py, <c>compile</c>: a SerializableDict of optimizer, loss, loss_weights, metrics,
/// weighted_metrics, run_eagerly, steps_per_execution, jit_compile; the optimizer serialized with its
/// <c>get_config</c>, base_optimizer.py and adam.py / sgd.py), and the optimizer's variables under
/// <c>optimizer/vars/&lt;i&gt;</c> of <c>model.weights.h5</c> (base_optimizer.py <c>save_own_variables</c>: the
/// iteration, the learning rate unless it is a schedule, then the slots in creation order). Only this library's Keras
/// optimizers (Adam, AdamW, SGD; a fixed rate, ExponentialDecay or CosineDecay) have a Keras form; anything else is
/// written as not compiled.
/// </summary>
internal static class KerasCompileState
{
    /// <summary>The model's compile_config, or <c>null</c> when it is not compiled with an optimizer Keras can rebuild.</summary>
    public static JsonObject? CompileConfig(Sequential model)
    {
        if (KerasOptimizer(model) is not { } optimizer)
        {
            return null;
        }

        var config = new JsonObject
        {
            ["name"] = optimizer.KerasName,
            ["learning_rate"] = optimizer.Schedule is { } schedule ? Schedule(schedule) : optimizer.LearningRate,
            ["weight_decay"] = optimizer.WeightDecay,
            ["clipnorm"] = optimizer.ClipNorm,
            ["global_clipnorm"] = optimizer.GlobalClipNorm,
            ["clipvalue"] = optimizer.ClipValue,
            ["use_ema"] = false,
            ["ema_momentum"] = 0.99,
            ["ema_overwrite_frequency"] = null,
            ["loss_scale_factor"] = null,
            ["gradient_accumulation_steps"] = null,
        };
        string className;
        switch (optimizer)
        {
            case Adam adam:
                className = adam is AdamW ? "AdamW" : "Adam";
                config["beta_1"] = adam.Beta1;
                config["beta_2"] = adam.Beta2;
                config["epsilon"] = adam.Epsilon;
                config["amsgrad"] = adam.AmsGrad;
                break;
            case Sgd sgd:
                className = "SGD";
                config["momentum"] = sgd.Momentum;
                config["nesterov"] = sgd.Nesterov;
                break;
            default:
                return null;
        }

        double smoothing = model.Loss?.LabelSmoothing ?? 0;
        JsonNode loss = smoothing == 0 ? JsonValue.Create("categorical_crossentropy") : new JsonObject
        {
            ["module"] = "keras.losses",
            ["class_name"] = "CategoricalCrossentropy",
            ["config"] = new JsonObject
            {
                ["name"] = "categorical_crossentropy",
                ["reduction"] = "sum_over_batch_size",
                ["from_logits"] = false,
                ["label_smoothing"] = smoothing,
                ["axis"] = -1,
                ["dtype"] = null,
            },
            ["registered_name"] = null,
        };
        return new JsonObject
        {
            ["optimizer"] = new JsonObject
            {
                ["module"] = "keras.optimizers",
                ["class_name"] = className,
                ["config"] = config,
                ["registered_name"] = null,
            },
            ["loss"] = loss,
            ["loss_weights"] = null,
            ["metrics"] = new JsonArray("accuracy"),
            ["weighted_metrics"] = null,
            ["run_eagerly"] = false,
            ["steps_per_execution"] = 1,
            ["jit_compile"] = "auto",
        };
    }

    /// <summary>
    /// The optimizer's variables in Keras's order and layout, or <c>null</c> when <see cref="CompileConfig"/> is
    /// <c>null</c> or the optimizer is bound to other parameters than the model's trainable weights: the iteration (int64 scalar), the learning rate (float32 scalar) and, once the optimizer has
    /// taken a step (Keras builds it when fit starts), each slot in its parameter's Keras layout.
    /// </summary>
    public static IReadOnlyList<(long[] Shape, object Data)>? Variables(Sequential model)
    {
        if (CompileConfig(model) is null || KerasOptimizer(model) is not { } optimizer)
        {
            return null;
        }

        // base_optimizer.py keeps a schedule as it is: only a fixed rate is a variable.
        var result = new List<(long[], object)> { ([], optimizer.Iterations) };
        if (optimizer.Schedule is null)
        {
            result.Add(([], (float)optimizer.LearningRate));
        }

        if (!optimizer.IsBuilt)
        {
            return result;
        }

        // The optimizer updates the parameters with requires_grad, in the model's order: map each to its Keras variable.
        var byName = KerasWeightMapper.Layers(model)
            .SelectMany(l => l.Variables.Select(v => (Key: $"{l.Name}.{v.StateSuffix}", v.Layout, l.FlattenedFrom)))
            .ToDictionary(e => e.Key, e => (e.Layout, e.FlattenedFrom), StringComparer.Ordinal);
        var parameters = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        if (parameters.Count != optimizer.ParameterCount || parameters.Any(n => !byName.ContainsKey(n)))
        {
            return null;   // bound to other parameters than the model's trainable weights: no state Keras could match
        }

        using var scope = NewDisposeScope();
        foreach (var (index, slot) in optimizer.KerasSlots)
        {
            var (layout, flattenedFrom) = byName[parameters[index]];
            float[] data = slot.detach().cpu().contiguous().data<float>().ToArray();
            var (shape, keras) = KerasWeightMapper.ToKeras(layout, slot.shape, data, flattenedFrom);
            result.Add((shape, keras));
        }

        return result;
    }

    /// <summary>The model's optimizer when Keras can rebuild it: Adam, AdamW or SGD with a fixed rate or a schedule Keras has.</summary>
    private static Optimizer? KerasOptimizer(Sequential model) =>
        model.Optimizer is Adam or Sgd && model.Optimizer.Schedule is null or ExponentialDecay or CosineDecay ? model.Optimizer : null;

    /// <summary>A schedule as serialization_lib serializes it, with learning_rate_schedule.py's get_config (v3.8.0).</summary>
    private static JsonObject Schedule(LearningRateSchedule schedule)
    {
        var (className, config) = schedule switch
        {
            ExponentialDecay e => ("ExponentialDecay", new JsonObject
            {
                ["initial_learning_rate"] = e.InitialLearningRate,
                ["decay_steps"] = e.DecaySteps,
                ["decay_rate"] = e.DecayRate,
                ["staircase"] = e.Staircase,
                ["name"] = "ExponentialDecay",
            }),
            CosineDecay c => ("CosineDecay", new JsonObject
            {
                ["initial_learning_rate"] = c.InitialLearningRate,
                ["decay_steps"] = c.DecaySteps,
                ["alpha"] = c.Alpha,
                ["name"] = "CosineDecay",
                ["warmup_target"] = c.WarmupTarget,
                ["warmup_steps"] = c.WarmupSteps,
            }),
            _ => throw new ArgumentException($"{schedule.GetType().Name} has no Keras form.", nameof(schedule)),
        };
        return new JsonObject
        {
            ["module"] = "keras.optimizers.schedules",
            ["class_name"] = className,
            ["config"] = config,
            ["registered_name"] = null,
        };
    }
}
