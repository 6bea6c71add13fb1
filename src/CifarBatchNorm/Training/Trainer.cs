using System.Diagnostics;
using CifarBatchNorm.Callbacks;
using CifarBatchNorm.Data;
using static TorchSharp.torch;

namespace CifarBatchNorm.Training;

/// <summary>
/// The loops of Keras's <c>fit</c>, <c>evaluate</c> and <c>predict</c> for a <see cref="Sequential"/> model, with the
/// work of one batch in three methods to override: <see cref="TrainStep"/> (forward, loss, backward, optimizer
/// step), <see cref="TestStep"/> and <see cref="PredictStep"/>. <c>Sequential.Compile</c> creates one; assign
/// <c>model.Trainer</c> a subclass to change a step (gradient clipping, extra losses, counting).
/// </summary>
/// <remarks>
/// Every step runs inside its own dispose scope opened by the loop, so a step may create tensors freely. Loss and
/// accuracy are read back after every training step because callbacks and the progress bar show them per batch
/// (Keras does the same). <see cref="Sequential.StopTraining"/> is honoured after any batch, as in Keras 3.
/// </remarks>
public class Trainer
{
    private int _stepsSinceCollection;

    /// <summary>Creates the trainer of <paramref name="model"/>, binding <paramref name="optimizer"/> to its parameters.</summary>
    /// <param name="model">The model to train.</param>
    /// <param name="optimizer">Updates the model's trainable parameters.</param>
    /// <param name="loss">The loss. The default value is categorical cross-entropy.</param>
    public Trainer(Sequential model, Optimizer optimizer, CategoricalCrossentropy? loss = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        Loss = loss ?? new CategoricalCrossentropy();
        optimizer.Bind(model.parameters());
    }

    /// <summary>The model trained.</summary>
    public Sequential Model { get; }

    /// <summary>The optimizer.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The loss.</summary>
    public CategoricalCrossentropy Loss { get; }

    /// <summary>Runs the training loop over <paramref name="train"/>; the arguments are those of <c>Sequential.Fit</c>.</summary>
    internal History Fit(BatchSource train, int batchSize, int epochs, int verbose, BatchSource? validation, bool shuffle,
        IEnumerable<Callback>? callbacks, int initialEpoch, TextWriter output, bool liveProgress, CancellationToken cancellationToken,
        BatchSampling sampling = BatchSampling.Iid)
    {
        int samples = train.Count;
        int steps = (samples + batchSize - 1) / batchSize;
        var all = new List<Callback>();
        if (verbose > 0)
        {
            all.Add(new ProgbarLogger(output, live: verbose == 1 && liveProgress, width: IO.ConsoleOutput.Width(output)));
        }

        all.AddRange(callbacks ?? []);
        var trainingParams = new TrainingParams(epochs, steps, batchSize, samples, verbose);
        foreach (var callback in all)
        {
            callback.Model = Model;
            callback.Params = trainingParams;
        }

        var history = new History();
        int[] order = Enumerable.Range(0, samples).ToArray();
        Model.StopTraining = false;
        all.ForEach(c => c.OnTrainBegin());
        for (int epoch = initialEpoch + 1; epoch <= epochs && !Model.StopTraining; epoch++)
        {
            all.ForEach(c => c.OnEpochBegin(epoch));
            var clock = Stopwatch.StartNew();
            if (sampling == BatchSampling.NonIid)
            {
                NonIidOrder(order, train.ClassLabels, batchSize);
            }
            else if (shuffle)
            {
                Shuffle(order);
            }

            var logs = TrainEpoch(train, order, batchSize, epoch, all, cancellationToken);
            double trainSeconds = clock.Elapsed.TotalSeconds;
            if (validation is not null)
            {
                var result = Evaluate(validation, Model.Policy.EvaluationBatchSize(batchSize));
                logs["val_accuracy"] = result.Accuracy;
                logs["val_loss"] = result.Loss;
            }

            if (Model.Policy.ReleaseNativeMemory)
            {
                NativeHeap.Release();
            }

            logs["learning_rate"] = Optimizer.LearningRate;
            logs["seconds"] = clock.Elapsed.TotalSeconds;
            logs["train_seconds"] = trainSeconds;
            all.ForEach(c => c.OnEpochEnd(epoch, logs));
            history.Append(epoch, logs);
        }

        var last = history.Epochs.Count > 0
            ? history.Values.ToDictionary(kv => kv.Key, kv => kv.Value[^1], StringComparer.Ordinal)
            : new Dictionary<string, double>(StringComparer.Ordinal);
        all.ForEach(c => c.OnTrainEnd(last));
        return history;
    }

