using System.Diagnostics;
using System.Globalization;
using CifarBatchNorm.Callbacks;
using CifarBatchNorm.Data;
using CifarBatchNorm.Runtime;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// The project's performance benchmark (the <c>cifar-bn bench</c> command), on synthetic data only: the bare
/// training step of the notebook model per input shape, a whole <c>Fit</c> epoch against the sum of its bare
/// steps, evaluation throughput, resident memory over a multi-epoch run, and loading the CIFAR-10 binary files.
/// </summary>
/// <remarks>
/// Timings are wall-clock and sensitive to other work on the machine: compare implementations in one run,
/// alternating them, and look at ratios (<c>scripts/bench/compare.sh</c> does). Tests run it in quick mode and
/// check only that every field is there.
/// </remarks>
internal static class Benchmark
{
    /// <summary>Training batch size of every training case (the notebook's).</summary>
    public const int TrainBatchSize = 256;

    /// <summary>Batch size of the evaluation case.</summary>
    public const int EvalBatchSize = 1024;

    /// <summary>Runs the selected cases and returns what they measured.</summary>
    /// <param name="options">What to run. The default value is <c>new BenchmarkOptions()</c>.</param>
    /// <param name="session">The threads and device the cases run with; progress lines go to its output.</param>
    public static BenchmarkResult Run(RunSession session, BenchmarkOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        options = (options ?? new BenchmarkOptions()).Validate();
        var log = session.Output;
        var settings = session.Runtime;
        var result = new BenchmarkResult
        {
            Machine = MachineInfo.Describe(),
            Threads = settings.Threads,
            Allocator = settings.Allocator,
            OmpWaitPolicy = settings.OmpWaitPolicy,
            OneDnnMaxIsa = settings.OneDnnMaxIsa,
            Execution = session.Policy.ToString(),
            FusedKernels = session.Policy.FusedKernels,
            Quick = options.Quick,
            Repeats = options.Repeats,
            BatchSize = TrainBatchSize,
            EvalBatchSize = EvalBatchSize,
        };

        bool Has(BenchmarkCase benchmarkCase) => options.Cases.Contains(benchmarkCase);

        // First, so that the peak is this run's and not the buffers the other cases leave in the allocator.
        if (Has(BenchmarkCase.Memory))
        {
            log.WriteLine($"memory: {options.MemoryEpochs} epochs of {options.MemoryTrainImages} + {options.MemoryValidationImages} images");
            result = MeasureMemory(session, options, result);
        }

        if (Has(BenchmarkCase.TrainStep))
        {
            log.WriteLine("train step: 32x32x3 and 28x28x1, batch 256");
            var (cifar, fashion) = MeasureTrainSteps(session, options);
            result = result with { TrainStep32x32x3Ms = cifar, TrainStep28x28x1Ms = fashion };
        }

        if (Has(BenchmarkCase.VariantStep))
        {
            log.WriteLine($"variant step: {string.Join(", ", TimedVariants.Select(ModelPresets.VariantName))} on 28x28x1, batch 256");
            result = result with { VariantStep28x28x1Ms = MeasureVariantSteps(session, options) };
        }

        if (Has(BenchmarkCase.Conv))
        {
            log.WriteLine($"convolutions: the notebook's four, NCHW and channels-last, batch 256, oneDNN {settings.OneDnnMaxIsa}");
            result = result with { Conv = MeasureConvolutions(session, options) };
        }

        if (Has(BenchmarkCase.Epoch))
        {
            log.WriteLine($"epoch overhead: {options.EpochSteps} steps");
            result = MeasureEpochOverhead(session, options, result);
        }

        if (Has(BenchmarkCase.Floor))
        {
            log.WriteLine("compute floor: 2048^3 float32 matrix product");
            var rate = MeasureSgemm(session, options);
            double gflop = TrainingStepGflop(session, ImageShape.Cifar10, TrainBatchSize);
            result = result with { SgemmGflops = rate, TrainStep32x32x3Gflop = gflop, ComputeFloor32x32x3Ms = gflop / rate.Median * 1000 };
        }

        if (Has(BenchmarkCase.Eval))
        {
            log.WriteLine($"evaluation: {options.EvalImages} images at batch {EvalBatchSize}");
            result = result with { EvalImagesPerSecond = MeasureEvaluation(session, options) };
        }

        if (Has(BenchmarkCase.Load))
        {
            log.WriteLine("data load: six synthetic CIFAR-10 binary files (184 MB)");
            result = result with { DataLoadSeconds = MeasureDataLoad(options) };
        }

        if (options.Profile)
        {
            log.WriteLine("profile: one training step by layer and pass, unfused and fused (1 and all threads), 32x32x3 and 28x28x1, batch 256");
            result = result with { Profile = MeasureProfiles(session, options) };
        }

        return result;
    }

