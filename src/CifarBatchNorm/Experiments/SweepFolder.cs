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

        /// <summary>The runtime settings the sweep ran with (threads above all); <c>null</c> in records written before they were kept.</summary>
        CifarBatchNorm.Runtime.RuntimeSettings? Runtime { get; }
    }

    /// <summary>Name of the file that records a sweep's config and data at its start.</summary>
    public const string RecordFile = "sweep.json";

    /// <summary>
    /// Opens the interrupted sweep in <paramref name="outputDir"/>, locks it, loads the data its record names and calls
    /// <paramref name="resume"/>; the lock is released however that ends.
    /// </summary>
    /// <param name="session">The session to continue in: it must run the device and thread count the sweep recorded.</param>
    /// <param name="outputDir">The sweep's folder.</param>
    /// <param name="what">What the sweep is, for messages (<c>comparison</c>, <c>analysis</c>).</param>
    /// <param name="resume">Continues the sweep.</param>
    /// <exception cref="Training.ModelFileException">The folder is not such a sweep, or it is complete.</exception>
    public static TResult Resume<TRecord, TResult>(RunSession session, string outputDir, string what, Func<TRecord, LoadedData, RunFolder, TResult> resume)
        where TRecord : IRecord
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentException.ThrowIfNullOrEmpty(outputDir);
        var output = session.Output;
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
            session.Check(record.Training, record.Runtime?.Threads ?? record.Training.Threads);
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