    /// <summary>
    /// One epoch of steps; returns its logs. A callback that sets <see cref="Sequential.StopTraining"/> ends the epoch
    /// after the current batch, and the epoch is then finished as usual (validation, epoch-end callbacks, history), as
    /// Keras 3's <c>fit</c> does.
    /// </summary>
    private Dictionary<string, double> TrainEpoch(BatchSource train, int[] order, int batchSize, int epoch,
        List<Callback> callbacks, CancellationToken cancellationToken)
    {
        EnterTraining();
        int samples = order.Length;
        int steps = (samples + batchSize - 1) / batchSize;
        var logs = new Dictionary<string, double>(StringComparer.Ordinal);
        double lossSum = 0;
        long correct = 0;
        int seen = 0;
        for (int step = 1; step <= steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            callbacks.ForEach(c => c.OnTrainBatchBegin(step));
            int start = (step - 1) * batchSize;
            var batch = order.AsSpan(start, Math.Min(batchSize, samples - start));
            var metrics = RunTrainStep(train, batch);
            lossSum += metrics.Loss * batch.Length;
            correct += metrics.Correct;
            seen += batch.Length;
            logs["accuracy"] = (double)correct / seen;
            logs["loss"] = lossSum / seen;
            callbacks.ForEach(c => c.OnTrainBatchEnd(step, logs));
            if (Model.StopTraining)
            {
                break;
            }

            if (!double.IsFinite(metrics.Loss))
            {
                throw new TrainingDivergedException(
                    $"Training loss became {metrics.Loss} at epoch {epoch}, step {step}/{steps}; lower the learning rate (now {Optimizer.LearningRate}) or check the data.",
                    epoch, step);
            }
        }

        return logs;
    }

    private StepMetrics RunTrainStep(BatchSource source, ReadOnlySpan<int> indices)
    {
        CollectWrappersPeriodically();
        using var scope = NewDisposeScope();
        var (images, labels) = source.Batch(indices);
        return TrainStep(images, labels);
    }

    /// <summary>
    /// One optimizer step on a batch already on the model's device, in training mode (Keras <c>train_on_batch</c>);
    /// runs <see cref="TrainStep"/> inside its own dispose scope.
    /// </summary>
    /// <param name="images">(B, C, H, W) float images.</param>
    /// <param name="labels">(B) int64 class indices.</param>
    public StepMetrics TrainOnBatch(Tensor images, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        EnterTraining();
        using var scope = NewDisposeScope();
        return TrainStep(images, labels);
    }

    /// <summary>Training mode, and the optimizer's update fused where the model's policy fuses its kernels.</summary>
    internal void EnterTraining()
    {
        Model.train(true);
        Optimizer.FusedUpdate = Model.Policy.FusedKernels;
    }

    /// <summary>
    /// The work of one training batch: zero the gradients, forward to logits, loss, backward, optimizer step; returns
    /// the batch's loss and correct count. The caller has opened a dispose scope and set training mode.
    /// </summary>
    /// <param name="images">(B, C, H, W) float images on the model's device.</param>
    /// <param name="labels">(B) int64 class indices.</param>
    protected virtual StepMetrics TrainStep(Tensor images, Tensor labels)
    {
        Optimizer.ZeroGrad();
        var logits = Model.ForwardLogits(images);                      // (B, classes)
        var loss = ComputeLoss(logits, labels);
        loss.backward();
        Optimizer.Step();
        return ReadMetrics(loss, logits, labels);
    }

    /// <summary>The work of one evaluation batch, in inference mode without gradients: loss and correct count.</summary>
    /// <param name="images">(B, C, H, W) float images on the model's device.</param>
    /// <param name="labels">(B) int64 class indices.</param>
    protected virtual StepMetrics TestStep(Tensor images, Tensor labels)
    {
        var logits = Model.ForwardLogits(images);
        return ReadMetrics(ComputeLoss(logits, labels), logits, labels);
    }

    /// <summary>The work of one prediction batch, in inference mode without gradients: class probabilities (B, classes).</summary>
    /// <param name="images">(B, C, H, W) float images on the model's device.</param>
    protected virtual Tensor PredictStep(Tensor images)
    {
        var output = Model.forward(images);
        return Model.OutputsProbabilities ? output : nn.functional.softmax(output, 1);
    }

    /// <summary>The mean loss of logits (B, classes) against class indices (B), with this trainer's loss settings.</summary>
    public Tensor ComputeLoss(Tensor logits, Tensor labels) =>
        CategoricalCrossentropy.Compute(logits, outputIsLogits: Model.OutputsProbabilities || Loss.FromLogits, labels, Loss.LabelSmoothing);

    /// <summary>Reads a step's loss and correct count back to the host.</summary>
    protected static StepMetrics ReadMetrics(Tensor loss, Tensor logits, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(logits);
        using var noGrad = no_grad();
        return new StepMetrics(loss.item<float>(), logits.argmax(1).eq(labels).sum().item<long>());
    }

