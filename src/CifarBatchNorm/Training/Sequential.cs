using System.Diagnostics;
using CifarBatchNorm.Callbacks;
using CifarBatchNorm.Data;
using CifarBatchNorm.IO;
using CifarBatchNorm.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace CifarBatchNorm.Training;

/// <summary>
/// A Keras-style sequential model that is a plain TorchSharp module: <c>Add</c> layers, <c>Compile</c>,
/// <c>Fit</c>, <c>Evaluate</c>, <c>Predict</c>, <c>Summary</c>; or call it from your own TorchSharp loop
/// (<c>model.call(x)</c> gives probabilities when the last layer has softmax; <see cref="ForwardLogits"/> gives
/// the logits before it).
/// </summary>
public sealed class Sequential : nn.Module<Tensor, Tensor>
{
    private readonly List<Layer> _layers = [];
    private readonly Dictionary<string, int> _nameCounts = new(StringComparer.Ordinal);

    /// <summary>Creates an empty model for inputs of <paramref name="inputShape"/> (Keras order, no batch).</summary>
    /// <param name="inputShape">One sample's shape: (height, width, channels) or (features).</param>
    /// <param name="name">Model name shown by <see cref="Summary"/>. The default value is <c>sequential</c>.</param>
    public Sequential(LayerShape inputShape, string name = "sequential") : base(name)
    {
        InputShape = inputShape ?? throw new ArgumentNullException(nameof(inputShape));
        ModelName = name;
    }

    /// <summary>Creates an empty model for images of <paramref name="imageShape"/>.</summary>
    public Sequential(ImageShape imageShape, string name = "sequential")
        : this(new LayerShape(imageShape.Validate().Height, imageShape.Width, imageShape.Channels), name)
    {
    }

    /// <summary>The model's name.</summary>
    public string ModelName { get; }

    /// <summary>One input sample's shape (Keras order).</summary>
    public LayerShape InputShape { get; }

    /// <summary>One output sample's shape.</summary>
    public LayerShape OutputShape => _layers.Count > 0 ? _layers[^1].OutputShape : InputShape;

    /// <summary>The layers, in order.</summary>
    public IReadOnlyList<Layer> Layers => _layers;

    /// <summary>Whether the model's output is a softmax (probabilities).</summary>
    public bool OutputsProbabilities => _layers.Count > 0 && _layers[^1].OutputActivation == ActivationFunction.Softmax;

    /// <summary>The optimizer set by <see cref="Compile"/>.</summary>
    public Optimizer? Optimizer { get; private set; }

    /// <summary>The loss set by <see cref="Compile"/>.</summary>
    public CategoricalCrossentropy? Loss { get; private set; }

    private const int StepsPerCollection = 64;
    private int _stepsSinceCollection;

    /// <summary>Set by a callback to stop <see cref="Fit(ImageDataset, int, int, int, ImageDataset?, bool, IEnumerable{Callback}?, int, TextWriter?, CancellationToken)"/> after the current epoch (Keras <c>model.stop_training</c>).</summary>
    public bool StopTraining { get; set; }

    /// <summary>Where the model's tensors live. The default value is the CPU.</summary>
    public Device Device { get; private set; } = CPU;

    /// <summary>Appends a layer, building it for the current output shape and naming it as Keras would.</summary>
    /// <returns>This model, to chain calls.</returns>
    public Sequential Add(Layer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (_layers.Contains(layer))
        {
            throw new ArgumentException($"Layer '{layer.Name}' is already in the model.", nameof(layer));
        }

        layer.Build(OutputShape);
        string name = layer.Name ?? NextName(layer.KerasType);
        if (_layers.Any(l => l.Name == name))
        {
            throw new ArgumentException($"The model already has a layer named '{name}'.", nameof(layer));
        }

        layer.Name = name;
        _layers.Add(layer);
        register_module(name, layer);
        if (Device.type != DeviceType.CPU)
        {
            layer.to(Device);
        }

        return this;
    }

    /// <summary>Moves the model (and its optimizer state, when compiled again) to <paramref name="device"/>.</summary>
    public Sequential MoveTo(Device device)
    {
        Device = device ?? throw new ArgumentNullException(nameof(device));
        this.to(device);
        if (Optimizer is not null)
        {
            Optimizer.Bind(parameters());
        }

        return this;
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var x = input;
        foreach (var layer in _layers)
        {
            x = layer.call(x);
        }

        return x;
    }