    /// <summary>GFLOP/s of 2048^3 float32 matrix products, a few per repeat after one untimed.</summary>
    private static TimingStats MeasureSgemm(RunSession session, BenchmarkOptions options)
    {
        const int n = 2048;
        int products = options.Quick ? 1 : 5;
        var rates = new List<double>();
        using var scope = NewDisposeScope();
        manual_seed(options.Seed);
        var a = randn(n, n);
        var b = randn(n, n);
        mm(a, b).Dispose();
        for (int repeat = 0; repeat < options.Repeats; repeat++)
        {
            for (int i = 0; i < products; i++)
            {
                session.CancellationToken.ThrowIfCancellationRequested();
                long start = Stopwatch.GetTimestamp();
                mm(a, b).Dispose();
                rates.Add(2.0 * n * n * n / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9);
            }
        }

        return TimingStats.From(rates);
    }

    /// <summary>
    /// GFLOP of one training step of the notebook model on <paramref name="shape"/>: each convolution's and dense
    /// layer's multiply-adds (2 FLOP each) forward, again for its weight gradient, and again for its input gradient
    /// except the first layer's (nothing needs it). Batch norm, ReLU, pooling and Adam are memory-bound and left out.
    /// </summary>
    internal static double TrainingStepGflop(RunSession session, ImageShape shape, int batch)
    {
        using var model = ModelPresets.Notebook(session, shape);
        bool firstSeen = false;
        long total = 0;
        foreach (var layer in model.Layers)
        {
            long macs = layer switch
            {
                Layers.Conv2D conv => conv.OutputShape.Size * conv.KernelSize * conv.KernelSize * conv.InputShape.Features,
                Layers.Dense dense => (long)dense.InputShape.Features * dense.Units,
                _ => 0,
            };
            if (macs > 0)
            {
                total += (firstSeen ? 3 : 2) * macs;
                firstSeen = true;
            }
        }

        return 2.0 * total * batch / 1e9;
    }

    /// <summary>The notebook model (<paramref name="variant"/>), compiled with Keras's Adam, seeded; under <paramref name="policy"/> when given, else the session's.</summary>
    private static Sequential NewModel(RunSession session, ImageShape shape, int seed, ExecutionPolicy? policy = null,
        NormalizationVariant variant = NormalizationVariant.Bn)
    {
        manual_seed(seed);
        var model = ModelPresets.Notebook(session, shape, variant: variant);
        if (policy is not null)
        {
            model.Apply(policy);
        }

        model.Compile(new Adam());
        return model;
    }

