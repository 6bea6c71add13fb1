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
/// <remarks>
/// The model holds layers, the forward pass, the summary and the weights. The loops of <c>Fit</c>, <c>Evaluate</c>
/// and <c>Predict</c> belong to its <see cref="Trainer"/> (created by <see cref="Compile(Optimizer, CategoricalCrossentropy?, IEnumerable{string}?)"/>); how it executes (device,
/// memory layouts, collection cadence) is its <see cref="Policy"/>, chosen by whoever sets the model up.
/// </remarks>
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

    /// <summary>The optimizer set by <see cref="Compile(Optimizer, CategoricalCrossentropy?, IEnumerable{string}?)"/>.</summary>
    public Optimizer? Optimizer => _trainer?.Optimizer;

    /// <summary>The loss set by <see cref="Compile(Optimizer, CategoricalCrossentropy?, IEnumerable{string}?)"/>.</summary>
    public CategoricalCrossentropy? Loss => _trainer?.Loss;

    /// <summary>
    /// Runs <c>Fit</c>, <c>Evaluate</c> and <c>Predict</c>; set by <see cref="Compile(Optimizer, CategoricalCrossentropy?, IEnumerable{string}?)"/>. Assign a subclass (built for
    /// this model) to override its steps.
    /// </summary>
    /// <exception cref="ArgumentException">The trainer was built for another model.</exception>
    public Trainer? Trainer
    {
        get => _trainer;
        set
        {
            if (value is not null && !ReferenceEquals(value.Model, this))
            {
                throw new ArgumentException("The trainer was built for another model: create it with this model.", nameof(value));
            }

            _trainer = value;
        }
    }

    private Trainer? _trainer;

    /// <summary>Set by a callback to stop <c>Fit</c> after the current batch (Keras <c>model.stop_training</c>).</summary>
    public bool StopTraining { get; set; }

    /// <summary>How the model executes. The default value is <see cref="ExecutionPolicy.Cpu"/>; change it with <see cref="Apply"/>.</summary>
    public ExecutionPolicy Policy { get; private set; } = ExecutionPolicy.Cpu;

    /// <summary>Where the model's tensors live (<see cref="ExecutionPolicy.Device"/>).</summary>
    public Device Device => Policy.Device;

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
        layer.ApplyLayout(Policy.Layout);
        _layers.Add(layer);
        register_module(name, layer);
        if (Device.type != DeviceType.CPU)
        {
            layer.to(Device);
        }

        return this;
    }

    /// <summary>
    /// Runs the model under <paramref name="policy"/>: moves it (and rebinds a compiled optimizer) to the policy's
    /// device and hands the policy's memory layouts to every layer.
    /// </summary>
    /// <returns>This model, to chain calls.</returns>
    public Sequential Apply(ExecutionPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        bool moved = policy.Device.type != Device.type || policy.Device.index != Device.index;
        Policy = policy;
        foreach (var layer in _layers)
        {
            layer.ApplyLayout(policy.Layout);
        }

        if (moved)
        {
            this.to(policy.Device);
            _trainer?.Optimizer.Bind(parameters());
        }

        return this;
    }

    /// <summary>Moves the model to <paramref name="device"/> with that device's default policy (<see cref="ExecutionPolicy.For"/>).</summary>
    public Sequential MoveTo(Device device) => Apply(ExecutionPolicy.For(device));

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var x = input;
        int i = 0;
        while (i < _layers.Count)
        {
            i += ForwardStage(i, logits: false, ref x);
        }

        return x;
    }

    /// <summary>The forward pass without the final softmax: the logits the loss is computed from.</summary>
    public Tensor ForwardLogits(Tensor input)
    {
        var x = input;
        int i = 0;
        while (i < _layers.Count)
        {
            i += ForwardStage(i, logits: true, ref x);
        }

        return x;
    }

    /// <summary>
    /// Runs the layer at <paramref name="index"/> on <paramref name="x"/>, or, when the policy has
    /// <see cref="ExecutionPolicy.FusedKernels"/> and the model trains (or infers without gradients), the pair starting there that the fused ReLU +
    /// batch-norm kernels cover (Conv2D/Dense with ReLU then BatchNormalization; BatchNormalization then a ReLU
    /// Activation), with the MaxPooling2D after the pair when the fused pooling kernels take it (2x2, stride 2, a
    /// channels-last input of even size; <see cref="BatchNormalization.TryForwardFusedPool"/>). Returns how many layers
    /// it ran (the profile of <c>bench --profile</c> times these stages).
    /// </summary>
    internal int ForwardStage(int index, bool logits, ref Tensor x)
    {
        int last = _layers.Count - 1;
        if (Policy.FusedKernels && (training || !is_grad_enabled()) && index < last && !(logits && index + 1 == last))
        {
            var pool = index + 2 <= last ? _layers[index + 2] as MaxPooling2D : null;
            if (_layers[index] is ActivatedLayer { Activation: ActivationFunction.Relu } linear && _layers[index + 1] is BatchNormalization after)
            {
                var z = linear.ForwardPreActivation(x);
                if (pool is not null && after.TryForwardFusedPool(z, pool, reluBefore: true, reluAfter: false, out var pooled))
                {
                    x = pooled;
                    return 3;
                }

                x = after.ForwardFused(z, reluBefore: true, reluAfter: false);
                return 2;
            }

            if (_layers[index] is BatchNormalization before && _layers[index + 1] is Activation { Function: ActivationFunction.Relu })
            {
                if (pool is not null && before.TryForwardFusedPool(x, pool, reluBefore: false, reluAfter: true, out var pooled))
                {
                    x = pooled;
                    return 3;
                }

                x = before.ForwardFused(x, reluBefore: false, reluAfter: true);
                return 2;
            }
        }

        x = logits && index == last ? _layers[index].ForwardLogits(x) : _layers[index].call(x);
        return 1;
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

        _trainer = new Trainer(this, optimizer, loss);
    }

    /// <summary>
    /// Compiles with a TorchSharp optimizer created over this model's parameters, e.g.
    /// <c>model.Compile(torch.optim.SGD(model.parameters(), 0.1, momentum: 0.9))</c>. Its own update rule applies (PyTorch's,
    /// not Keras's); see <see cref="TorchOptimizer"/>.
    /// </summary>
    /// <param name="optimizer">A TorchSharp optimizer over <c>parameters()</c> of this model.</param>
    /// <param name="loss">The loss. The default value is categorical cross-entropy.</param>
    /// <param name="metrics">Metric names; only <c>accuracy</c> is known. The default value is <c>["accuracy"]</c>.</param>
    public void Compile(optim.Optimizer optimizer, CategoricalCrossentropy? loss = null, IEnumerable<string>? metrics = null) =>
        Compile(new TorchOptimizer(optimizer), loss, metrics);

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
    /// <param name="sampling">How minibatches are filled. The default value is <see cref="BatchSampling.Iid"/> (Keras's shuffle).</param>
    /// <param name="validationSplit">
    /// Fraction of <paramref name="x"/> to hold out for validation, in [0, 1): the LAST samples, taken before any
    /// shuffling (Keras's <c>validation_split</c>: the first floor(N * (1 - split)) samples train). Ignored when
    /// <paramref name="validationData"/> is given, as in Keras. The default value is 0 (none).
    /// </param>
    public History Fit(ImageDataset x, int batchSize = 32, int epochs = 1, int verbose = 1, ImageDataset? validationData = null,
        bool shuffle = true, IEnumerable<Callback>? callbacks = null, int initialEpoch = 0, TextWriter? output = null,
        CancellationToken cancellationToken = default, BatchSampling sampling = BatchSampling.Iid, double validationSplit = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        CheckImageShape(x);
        if (validationData is not null)
        {
            CheckImageShape(validationData);
        }

        int trainCount = validationData is null ? ValidationSplitAt(x.Count, validationSplit) : x.Count;
        using var train = BatchSource.From(x, batchSize, Device, 0, trainCount);
        using var validation = validationData is not null
            ? BatchSource.From(validationData, EvaluationBatch(batchSize), Device)
            : trainCount < x.Count ? BatchSource.From(x, EvaluationBatch(batchSize), Device, trainCount, x.Count - trainCount) : null;
        return FitCore(train, batchSize, epochs, verbose, validation, shuffle, callbacks, initialEpoch, output, cancellationToken, sampling);
    }

    /// <summary>
    /// Where Keras's <c>validation_split</c> cuts <paramref name="samples"/>: the first floor(N * (1 - split)) train,
    /// the rest validate; <paramref name="samples"/> itself for a split of 0.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The split is outside [0, 1).</exception>
    /// <exception cref="ArgumentException">The split leaves no sample for training or for validation.</exception>
    public static int ValidationSplitAt(int samples, double validationSplit)
    {
        if (!(validationSplit is >= 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(validationSplit), validationSplit, "validationSplit must be in [0, 1).");
        }

        if (validationSplit == 0)
        {
            return samples;
        }

        int splitAt = (int)Math.Floor(samples * (1.0 - validationSplit));
        if (splitAt == 0 || splitAt == samples)
        {
            throw new ArgumentException(
                $"The training data has {samples} samples, too few to split into training and validation with validationSplit {validationSplit.ToString(System.Globalization.CultureInfo.InvariantCulture)}; give more data or another split.",
                nameof(validationSplit));
        }

        return splitAt;
    }

    /// <summary>Trains on tensors: <paramref name="x"/> (N, C, H, W) float, <paramref name="y"/> class indices (N) or one-hot (N, classes).</summary>
    /// <inheritdoc cref="Fit(ImageDataset, int, int, int, ImageDataset?, bool, IEnumerable{Callback}?, int, TextWriter?, CancellationToken, BatchSampling, double)"/>
    public History Fit(Tensor x, Tensor y, int batchSize = 32, int epochs = 1, int verbose = 1, (Tensor X, Tensor Y)? validationData = null,
        bool shuffle = true, IEnumerable<Callback>? callbacks = null, int initialEpoch = 0, TextWriter? output = null,
        CancellationToken cancellationToken = default, double validationSplit = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        CheckTensorShape(x);
        int samples = (int)x.shape[0];
        int trainCount = validationData is null ? ValidationSplitAt(samples, validationSplit) : samples;
        if (trainCount == samples)
        {
            using var all = BatchSource.From(x, y, Device);
            using var given = validationData is { } v ? BatchSource.From(v.X, v.Y, Device) : null;
            return FitCore(all, batchSize, epochs, verbose, given, shuffle, callbacks, initialEpoch, output, cancellationToken);
        }

        using var trainX = x.narrow(0, 0, trainCount);
        using var trainY = y.narrow(0, 0, trainCount);
        using var heldX = x.narrow(0, trainCount, samples - trainCount);
        using var heldY = y.narrow(0, trainCount, samples - trainCount);
        using var train = BatchSource.From(trainX, trainY, Device);
        using var validation = BatchSource.From(heldX, heldY, Device);
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

    /// <summary>Loss and accuracy on tensors (see <see cref="Fit(Tensor, Tensor, int, int, int, ValueTuple{Tensor, Tensor}?, bool, IEnumerable{Callback}?, int, TextWriter?, CancellationToken, double)"/> for the layout).</summary>
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

    /// <summary>
    /// Predicts <paramref name="data"/> batch by batch, handing each batch's probabilities (B, classes) and the index of
    /// its first image to <paramref name="onBatch"/>; the batch's tensors are disposed after it returns.
    /// </summary>
    internal void Predict(ImageDataset data, int batchSize, Action<Tensor, int> onBatch)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckImageShape(data);
        CheckBatchSize(batchSize);
        using var source = BatchSource.From(data, batchSize, Device);
        InferenceTrainer().Predict(source, batchSize, onBatch);
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

    /// <summary>The most probable class of every image (the argmax of <see cref="Predict(ImageDataset, int)"/>).</summary>
    /// <param name="data">Images (their labels are not used).</param>
    /// <param name="batchSize">Samples per forward pass. The default value is 256.</param>
    public int[] PredictClasses(ImageDataset data, int batchSize = 256)
    {
        using var scope = NewDisposeScope();
        return ArgMax(Predict(data, batchSize));
    }

    /// <summary>The most probable class for every sample of a (N, C, H, W) float tensor.</summary>
    /// <param name="x">Samples in TorchSharp's layout, pixels scaled to [0, 1].</param>
    /// <param name="batchSize">Samples per forward pass. The default value is 256.</param>
    public int[] PredictClasses(Tensor x, int batchSize = 256)
    {
        using var scope = NewDisposeScope();
        return ArgMax(Predict(x, batchSize));
    }

    /// <summary>
    /// Class probabilities for samples given as a flat array: N samples of (C, H, W) floats in [0, 1] (or N vectors),
    /// one after another; returns N x classes floats, sample by sample.
    /// </summary>
    /// <param name="x">The samples; its length must be a multiple of one sample's size.</param>
    /// <param name="batchSize">Samples per forward pass. The default value is 256.</param>
    /// <exception cref="ArgumentException">The length is not a whole number of samples.</exception>
    public float[] Predict(float[] x, int batchSize = 256)
    {
        using var scope = NewDisposeScope();
        return Predict(FromArray(x), batchSize).cpu().data<float>().ToArray();
    }

    /// <summary>The most probable class of each sample of a flat array (see <see cref="Predict(float[], int)"/> for the layout).</summary>
    /// <param name="x">The samples.</param>
    /// <param name="batchSize">Samples per forward pass. The default value is 256.</param>
    public int[] PredictClasses(float[] x, int batchSize = 256)
    {
        using var scope = NewDisposeScope();
        return ArgMax(Predict(FromArray(x), batchSize));
    }

    /// <summary>
    /// Classifies image files (PNG, JPEG, BMP): each is resized to the model's input and scaled by 1/255, as the
    /// command line's <c>predict</c> does; returns per file the best class, its name and every class's probability.
    /// </summary>
    /// <param name="files">Image files; a file that cannot be read stops the call with a message naming it.</param>
    /// <param name="classNames">Names indexed by class, e.g. <c>train.ClassNames</c>. The default value is <c>null</c>: <c>class_0</c>, <c>class_1</c>, ...</param>
    /// <param name="batchSize">Images per forward pass. The default value is 256.</param>
    /// <exception cref="DataFormatException">A file is not an image that can be read.</exception>
    /// <exception cref="ArgumentException">The model does not take images, or <paramref name="classNames"/> does not name every class.</exception>
    public IReadOnlyList<ImagePrediction> PredictImageFiles(IEnumerable<string> files, IReadOnlyList<string>? classNames = null, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (InputShape.Rank != 3)
        {
            throw new ArgumentException($"The model takes input {InputShape}, not images (height, width, channels).", nameof(files));
        }

        int classes = OutputShape.Features;
        var names = classNames ?? Enumerable.Range(0, classes).Select(c => $"class_{c}").ToList();
        if (names.Count != classes)
        {
            throw new ArgumentException($"{names.Count} class names given for a model with {classes} outputs.", nameof(classNames));
        }

        var shape = new ImageShape(InputShape.Dims[0], InputShape.Dims[1], InputShape.Dims[2]);
        var paths = files.ToList();
        if (paths.Count == 0)
        {
            return [];
        }

        float[] pixels = paths.SelectMany(path => ImageFiles.Load(path, shape)).ToArray();
        float[] probabilities = Predict(pixels, batchSize);
        return paths.Select((path, i) =>
        {
            float[] p = probabilities[(i * classes)..((i + 1) * classes)];
            int best = Array.IndexOf(p, p.Max());
            return new ImagePrediction(path, best, names[best], p[best], p);
        }).ToList();
    }

    private Tensor FromArray(float[] x)
    {
        ArgumentNullException.ThrowIfNull(x);
        long sample = InputShape.Size;
        if (x.Length == 0 || x.Length % sample != 0)
        {
            throw new ArgumentException(
                $"x has {x.Length:N0} values, not a whole number of samples of {InputShape} ({sample:N0} values each).", nameof(x));
        }

        return tensor(x, InputShape.TorchShape(x.Length / sample));
    }

    private static int[] ArgMax(Tensor probabilities) =>
        probabilities.argmax(1).to(ScalarType.Int32).cpu().data<int>().ToArray();

    /// <summary>Writes Keras 3's summary table (layer, output shape, parameter count, totals).</summary>
    public void Summary(TextWriter? writer = null) => ModelSummary.Write(this, writer ?? Console.Out);

    /// <summary>Trainable and non-trainable parameter counts as Keras reports them (BN moving statistics are non-trainable).</summary>
    public (long Trainable, long NonTrainable) CountParameters() => ModelSummary.Count(this);

    /// <summary>One optimizer step on a batch already on the model's device (Keras <c>train_on_batch</c>); see <see cref="Trainer.TrainOnBatch"/>.</summary>
    /// <exception cref="InvalidOperationException">The model is not compiled.</exception>
    public StepMetrics TrainOnBatch(Tensor images, Tensor labels) => CompiledTrainer("TrainOnBatch").TrainOnBatch(images, labels);

    private History FitCore(BatchSource train, int batchSize, int epochs, int verbose, BatchSource? validation, bool shuffle,
        IEnumerable<Callback>? callbacks, int initialEpoch, TextWriter? output, CancellationToken cancellationToken,
        BatchSampling sampling = BatchSampling.Iid)
    {
        CheckBatchSize(batchSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(initialEpoch);
        if (verbose is < 0 or > 2)
        {
            throw new ArgumentOutOfRangeException(nameof(verbose), verbose, "verbose must be 0, 1 or 2.");
        }

        var trainer = CompiledTrainer("Fit");
        output ??= Console.Out;
        return trainer.Fit(train, batchSize, epochs, verbose, validation, shuffle, callbacks, initialEpoch, output,
            ConsoleOutput.IsInteractive(output), cancellationToken, sampling);
    }

    /// <summary>The compiled trainer, or for evaluation and prediction of an uncompiled model a trainer with the default loss.</summary>
    // Plain SGD keeps no per-parameter slots: evaluating an uncompiled model allocates no optimizer state.
    private Trainer InferenceTrainer() => _trainer ?? (_inferenceTrainer ??= new Trainer(this, new Sgd(), null));

    private Trainer? _inferenceTrainer;

    /// <summary>
    /// The trainer for a training call; training needs <see cref="Runtime.TorchRuntime.Initialize"/> (see
    /// <see cref="Runtime.TorchRuntime.Require"/>), and where that lets oneDNN run AVX-512 the policy's convolutions are
    /// made channels-last (<see cref="ExecutionPolicy.SafeFor"/>).
    /// </summary>
    private Trainer CompiledTrainer(string caller)
    {
        var trainer = _trainer ?? throw new InvalidOperationException($"The model is not compiled: call Compile(optimizer) before {caller}.");
        var safe = Policy.SafeFor(Runtime.TorchRuntime.Require());
        if (!ReferenceEquals(safe, Policy))
        {
            Apply(safe); // oneDNN runs AVX-512 here: its NCHW input gradients can be wrong, its channels-last ones are right
        }

        return trainer;
    }

    private EvaluationResult EvaluateCore(BatchSource source, int batchSize) => InferenceTrainer().Evaluate(source, batchSize);

    private Tensor PredictCore(BatchSource source, int batchSize) => InferenceTrainer().Predict(source, batchSize);

    /// <summary>Inference needs no activations for backward, so it runs in larger batches.</summary>
    private int EvaluationBatch(int batchSize) => Policy.EvaluationBatchSize(batchSize);

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
}