    /// <summary>The forward pass without the final softmax: the logits the loss is computed from.</summary>
    public Tensor ForwardLogits(Tensor input)
    {
        var x = input;
        for (int i = 0; i < _layers.Count; i++)
        {
            x = i == _layers.Count - 1 ? _layers[i].ForwardLogits(x) : _layers[i].call(x);
        }

        return x;
    }

    /// <summary>Sets the optimizer, the loss and the metrics (Keras <c>model.compile</c>).</summary>
    /// <param name="optimizer">For example <c>new Adam(learningRate: 1e-3)</c>; bound to this model's parameters.</param>
    /// <param name="loss">The loss. The default value is categorical cross-entropy.</param>
    /// <param name="metrics">Metric names; only <c>accuracy</c> is known. The default value is <c>["accuracy"]</c>.</param>
    public void Compile(Optimizer optimizer, CategoricalCrossentropy? loss = null, IEnumerable<string>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        foreach (string metric in metrics ?? ["accuracy"])
        {
            if (metric is not ("accuracy" or "acc" or "categorical_accuracy"))
            {
                throw new ArgumentException($"Unknown metric '{metric}': only 'accuracy' is supported.", nameof(metrics));
            }
        }

        if (_layers.Count == 0)
        {
            throw new InvalidOperationException("The model has no layers: Add some before Compile.");
        }

        optimizer.Bind(parameters());
        Optimizer = optimizer;
        Loss = loss ?? new CategoricalCrossentropy();
    }

    /// <summary>Trains on a dataset (Keras <c>model.fit</c>).</summary>
    /// <param name="x">Training images and labels.</param>
    /// <param name="batchSize">Samples per step. The default value is 32 (Keras's).</param>
    /// <param name="epochs">Index of the last epoch. The default value is 1.</param>
    /// <param name="verbose">0 silent, 1 progress bar, 2 one line per epoch. The default value is 1.</param>
    /// <param name="validationData">Evaluated after every epoch when given.</param>
    /// <param name="shuffle">Reshuffle every epoch with torch's global generator (seed it with <c>torch.manual_seed</c>). The default value is <c>true</c>.</param>
    /// <param name="callbacks">Callbacks called during training.</param>
    /// <param name="initialEpoch">Epochs already done (to continue a run). The default value is 0.</param>
    /// <param name="output">Where progress goes. The default value is the console.</param>
    /// <param name="cancellationToken">Stops training after the current step; fit then throws <see cref="OperationCanceledException"/>.</param>
    public History Fit(ImageDataset x, int batchSize = 32, int epochs = 1, int verbose = 1, ImageDataset? validationData = null,
        bool shuffle = true, IEnumerable<Callback>? callbacks = null, int initialEpoch = 0, TextWriter? output = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        CheckImageShape(x);
        if (validationData is not null)
        {
            CheckImageShape(validationData);
        }

        using var train = BatchSource.From(x, batchSize, Device);
        using var validation = validationData is null ? null : BatchSource.From(validationData, EvaluationBatch(batchSize), Device);
        return FitCore(train, batchSize, epochs, verbose, validation, shuffle, callbacks, initialEpoch, output, cancellationToken);
    }

    /// <summary>Trains on tensors: <paramref name="x"/> (N, C, H, W) float, <paramref name="y"/> class indices (N) or one-hot (N, classes).</summary>
    /// <inheritdoc cref="Fit(ImageDataset, int, int, int, ImageDataset?, bool, IEnumerable{Callback}?, int, TextWriter?, CancellationToken)"/>
    public History Fit(Tensor x, Tensor y, int batchSize = 32, int epochs = 1, int verbose = 1, (Tensor X, Tensor Y)? validationData = null,
        bool shuffle = true, IEnumerable<Callback>? callbacks = null, int initialEpoch = 0, TextWriter? output = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        CheckTensorShape(x);
        using var train = BatchSource.From(x, y, Device);
        using var validation = validationData is { } v ? BatchSource.From(v.X, v.Y, Device) : null;
        return FitCore(train, batchSize, epochs, verbose, validation, shuffle, callbacks, initialEpoch, output, cancellationToken);
    }