    /// <summary>
    /// Profiles the step per shape with libtorch's kernels and with the fused ones, the fused kernels on one thread and on
    /// the session's threads: models and shapes alternate every repeat, and within a run profiled steps alternate with
    /// plain ones, so all see the same load.
    /// </summary>
    private static List<StepProfile> MeasureProfiles(RunSession session, BenchmarkOptions options)
    {
        var variants = new List<(ImageShape Shape, bool Fused, bool Threaded)>();
        foreach (var shape in new[] { ImageShape.Cifar10, new ImageShape(28, 28, 1) })
        {
            variants.Add((shape, false, false));
            variants.Add((shape, true, false));
            variants.Add((shape, true, true));
        }

        var plain = session.Policy with { FusedKernels = false, Layout = session.Policy.Layout with { ChannelsLastFromInputTraining = false } };
        var models = variants.Select(v => NewModel(session, v.Shape, options.Seed, v.Fused ? plain.WithFusedKernels() : plain)).ToArray();
        bool threaded = Layers.FusedBatchNorm.Threaded;
        var batches = variants.Select(v => SyntheticTrain(v.Shape, TrainBatchSize, options.Seed).GetRange(0, TrainBatchSize)).ToArray();
        var profilers = models.Select(m => new StepProfiler(m)).ToArray();
        var steps = variants.Select(_ => new List<double>()).ToArray();
        var totals = variants.Select(_ => new List<double>()).ToArray();
        var parts = variants.Select(_ => new List<double[]>()).ToArray();
        try
        {
            for (int repeat = 0; repeat < options.Repeats; repeat++)
            {
                for (int v = 0; v < variants.Count; v++)
                {
                    var (images, labels) = batches[v];
                    Layers.FusedBatchNorm.Threaded = variants[v].Threaded;
                    for (int i = 0; i < options.WarmupSteps; i++)
                    {
                        models[v].TrainOnBatch(images, labels);
                        profilers[v].Step(images, labels);
                    }

                    for (int i = 0; i < options.TimedSteps; i++)
                    {
                        long start = Stopwatch.GetTimestamp();
                        models[v].TrainOnBatch(images, labels);
                        steps[v].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                        var (stepParts, total) = profilers[v].Step(images, labels);
                        parts[v].Add(stepParts);
                        totals[v].Add(total);
                    }
                }
            }
        }
        finally
        {
            Layers.FusedBatchNorm.Threaded = threaded;
            foreach (var (images, labels) in batches)
            {
                images.Dispose();
                labels.Dispose();
            }

            foreach (var model in models)
            {
                model.Dispose();
            }
        }

        return variants.Select((variant, v) =>
        {
            var names = profilers[v].Parts;
            var summary = names.Select((part, p) => new ProfilePart(part.Name, part.Pass,
                TimingStats.From(parts[v].Select(step => step[p])).Median, parts[v].Average(step => step[p]))).ToList();
            return new StepProfile
            {
                Shape = $"{variant.Shape.Height}x{variant.Shape.Width}x{variant.Shape.Channels}",
                FusedKernels = variant.Fused,
                KernelThreads = variant.Fused ? variant.Threaded ? session.Runtime.Threads : 1 : null,
                StepMs = TimingStats.From(steps[v]),
                ProfiledStepMs = TimingStats.From(totals[v]),
                Parts = summary,
                UnattributedMs = totals[v].Average() - summary.Sum(p => p.MeanMs),
            };
        }).ToList();
    }

    private static ImageDataset SyntheticTrain(ImageShape shape, int count, int seed) =>
        SyntheticImages.Generate(new SyntheticOptions { Shape = shape, TrainCount = count, TestCount = 1, Seed = seed }).Train;

    /// <summary>Bare steps (a ready batch, no assembly) per shape; the shapes alternate every repeat.</summary>
    private static (TimingStats Cifar, TimingStats Fashion) MeasureTrainSteps(RunSession session, BenchmarkOptions options)
    {
        var times = MeasureAlternating(session, options, [(ImageShape.Cifar10, NormalizationVariant.Bn), (new ImageShape(28, 28, 1), NormalizationVariant.Bn)]);
        return (times[0], times[1]);
    }

    /// <summary>
    /// The variants of <c>compare</c> whose steps differ in work (bn-m09 runs bn's operations with another momentum),
    /// on the experiments' 28x28x1 input.
    /// </summary>
    internal static IReadOnlyList<NormalizationVariant> TimedVariants { get; } =
        [NormalizationVariant.Bn, NormalizationVariant.None, NormalizationVariant.BnBeforeRelu, NormalizationVariant.Renorm];