    /// <summary>Loss and accuracy over <paramref name="source"/> in inference mode.</summary>
    internal EvaluationResult Evaluate(BatchSource source, int batchSize)
    {
        using var inference = new InferenceMode(Model);
        double lossSum = 0;
        long correct = 0;
        int n = source.Count;
        int[] indices = new int[Math.Min(batchSize, n)];
        for (int start = 0; start < n; start += batchSize)
        {
            CollectWrappersPeriodically();
            using var scope = NewDisposeScope();
            int count = Math.Min(batchSize, n - start);
            var (images, labels) = source.Batch(Sequence(indices, start, count));
            var metrics = TestStep(images, labels);
            lossSum += metrics.Loss * count;
            correct += metrics.Correct;
        }

        return new EvaluationResult(lossSum / n, (double)correct / n, n);
    }

    /// <summary>
    /// Class probabilities (N, classes) over <paramref name="source"/> in inference mode, written batch by batch into
    /// one result tensor, so no batch's activations outlive it.
    /// </summary>
    internal Tensor Predict(BatchSource source, int batchSize)
    {
        Tensor? result = null;
        Predict(source, batchSize, (probabilities, start) =>
        {
            result ??= empty([source.Count, probabilities.shape[1]], probabilities.dtype, probabilities.device).MoveToOuterDisposeScope();
            result.narrow(0, start, probabilities.shape[0]).copy_(probabilities);
        });
        return result ?? empty([0, Model.OutputShape.Features]);
    }

    /// <summary>
    /// Hands each batch's class probabilities (B, classes) to <paramref name="onBatch"/> with the index of the batch's
    /// first sample, inside that batch's dispose scope: what the batch allocated is freed before the next one, so memory
    /// stays that of one batch however many samples there are.
    /// </summary>
    internal void Predict(BatchSource source, int batchSize, Action<Tensor, int> onBatch)
    {
        using var inference = new InferenceMode(Model);
        int n = source.Count;
        int[] indices = new int[Math.Min(batchSize, n)];
        for (int start = 0; start < n; start += batchSize)
        {
            CollectWrappersPeriodically();
            using var scope = NewDisposeScope();
            int count = Math.Min(batchSize, n - start);
            var (images, _) = source.Batch(Sequence(indices, start, count));
            onBatch(PredictStep(images), start);
        }
    }

    private void CollectWrappersPeriodically()
    {
        int every = Model.Policy.CollectEverySteps;
        if (every > 0 && ++_stepsSinceCollection >= every)
        {
            _stepsSinceCollection = 0;
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
            if (Model.Policy.ReleaseNativeMemory)
            {
                NativeHeap.Release();
            }
        }
    }

    private static ReadOnlySpan<int> Sequence(int[] buffer, int start, int count)
    {
        for (int i = 0; i < count; i++)
        {
            buffer[i] = start + i;
        }

        return buffer.AsSpan(0, count);
    }

    /// <summary>Fisher-Yates with draws from torch's global generator, so <c>torch.manual_seed</c> fixes the order.</summary>
    private static void Shuffle(int[] order)
    {
        using var perm = randperm(order.Length, ScalarType.Int32);
        perm.data<int>().CopyTo(order, 0);
    }

    /// <summary>
    /// Fills <paramref name="order"/> with non-i.i.d. minibatches (<see cref="BatchSampling.NonIid"/>): each class's
    /// samples shuffled and cut into groups of half a batch, the groups shuffled, all with torch's generator.
    /// </summary>
    internal static void NonIidOrder(int[] order, ReadOnlySpan<byte> labels, int batchSize)
    {
        int group = Math.Max(1, batchSize / 2);
        var groups = new List<int[]>();
        var byClass = new Dictionary<byte, List<int>>();
        for (int i = 0; i < labels.Length; i++)
        {
            if (!byClass.TryGetValue(labels[i], out var list))
            {
                byClass[labels[i]] = list = [];
            }

            list.Add(i);
        }

        foreach (var (_, members) in byClass.OrderBy(kv => kv.Key))
        {
            using var perm = randperm(members.Count, ScalarType.Int32);
            int[] shuffled = perm.data<int>().ToArray().Select(k => members[k]).ToArray();
            for (int start = 0; start < shuffled.Length; start += group)
            {
                groups.Add(shuffled[start..Math.Min(start + group, shuffled.Length)]);
            }
        }

        using var groupOrder = randperm(groups.Count, ScalarType.Int32);
        int at = 0;
        foreach (int g in groupOrder.data<int>().ToArray())
        {
            groups[g].CopyTo(order, at);
            at += groups[g].Length;
        }
    }

    /// <summary>Evaluation mode without gradients for the life of the object; restores the model's mode after.</summary>
    private readonly struct InferenceMode : IDisposable
    {
        private readonly Sequential _model;
        private readonly bool _wasTraining;
        private readonly IDisposable _noGrad;

        public InferenceMode(Sequential model)
        {
            _model = model;
            _wasTraining = model.training;
            model.eval();
            _noGrad = no_grad();
        }

        public void Dispose()
        {
            _noGrad.Dispose();
            _model.train(_wasTraining);
        }
    }
}