    /// <summary>Loss and accuracy on a dataset, in inference mode (Keras <c>model.evaluate</c>).</summary>
    /// <param name="data">Images and labels.</param>
    /// <param name="batchSize">Samples per forward pass. The default value is 256.</param>
    public EvaluationResult Evaluate(ImageDataset data, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckImageShape(data);
        CheckBatchSize(batchSize);
        using var source = BatchSource.From(data, batchSize, Device);
        return EvaluateCore(source, batchSize);
    }

    /// <summary>Loss and accuracy on tensors (see <see cref="Fit(Tensor, Tensor, int, int, int, ValueTuple{Tensor, Tensor}?, bool, IEnumerable{Callback}?, int, TextWriter?, CancellationToken)"/> for the layout).</summary>
    public EvaluationResult Evaluate(Tensor x, Tensor y, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        CheckTensorShape(x);
        CheckBatchSize(batchSize);
        using var source = BatchSource.From(x, y, Device);
        return EvaluateCore(source, batchSize);
    }

    /// <summary>Class probabilities (N, classes) for every image, in inference mode (Keras <c>model.predict</c>).</summary>
    public Tensor Predict(ImageDataset data, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckImageShape(data);
        CheckBatchSize(batchSize);
        using var source = BatchSource.From(data, batchSize, Device);
        return PredictCore(source, batchSize);
    }

    /// <summary>Class probabilities (N, classes) for a (N, C, H, W) float tensor.</summary>
    public Tensor Predict(Tensor x, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(x);
        CheckTensorShape(x);
        CheckBatchSize(batchSize);
        using var dummy = zeros(x.shape[0], ScalarType.Int64);
        using var source = BatchSource.From(x, dummy, Device);
        return PredictCore(source, batchSize);
    }

    /// <summary>Writes Keras 3's summary table (layer, output shape, parameter count, totals).</summary>
    public void Summary(TextWriter? writer = null) => ModelSummary.Write(this, writer ?? Console.Out);

    /// <summary>Trainable and non-trainable parameter counts as Keras reports them (BN moving statistics are non-trainable).</summary>
    public (long Trainable, long NonTrainable) CountParameters() => ModelSummary.Count(this);

    /// <summary>Saves the weights and BN statistics to a temporary file, then renames it into place; the extension picks the format (see <see cref="Interop.ModelFiles"/>).</summary>
    public void SaveWeights(string path)
    {
        Interop.ModelFiles.SaveWeights(this, path);
    }

    /// <summary>Loads weights from <c>.pt</c>, <c>.weights.h5</c>, <c>.h5</c>, <c>.safetensors</c> or <c>.keras</c> for the same architecture; a file that does not match leaves the model unchanged.</summary>
    /// <exception cref="ModelFileException">The file is missing, corrupted or from another architecture.</exception>
    public void LoadWeights(string path)
    {
        Interop.ModelFiles.LoadWeights(this, path);
    }

