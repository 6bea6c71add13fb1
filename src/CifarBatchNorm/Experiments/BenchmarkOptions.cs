namespace CifarBatchNorm.Experiments;

/// <summary>
/// What <see cref="Benchmark.Run"/> measures and how often. The defaults take a few minutes on two cores;
/// <see cref="Quick"/> is a smoke run for tests (its numbers mean little).
/// </summary>
internal sealed record BenchmarkOptions
{
    /// <summary>The cases <see cref="Cases"/> accepts.</summary>
    public static IReadOnlyList<BenchmarkCase> AllCases { get; } = Enum.GetValues<BenchmarkCase>();

    /// <summary>The name of <paramref name="benchmarkCase"/> in bench.json and on the command line (<c>train-step</c>, ...).</summary>
    public static string CaseName(BenchmarkCase benchmarkCase) => System.Text.Json.JsonSerializer.Serialize(benchmarkCase).Trim('"');

    /// <summary>Parses a case name (<c>train-step</c>, <c>epoch</c>, <c>eval</c>, <c>memory</c>, <c>load</c>).</summary>
    /// <exception cref="ArgumentException">An unknown name; the message lists the known ones.</exception>
    public static BenchmarkCase ParseCase(string name) =>
        AllCases.FirstOrDefault(c => CaseName(c) == name?.Trim(), (BenchmarkCase)(-1)) is var found && Enum.IsDefined(found)
            ? found
            : throw new ArgumentException($"Unknown benchmark case '{name}': use {string.Join(", ", AllCases.Select(CaseName))}.", nameof(name));

    /// <summary>Small counts everywhere, for tests. The default value is <c>false</c>.</summary>
    public bool Quick { get; init; }

    /// <summary>How many times each case is repeated (alternating the input shapes). The default value is 3.</summary>
    public int Repeats { get; init; } = 3;

    /// <summary>Allowed <see cref="Repeats"/>.</summary>
    public static IntRange RepeatsRange { get; } = new(1, 1000);

    /// <summary>The cases to run, from <see cref="AllCases"/>. The default value is all of them.</summary>
    public IReadOnlyList<BenchmarkCase> Cases { get; init; } = AllCases;

    /// <summary>
    /// Run the memory case as the full CIFAR-10-sized run (10 epochs, 50,000 training and 10,000 validation images)
    /// instead of the short one (4 epochs of 10,240 and 2,048). The default value is <c>false</c>.
    /// </summary>
    public bool FullMemoryRun { get; init; }

    /// <summary>
    /// Also profile one training step per input shape by layer and pass (<see cref="StepProfile"/>), with libtorch's
    /// kernels and with the fused ReLU + batch-norm kernels (their loops on one thread and on the session's threads), all
    /// alternating. The default value is <c>false</c>.
    /// </summary>
    public bool Profile { get; init; }

    /// <summary>Seed of the weights, the shuffling and the synthetic images. The default value is 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Untimed training steps before the timed ones (per shape and repeat). The default value is 5 (1 when quick).</summary>
    public int WarmupSteps => Quick ? 1 : 5;

    /// <summary>Timed training steps per shape and repeat. The default value is 20 (2 when quick).</summary>
    public int TimedSteps => Quick ? 2 : 20;

    /// <summary>Steps in the epoch of the epoch-overhead case. The default value is 40 (2 when quick).</summary>
    public int EpochSteps => Quick ? 2 : 40;

    /// <summary>Images evaluated per repeat of the evaluation case. The default value is 10,240 (1,024 when quick).</summary>
    public int EvalImages => Quick ? 1024 : 10_240;

    /// <summary>Epochs of the memory case: 10 for the full run, else 4 (3 when quick).</summary>
    public int MemoryEpochs => FullMemoryRun ? 10 : Quick ? 3 : 4;

    /// <summary>Training images of the memory case: 50,000 for the full run, else 10,240 (512 when quick).</summary>
    public int MemoryTrainImages => FullMemoryRun ? 50_000 : Quick ? 512 : 10_240;

    /// <summary>Validation images of the memory case: 10,000 for the full run, else 2,048 (256 when quick).</summary>
    public int MemoryValidationImages => FullMemoryRun ? 10_000 : Quick ? 256 : 2048;

    /// <summary>Throws when a setting is out of range.</summary>
    public BenchmarkOptions Validate()
    {
        if (!RepeatsRange.Contains(Repeats))
        {
            throw new ArgumentOutOfRangeException(nameof(Repeats), Repeats, "Repeats must be 1 to 1000.");
        }

        ArgumentNullException.ThrowIfNull(Cases);
        if (Cases.Count == 0)
        {
            throw new ArgumentException($"Cases is empty: pick from {string.Join(", ", AllCases.Select(CaseName))}.", nameof(Cases));
        }

        if (Cases.FirstOrDefault(c => !Enum.IsDefined(c), BenchmarkCase.TrainStep) is var unknown && !Enum.IsDefined(unknown))
        {
            throw new ArgumentException($"Unknown benchmark case {(int)unknown}: use {string.Join(", ", AllCases.Select(CaseName))}.", nameof(Cases));
        }

        return this;
    }
}
