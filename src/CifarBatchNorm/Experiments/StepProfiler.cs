using System.Diagnostics;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Times one training step of a compiled model part by part, as <see cref="Trainer.TrainOnBatch"/> runs it: zero_grad,
/// the forward of each stage (a layer, or the two or three the fused kernels run as one; <c>Sequential.ForwardStage</c>), the
/// loss, the backward of the loss and of each stage, the optimizer and the read-back of the loss and correct count.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 does not expose libtorch's profiler, so these are timed spans. On the CPU every kernel returns when
/// its work is done, so a stopwatch around a stage's forward measures it. For the backward pass an identity autograd
/// function (a marker) sits before every stage but the first; libtorch runs the backward in reverse order of creation,
/// so a marker's backward runs once the backward of every operation of the stage after it is done, and records the
/// time: a stage's backward is the time between its two markers (the first stage's ends when <c>backward()</c>
/// returns). The markers' forward calls are outside every span (the profile's "unattributed" time).
/// </remarks>
internal sealed class StepProfiler(Sequential model)
{
    private List<string>? _stageNames;

    /// <summary>The parts in the order <see cref="Step"/> returns their times.</summary>
    public IReadOnlyList<(string Name, string Pass)> Parts
    {
        get
        {
            var stages = _stageNames ?? throw new InvalidOperationException("Run a profiled step first: the stages are known after one forward pass.");
            return
            [
                ("zero_grad", "optimizer"),
                .. stages.Select(s => (s, "forward")),
                ("loss", "forward"),
                ("loss", "backward"),
                .. stages.Select(s => (s, "backward")),
                ("optimizer", "optimizer"),
                ("metrics", "readback"),
            ];
        }
    }

    /// <summary>One profiled step on a ready batch; returns each part's milliseconds (in the order of <see cref="Parts"/>) and the whole step's.</summary>
    public (double[] PartsMs, double TotalMs) Step(Tensor images, Tensor labels)
    {
        var trainer = model.Trainer ?? throw new InvalidOperationException("Compile the model before profiling it.");
        trainer.EnterTraining();
        using var scope = NewDisposeScope();
        var names = new List<string>();
        var forward = new List<long>();
        long start = Stopwatch.GetTimestamp();

        trainer.Optimizer.ZeroGrad();
        long zeroGrad = Stopwatch.GetTimestamp() - start;

        var marks = new Marks(model.Layers.Count + 1);
        var x = images;
        for (int i = 0; i < model.Layers.Count;)
        {
            if (names.Count > 0)
            {
                x = Marker.apply(x, marks, names.Count);
            }

            long begin = Stopwatch.GetTimestamp();
            int used = model.ForwardStage(i, logits: true, ref x);
            forward.Add(Stopwatch.GetTimestamp() - begin);
            names.Add(string.Join('+', model.Layers.Skip(i).Take(used).Select(l => l.Name)));
            i += used;
        }

        int stages = names.Count;
        x = Marker.apply(x, marks, stages);
        long lossStart = Stopwatch.GetTimestamp();
        var loss = trainer.ComputeLoss(x, labels);
        long backwardStart = Stopwatch.GetTimestamp();
        long lossForward = backwardStart - lossStart;
        loss.backward();
        long backwardEnd = Stopwatch.GetTimestamp();

        long optimizerStart = Stopwatch.GetTimestamp();
        trainer.Optimizer.Step();
        long metricsStart = Stopwatch.GetTimestamp();
        using (no_grad())
        {
            _ = loss.item<float>();
            _ = x.argmax(1).eq(labels).sum().item<long>();
        }

        long end = Stopwatch.GetTimestamp();
        _stageNames ??= names;
        if (!_stageNames.SequenceEqual(names))
        {
            throw new InvalidOperationException("The model's stages changed between profiled steps.");
        }

        var backward = new long[stages];
        for (int k = 1; k < stages; k++)
        {
            backward[k] = marks.At(k) - marks.At(k + 1);
        }

        backward[0] = backwardEnd - marks.At(1 < stages ? 1 : stages);
        long lossBackward = marks.At(stages) - backwardStart;
        long[] ticks = [zeroGrad, .. forward, lossForward, lossBackward, .. backward, metricsStart - optimizerStart, end - metricsStart];
        return (ticks.Select(Milliseconds).ToArray(), Milliseconds(end - start));
    }

    private static double Milliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    /// <summary>The timestamps the markers' backward calls record, by stage index.</summary>
    private sealed class Marks(int capacity)
    {
        private readonly long[] _ticks = new long[capacity];

        public void Record(int index) => _ticks[index] = Stopwatch.GetTimestamp();

        public long At(int index) =>
            _ticks[index] != 0 ? _ticks[index] : throw new InvalidOperationException($"The marker before stage {index} was not reached in the backward pass.");
    }

    /// <summary>Identity in forward; its backward records the time and passes the gradient on unchanged.</summary>
    private sealed class Marker : autograd.SingleTensorFunction<Marker>
    {
        public override string Name => "ProfileMarker";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            ctx.save_data("marks", vars[1]);
            ctx.save_data("index", vars[2]);
            return ((Tensor)vars[0]).alias();
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
        {
            ((Marks)ctx.get_data("marks")).Record((int)ctx.get_data("index"));
            return [grad_output, null!, null!];
        }
    }
}
