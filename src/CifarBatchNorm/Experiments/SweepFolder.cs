namespace CifarBatchNorm.Experiments;

/// <summary>
/// The part that <c>compare</c> and <c>analyze</c> share to continue an interrupted sweep: the record written at its
/// start (<see cref="RecordFile"/>), the lock, and the data it ran on.
/// </summary>
internal static class SweepFolder
{
    /// <summary>What every sweep records at its start: its training settings and the data it ran on.</summary>
    internal interface IRecord
    {
        /// <summary>The sweep's training settings, as configured.</summary>
        TrainConfig Training { get; }

        /// <summary>The dataset the sweep settled on (<c>auto</c> resolved).</summary>
        string Dataset { get; }

        /// <summary>Where that dataset was found, or <c>null</c>.</summary>
        string? DataLocation { get; }
    }

    /// <summary>Name of the file that records a sweep's config and data at its start.</summary>
    public const string RecordFile = "sweep.json";

    /// <summary>
    /// Opens the interrupted sweep in <paramref name="outputDir"/>, locks it, loads the data its record names and calls
    /// <paramref name="resume"/>; the lock is released however that ends.
    /// </summary>
    /// <param name="outputDir">The sweep's folder.</param>
    /// <param name="what">What the sweep is, for messages (<c>comparison</c>, <c>analysis</c>).</param>
    /// <param name="output">Where the data banner goes.</param>
    /// <param name="resume">Continues the sweep.</param>
    /// <exception cref="Training.ModelFileException">The folder is not such a sweep, or it is complete.</exception>
    public static TResult Resume<TRecord, TResult>(string outputDir, string what, TextWriter output, Func<TRecord, LoadedData, RunFolder, TResult> resume)
        where TRecord : IRecord
    {
        ArgumentException.ThrowIfNullOrEmpty(outputDir);
        ArgumentNullException.ThrowIfNull(output);
        var folder = RunFolder.OpenExisting(outputDir);
        if (!File.Exists(folder.File(RecordFile)))
        {
            throw new Training.ModelFileException($"{folder.File(RecordFile)} not found: {folder.Path} is not the folder of an interrupted {what}, which is what can be resumed.");
        }

        var record = folder.ReadJson<TRecord>(RecordFile);
        if (File.Exists(folder.File(RunFolder.StatusFile)) && folder.ReadJson<RunStatus>(RunFolder.StatusFile).State == RunState.Complete)
        {
            throw new Training.ModelFileException($"{folder.Path} holds a complete {what}; there is nothing to resume.");
        }

        folder.AcquireLock();
        try
        {
            _ = Runtime.TorchRuntime.Require();
            var training = record.Training with { Dataset = DatasetSelector.Parse(record.Dataset), DataDir = record.DataLocation ?? record.Training.DataDir };
            var data = DatasetSelector.LoadRecorded(training, output);
            output.WriteLine(data.Banner);
            return resume(record, data, folder);
        }
        finally
        {
            folder.ReleaseLock();
        }
    }

    /// <summary>How far the sweep in <paramref name="outputDir"/> got, from its <c>status.json</c> (the part before the first ';').</summary>
    public static string Progress(string outputDir, string nothingYet) =>
        File.Exists(Path.Combine(outputDir, RunFolder.StatusFile))
            ? RunFolder.OpenExisting(outputDir).ReadJson<RunStatus>(RunFolder.StatusFile).Message.Split(';')[0]
            : nothingYet;
}