    private History FitCore(BatchSource train, int batchSize, int epochs, int verbose, BatchSource? validation, bool shuffle,
        IEnumerable<Callback>? callbacks, int initialEpoch, TextWriter? output, CancellationToken cancellationToken)
    {
        CheckBatchSize(batchSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(initialEpoch);
        if (verbose is < 0 or > 2)
        {
            throw new ArgumentOutOfRangeException(nameof(verbose), verbose, "verbose must be 0, 1 or 2.");
        }

        var optimizer = Optimizer ?? throw new InvalidOperationException("The model is not compiled: call Compile(optimizer) before Fit.");
        output ??= Console.Out;
        int samples = train.Count;
        int steps = (samples + batchSize - 1) / batchSize;
        var all = new List<Callback>();
        if (verbose > 0)
        {
            bool live = verbose == 1 && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
            all.Add(new ProgbarLogger(output, live));
        }

        all.AddRange(callbacks ?? []);
        var trainingParams = new TrainingParams(epochs, steps, batchSize, samples, verbose);
        foreach (var callback in all)
        {
            callback.Model = this;
            callback.Params = trainingParams;
        }

        var history = new History();
        var logs = new Dictionary<string, double>(StringComparer.Ordinal);
        int[] order = Enumerable.Range(0, samples).ToArray();
        StopTraining = false;
        bool diverged = false;
        all.ForEach(c => c.OnTrainBegin());
        for (int epoch = initialEpoch + 1; epoch <= epochs && !StopTraining; epoch++)
        {
            all.ForEach(c => c.OnEpochBegin(epoch));
            var clock = Stopwatch.StartNew();
            if (shuffle)
            {
                Shuffle(order);
            }

            this.train(true);
            double lossSum = 0;
            long correct = 0;
            int seen = 0;
            for (int step = 1; step <= steps; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                all.ForEach(c => c.OnTrainBatchBegin(step));
                int start = (step - 1) * batchSize;
                var batch = order.AsSpan(start, Math.Min(batchSize, samples - start));
                var (batchLoss, batchCorrect) = TrainStep(train, batch, optimizer);
                lossSum += batchLoss * batch.Length;
                correct += batchCorrect;
                seen += batch.Length;
                logs.Clear();
                logs["accuracy"] = (double)correct / seen;
                logs["loss"] = lossSum / seen;
                all.ForEach(c => c.OnTrainBatchEnd(step, logs));
                if (!double.IsFinite(batchLoss))
                {
                    if (StopTraining)
                    {
                        diverged = true; // a TerminateOnNaN callback asked for a quiet stop
                        break;
                    }

                    throw new TrainingDivergedException(
                        $"Training loss became {batchLoss} at epoch {epoch}, step {step}/{steps}; lower the learning rate (now {optimizer.LearningRate}) or check the data.",
                        epoch, step);
                }
            }

            if (diverged)
            {
                break;
            }

            double trainSeconds = clock.Elapsed.TotalSeconds;
            var epochLogs = new Dictionary<string, double>(logs, StringComparer.Ordinal);
            if (validation is not null)
            {
                var result = EvaluateCore(validation, EvaluationBatch(batchSize));
                epochLogs["val_accuracy"] = result.Accuracy;
                epochLogs["val_loss"] = result.Loss;
            }

            epochLogs["learning_rate"] = optimizer.LearningRate;
            epochLogs["seconds"] = clock.Elapsed.TotalSeconds;
            epochLogs["train_seconds"] = trainSeconds;
            all.ForEach(c => c.OnEpochEnd(epoch, epochLogs));
            history.Append(epoch, epochLogs);
        }

        var last = history.Epochs.Count > 0
            ? history.Values.ToDictionary(kv => kv.Key, kv => kv.Value[^1], StringComparer.Ordinal)
            : new Dictionary<string, double>(StringComparer.Ordinal);
        all.ForEach(c => c.OnTrainEnd(last));
        return history;
    }

    /// <summary>One optimizer step on one batch; returns the batch's mean loss and correct count.</summary>
    private (double Loss, long Correct) TrainStep(BatchSource source, ReadOnlySpan<int> indices, Optimizer optimizer)
    {
        CollectWrappersPeriodically();
        using var scope = NewDisposeScope();
        var (images, labels) = source.Batch(indices);
        return TrainOnBatch(images, labels, optimizer);
    }

    /// <summary>
    /// Runs a generation-0 collection every <see cref="StepsPerCollection"/> steps. TorchSharp's wrapper objects
    /// (scalars, shape arrays, tensor handles: about 60 per training step) are finalizable, and a training step
    /// allocates only about 21 KB of managed memory, so .NET's own first collection came only after tens of epochs:
    /// until then resident memory grew by 5-7 MB per CIFAR-10 epoch (10% from epoch 2 to 10). A gen-0 collection of
    /// that little garbage takes well under a millisecond.
    /// </summary>
    private void CollectWrappersPeriodically()
    {
        if (++_stepsSinceCollection >= StepsPerCollection)
        {
            _stepsSinceCollection = 0;
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        }
    }

    /// <summary>One optimizer step on an assembled batch (the bare step the benchmark times); returns the mean loss and correct count.</summary>
    internal (double Loss, long Correct) TrainOnBatch(Tensor images, Tensor labels, Optimizer optimizer)
    {
        using var scope = NewDisposeScope();
        optimizer.ZeroGrad();
        var output = ForwardLogits(images);                            // (B, classes)
        var loss = ComputeLoss(output, labels);
        loss.backward();
        optimizer.Step();
        using var noGrad = no_grad();
        long correct = output.argmax(1).eq(labels).sum().item<long>();
        return (loss.item<float>(), correct);
    }

    private Tensor ComputeLoss(Tensor output, Tensor labels) =>
        CategoricalCrossentropy.Compute(output, outputIsLogits: OutputsProbabilities || (Loss?.FromLogits ?? false), labels);

    private EvaluationResult EvaluateCore(BatchSource source, int batchSize)
    {
        bool wasTraining = training;
        eval();
        try
        {
            using var noGrad = no_grad();
            double lossSum = 0;
            long correct = 0;
            int n = source.Count;
            int[] indices = new int[Math.Min(batchSize, n)];
            for (int start = 0; start < n; start += batchSize)
            {
                CollectWrappersPeriodically();
                using var scope = NewDisposeScope();
                int count = Math.Min(batchSize, n - start);
                var batch = Sequence(indices, start, count);
                var (images, labels) = source.Batch(batch);
                var output = ForwardLogits(images);
                lossSum += ComputeLoss(output, labels).item<float>() * (double)count;
                correct += output.argmax(1).eq(labels).sum().item<long>();
            }

            return new EvaluationResult(lossSum / n, (double)correct / n, n);
        }
        finally
        {
            this.train(wasTraining);
        }
    }

    private Tensor PredictCore(BatchSource source, int batchSize)
    {
        bool wasTraining = training;
        eval();
        try
        {
            using var noGrad = no_grad();
            int n = source.Count;
            int[] indices = new int[Math.Min(batchSize, n)];
            var parts = new List<Tensor>();
            using var scope = NewDisposeScope();
            for (int start = 0; start < n; start += batchSize)
            {
                int count = Math.Min(batchSize, n - start);
                var (images, _) = source.Batch(Sequence(indices, start, count));
                var output = forward(images);
                parts.Add(OutputsProbabilities ? output : nn.functional.softmax(output, 1));
            }

            return cat(parts, 0).MoveToOuterDisposeScope();
        }
        finally
        {
            this.train(wasTraining);
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

    /// <summary>Inference needs no activations for backward, so it runs in larger batches (more on a GPU).</summary>
    private int EvaluationBatch(int batchSize) => Math.Max(batchSize, Device.type == DeviceType.CUDA ? 1024 : 256);

    private static void CheckBatchSize(int batchSize)
    {
        if (batchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be at least 1.");
        }
    }

    private void CheckImageShape(ImageDataset data)
    {
        var expected = InputShape;
        var actual = new LayerShape(data.Shape.Height, data.Shape.Width, data.Shape.Channels);
        if (!expected.Equals(actual))
        {
            throw new ArgumentException($"{data.Name} has images of {data.Shape} but the model expects input {expected}.");
        }

        if (_layers.Count > 0 && OutputShape.Rank == 1 && data.NumClasses != OutputShape.Features)
        {
            throw new ArgumentException($"{data.Name} has {data.NumClasses} classes but the model outputs {OutputShape.Features}.");
        }
    }

    private void CheckTensorShape(Tensor x)
    {
        long[] expected = InputShape.TorchShape(x.shape.Length > 0 ? x.shape[0] : 0);
        if (!x.shape.SequenceEqual(expected))
        {
            throw new ArgumentException(
                $"x has shape [{string.Join(", ", x.shape)}] but the model expects [N, {string.Join(", ", expected.Skip(1))}] (TorchSharp layout).");
        }
    }

    private string NextName(string kerasType)
    {
        string baseName = SnakeCase(kerasType);
        int count = _nameCounts.GetValueOrDefault(baseName);
        _nameCounts[baseName] = count + 1;
        return count == 0 ? baseName : $"{baseName}_{count}";
    }

    /// <summary>Keras's default layer names: <c>Conv2D</c> to <c>conv2d</c>, <c>BatchNormalization</c> to <c>batch_normalization</c>.</summary>
    internal static string SnakeCase(string typeName)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < typeName.Length; i++)
        {
            char c = typeName[i];
            if (char.IsUpper(c) && i > 0 && char.IsLower(typeName[i - 1]))
            {
                sb.Append('_');
            }

            sb.Append(char.ToLowerInvariant(c));
        }

        return sb.ToString();
    }

    /// <summary>Builds a model from a Keras 3 <c>.keras</c> archive (see <see cref="Interop.ModelFiles.Load"/>).</summary>
    public static Sequential Load(string path) => Interop.ModelFiles.Load(path);

    /// <summary>Saves the model as a Keras 3 <c>.keras</c> archive (see <see cref="Interop.ModelFiles.Save"/>).</summary>
    public void Save(string path) => Interop.ModelFiles.Save(this, path);

    /// <summary>Exports the model for inference as ONNX (see <see cref="Interop.OnnxExporter.Export"/>).</summary>
    public void ExportOnnx(string path) => Interop.OnnxExporter.Export(this, path);
}