    /// <summary>Bare steps of each of <see cref="TimedVariants"/> on 28x28x1 images, alternating every repeat in one process.</summary>
    private static Dictionary<string, TimingStats> MeasureVariantSteps(RunSession session, BenchmarkOptions options)
    {
        var times = MeasureAlternating(session, options, [.. TimedVariants.Select(v => (new ImageShape(28, 28, 1), v))]);
        return TimedVariants.Select((v, i) => (ModelPresets.VariantName(v), times[i])).ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal);
    }

    /// <summary>
    /// Bare training steps of the notebook model for each (input, variant), every model built from the same seed; the
    /// models take turns every repeat, so a slower period of the machine falls on all of them alike.
    /// </summary>
    private static TimingStats[] MeasureAlternating(RunSession session, BenchmarkOptions options, IReadOnlyList<(ImageShape Shape, NormalizationVariant Variant)> cases)
    {
        var models = new List<Sequential>();
        var batches = new List<(Tensor Images, Tensor Labels)>();
        var times = cases.Select(_ => new List<double>()).ToArray();
        try
        {
            foreach (var (shape, variant) in cases)
            {
                models.Add(NewModel(session, shape, options.Seed, variant: variant));
                batches.Add(SyntheticTrain(shape, TrainBatchSize, options.Seed).GetRange(0, TrainBatchSize));
            }

            for (int repeat = 0; repeat < options.Repeats; repeat++)
            {
                for (int c = 0; c < cases.Count; c++)
                {
                    var model = models[c];
                    var (images, labels) = batches[c];
                    model.train(true);
                    for (int i = 0; i < options.WarmupSteps + options.TimedSteps; i++)
                    {
                        session.CancellationToken.ThrowIfCancellationRequested();
                        long start = Stopwatch.GetTimestamp();
                        model.TrainOnBatch(images, labels);
                        if (i >= options.WarmupSteps)
                        {
                            times[c].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                        }
                    }
                }
            }
        }
        finally
        {
            foreach (var (images, labels) in batches)
            {
                images.Dispose();
                labels.Dispose();
            }

            foreach (var model in models)
            {
                model.Dispose();
            }
        }

        return [.. times.Select(TimingStats.From)];
    }

    /// <summary>The notebook's convolutions on 32x32x3 input: (input channels, filters, image size).</summary>
    private static readonly (int In, int Filters, int Size)[] NotebookConvolutions = [(3, 8, 32), (8, 8, 32), (8, 16, 16), (16, 16, 16)];

    /// <summary>
    /// Each of the notebook's convolutions (batch 256, 3x3 'same', bias), forward then backward from a random upstream
    /// gradient, in NCHW and channels-last, the two layouts taking turns every repeat. The first convolution's input
    /// needs no gradient (it is the image), the others' do. Measured under the process's oneDNN cap: the layout choice
    /// of <c>LayoutPolicy.ChannelsLastConvolutions</c> (under AVX-512 the NCHW input gradients of the 8-filter
    /// convolutions are wrong; they are only timed here).
    /// </summary>
    private static List<ConvTiming> MeasureConvolutions(RunSession session, BenchmarkOptions options)
    {
        var timings = new List<ConvTiming>();
        foreach (var (inChannels, filters, size) in NotebookConvolutions)
        {
            bool inputGradient = (inChannels, filters, size) != NotebookConvolutions[0];   // the first one's input is the image
            var forward = new[] { new List<double>(), new List<double>() };
            var backward = new[] { new List<double>(), new List<double>() };
            using var scope = NewDisposeScope();
            manual_seed(options.Seed);
            var weight = (randn(filters, inChannels, 3, 3) * 0.2).requires_grad_(true);
            var bias = zeros(filters).requires_grad_(true);
            var nchw = randn(TrainBatchSize, inChannels, size, size);
            var inputs = new[] { nchw, Layers.LayoutSwitch.ChannelsLast(nchw) };
            var upstream = randn(TrainBatchSize, filters, size, size) * 1e-3;
            var upstreams = new[] { upstream, Layers.LayoutSwitch.ChannelsLast(upstream) };
            for (int repeat = 0; repeat < options.Repeats; repeat++)
            {
                for (int layout = 0; layout < 2; layout++)
                {
                    for (int i = 0; i < options.WarmupSteps + options.TimedSteps; i++)
                    {
                        session.CancellationToken.ThrowIfCancellationRequested();
                        using var step = NewDisposeScope();
                        var x = inputs[layout].detach().requires_grad_(inputGradient);
                        long start = Stopwatch.GetTimestamp();
                        var y = nn.functional.conv2d(x, weight, bias, padding: [1, 1]);
                        long middle = Stopwatch.GetTimestamp();
                        y.backward([upstreams[layout]]);
                        long end = Stopwatch.GetTimestamp();
                        weight.grad!.zero_();
                        bias.grad!.zero_();
                        if (i >= options.WarmupSteps)
                        {
                            forward[layout].Add(Stopwatch.GetElapsedTime(start, middle).TotalMilliseconds);
                            backward[layout].Add(Stopwatch.GetElapsedTime(middle, end).TotalMilliseconds);
                        }
                    }
                }
            }

            string shape = $"{inChannels}->{filters} {size}x{size}";
            timings.Add(new ConvTiming(shape, "NCHW", TimingStats.From(forward[0]), TimingStats.From(backward[0])));
            timings.Add(new ConvTiming(shape, "channels-last", TimingStats.From(forward[1]), TimingStats.From(backward[1])));
        }

        return timings;
    }

    /// <summary>
    /// A whole Fit epoch against the same number of bare steps, alternated every repeat; also the time to assemble
    /// one batch (copy, uint8 to float) and the managed bytes allocated per step by each.
    /// </summary>
    private static BenchmarkResult MeasureEpochOverhead(RunSession session, BenchmarkOptions options, BenchmarkResult result)
    {
        int steps = options.EpochSteps;
        var data = SyntheticTrain(ImageShape.Cifar10, steps * TrainBatchSize, options.Seed);
        using var model = NewModel(session, ImageShape.Cifar10, options.Seed);
        var (images, labels) = data.GetRange(0, TrainBatchSize);
        var epochs = new List<double>();
        var bare = new List<double>();
        var ratios = new List<double>();
        var assembly = new List<double>();
        long bareBytes = 0;
        long fitBytes = 0;
        try
        {
            model.Fit(data, TrainBatchSize, epochs: 1, verbose: 0); // warm-up
            for (int repeat = 0; repeat < options.Repeats; repeat++)
            {
                model.train(true);
                long allocated = GC.GetAllocatedBytesForCurrentThread();
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < steps; i++)
                {
                    model.TrainOnBatch(images, labels);
                }

                double bareSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                bareBytes += GC.GetAllocatedBytesForCurrentThread() - allocated;
                allocated = GC.GetAllocatedBytesForCurrentThread();
                var history = model.Fit(data, TrainBatchSize, epochs: 1, verbose: 0);
                fitBytes += GC.GetAllocatedBytesForCurrentThread() - allocated;
                double epochSeconds = history.Values["train_seconds"][^1];
                bare.Add(bareSeconds);
                epochs.Add(epochSeconds);
                ratios.Add(epochSeconds / bareSeconds);
                assembly.Add(TimeBatchAssembly(data, steps));
            }
        }
        finally
        {
            images.Dispose();
            labels.Dispose();
        }

        return result with
        {
            EpochSeconds = TimingStats.From(epochs),
            EpochBareStepsSeconds = TimingStats.From(bare),
            EpochOverheadRatio = TimingStats.From(ratios),
            BatchAssemblyMs = TimingStats.From(assembly),
            BareStepManagedBytes = (double)bareBytes / (steps * options.Repeats),
            FitStepManagedBytes = (double)fitBytes / (steps * options.Repeats),
        };
    }

    /// <summary>Mean milliseconds to assemble one shuffled training batch as Fit does (before the step uses it).</summary>
    private static double TimeBatchAssembly(ImageDataset data, int steps)
    {
        using var source = BatchSource.From(data, TrainBatchSize, CPU);
        int[] order = Enumerable.Range(0, data.Count).Reverse().ToArray();
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            source.Batch(order.AsSpan(i * TrainBatchSize, TrainBatchSize));
        }

        return Stopwatch.GetElapsedTime(start).TotalMilliseconds / steps;
    }

    /// <summary>Evaluate (inference mode, loss and accuracy) at batch 1024; one warm-up pass.</summary>
    private static TimingStats MeasureEvaluation(RunSession session, BenchmarkOptions options)
    {
        var data = SyntheticTrain(ImageShape.Cifar10, options.EvalImages, options.Seed);
        using var model = NewModel(session, ImageShape.Cifar10, options.Seed);
        model.Evaluate(data, EvalBatchSize);
        var rates = new List<double>();
        for (int repeat = 0; repeat < options.Repeats; repeat++)
        {
            long start = Stopwatch.GetTimestamp();
            model.Evaluate(data, EvalBatchSize);
            rates.Add(data.Count / Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        return TimingStats.From(rates);
    }

    /// <summary>A multi-epoch Fit with validation, recording resident memory at the end of every epoch.</summary>
    private static BenchmarkResult MeasureMemory(RunSession session, BenchmarkOptions options, BenchmarkResult result)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        bool reset = ProcessMemory.ResetPeak();
        var (train, test) = SyntheticImages.Generate(new SyntheticOptions
        {
            TrainCount = options.MemoryTrainImages,
            TestCount = options.MemoryValidationImages,
            Seed = options.Seed,
        });
        using var model = NewModel(session, ImageShape.Cifar10, options.Seed);
        var probe = new RssProbe();
        model.Fit(train, TrainBatchSize, options.MemoryEpochs, verbose: 0, validationData: test, callbacks: [probe]);
        double epoch2 = probe.Samples[Math.Min(1, probe.Samples.Count - 1)];
        double last = probe.Samples[^1];
        return result with
        {
            PeakRssMb = ProcessMemory.PeakBytes() / 1e6,
            PeakRssReset = reset,
            RssEpoch2Mb = epoch2 / 1e6,
            RssLastEpochMb = last / 1e6,
            RssGrowthPercent = (last - epoch2) / epoch2 * 100,
            MemoryEpochs = options.MemoryEpochs,
            MemoryTrainImages = options.MemoryTrainImages,
        };
    }

    /// <summary>Writes six full-size CIFAR-10 binary files once, loads them once to warm the cache, then times loads.</summary>
    private static TimingStats MeasureDataLoad(BenchmarkOptions options)
    {
        string root = Path.Combine(Path.GetTempPath(), "cifar-bn-bench-" + Guid.NewGuid().ToString("N"));
        string folder = Path.Combine(root, Cifar10.FolderName);
        try
        {
            WriteSyntheticCifar10(folder, options.Seed);
            Cifar10.Load(root);
            var seconds = new List<double>();
            for (int repeat = 0; repeat < options.Repeats; repeat++)
            {
                long start = Stopwatch.GetTimestamp();
                var (train, test) = Cifar10.Load(root);
                seconds.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
                GC.KeepAlive(train);
                GC.KeepAlive(test);
            }

            return TimingStats.From(seconds);
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder is not worth failing the benchmark for.
            }
        }
    }

    private static void WriteSyntheticCifar10(string folder, int seed)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(seed);
        var records = new byte[Cifar10.RecordsPerFile * Cifar10.RecordSize];
        foreach (string file in Cifar10.TrainFiles.Append(Cifar10.TestFile))
        {
            random.NextBytes(records);
            for (int r = 0; r < Cifar10.RecordsPerFile; r++)
            {
                records[r * Cifar10.RecordSize] = (byte)(r % 10);
            }

            File.WriteAllBytes(Path.Combine(folder, file), records);
        }

        File.WriteAllText(Path.Combine(folder, "batches.meta.txt"), string.Join('\n', Cifar10.ClassNames) + "\n");
    }

    /// <summary>Records the resident set size at the end of every epoch.</summary>
    private sealed class RssProbe : Callback
    {
        public List<double> Samples { get; } = [];

        public override void OnEpochEnd(int epoch, IDictionary<string, double> logs) => Samples.Add(ProcessMemory.CurrentBytes());
    }

    /// <summary>Resident memory from <c>/proc/self/status</c> (VmRSS, VmHWM) on Linux, the process counters elsewhere.</summary>
    private static class ProcessMemory
    {
        private const string Status = "/proc/self/status";

        public static double CurrentBytes() => ReadKilobytes("VmRSS:") is long kb ? kb * 1024.0 : Process.GetCurrentProcess().WorkingSet64;

        public static double PeakBytes() => ReadKilobytes("VmHWM:") is long kb ? kb * 1024.0 : Process.GetCurrentProcess().PeakWorkingSet64;

        /// <summary>Resets VmHWM to the current RSS (writing 5 to <c>/proc/self/clear_refs</c>, Linux 4.0+).</summary>
        public static bool ResetPeak()
        {
            try
            {
                File.WriteAllText("/proc/self/clear_refs", "5");
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
            {
                return false;
            }
        }

        private static long? ReadKilobytes(string key)
        {
            if (!File.Exists(Status))
            {
                return null;
            }

            string? line = File.ReadLines(Status).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
            return line is null ? null : long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
    }
}
