using System.CommandLine;
using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Cli;

/// <summary>
/// The command line: parses, wires and prints; the work is in the library. User errors end as one line on
/// standard error and a non-zero exit code, never a stack trace.
/// </summary>
internal static class App
{
    /// <summary>The commands that observe the cancellation token and stop cleanly between two steps, keeping their work.</summary>
    private static readonly HashSet<string> GracefulCommands = new(StringComparer.Ordinal) { "train", "download", "compare", "analyze", "merge" };

    /// <summary>
    /// Whether the command <paramref name="args"/> select stops cleanly on Ctrl+C / SIGTERM (it observes the
    /// cancellation token); for the others (summary, evaluate, bench) the signal ends the process instead of being
    /// swallowed. The root command is <c>train</c>.
    /// </summary>
    public static bool StopsGracefully(string[] args)
    {
        var command = Build(TextWriter.Null, TextWriter.Null, CancellationToken.None).Parse(args).CommandResult.Command;
        return command is RootCommand || GracefulCommands.Contains(command.Name);
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var root = Build(stdout, stderr, cancellationToken);
        var invocation = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && !CliHelp.IsHelp(parsed))   // --help wins over a missing required option
        {
            foreach (var error in parsed.Errors)
            {
                stderr.WriteLine($"error: {error.Message}");
            }

            stderr.WriteLine($"Run '{HelpCommand(parsed)}' for the options.");
            return ExitCodes.UsageError;
        }

        try
        {
            return parsed.Invoke(invocation);
        }
        catch (RunStoppedException e)
        {
            stderr.WriteLine(e.Message);
            return e.ExitCode;
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("Interrupted before anything worth keeping was finished; no output folder was left behind.");
            return ExitCodes.Interrupted;
        }
        catch (Exception e) when (IsUserError(e))
        {
            stderr.WriteLine($"error: {CliMessages.ForUser(e)}");
            return CliMessages.IsOptionError(e) ? ExitCodes.UsageError : ExitCodes.UserError;
        }
    }

    /// <summary>The help command of the (sub)command that was parsed, e.g. <c>cifar-bn compare --help</c>.</summary>
    private static string HelpCommand(ParseResult parsed) =>
        parsed.CommandResult.Command is RootCommand ? "cifar-bn --help" : $"cifar-bn {parsed.CommandResult.Command.Name} --help";

    private static RootCommand Build(TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var root = new RootCommand("The Batch Normalization CIFAR-10 notebook in .NET: train (default), summary, evaluate, download, compare, analyze, bench.");
        var train = TrainCommand(stdout, stderr, cancellationToken);
        foreach (var option in train.Options)
        {
            root.Options.Add(option);
        }

        root.Action = train.Action;
        root.Subcommands.Add(train);
        root.Subcommands.Add(SummaryCommand(stdout));
        root.Subcommands.Add(EvaluateCommand(stdout));
        root.Subcommands.Add(DownloadCommand.Create(stdout, cancellationToken));
        root.Subcommands.Add(CompareCommand.Create(stdout, stderr, cancellationToken));
        root.Subcommands.Add(AnalyzeCommand.Create(stdout, stderr, cancellationToken));
        root.Subcommands.Add(BenchCommand.Create(stdout, stderr));
        root.Subcommands.Add(PredictCommand.Create(stdout, stderr));
        root.Subcommands.Add(ExportCommand.Create(stdout));
        CliHelp.AddTo(root);
        return root;
    }

    private static bool IsUserError(Exception e) => e is DatasetNotFoundException or DataFormatException or ModelFileException
        or Data.Download.DownloadException
        or TrainingDivergedException or IOException or UnauthorizedAccessException or ArgumentException;

    private static Command TrainCommand(TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var shared = new TrainingOptions();
        var variant = CliOptions.Variant();
        var output = CliOptions.Output("Run folder to create (default: runs/<dataset>-<time>)");
        var resume = new Option<string?>("--resume") { Description = "Continue the interrupted run in this folder (its own config is used); with --epochs N, extend a run to N epochs in all" };
        var earlyStopping = CliOptions.OptionalInt("--early-stopping-patience", TrainConfig.PatienceRange, "Stop after N epochs without val_loss improvement, keeping the best weights");
        var reduceLr = CliOptions.OptionalInt("--reduce-lr-patience", TrainConfig.PatienceRange, "Divide the learning rate by 10 after N epochs without val_loss improvement");
        var checkpointBest = new Option<bool>("--checkpoint-best") { Description = "Also keep best.pt, the weights of the best val_accuracy epoch" };
        var tensorBoard = CliOptions.Folder("--tensorboard", "Write TensorBoard event files to this folder", "a folder for the event files");
        var validationSplit = CliOptions.ValidationSplit();
        var augment = CliOptions.Augment();

        var command = new Command("train", "Train the notebook's model, evaluate it and write a run folder (the default command).")
        {
            variant, output, resume, earlyStopping, reduceLr, checkpointBest, tensorBoard, validationSplit, augment,
        };
        shared.AddTo(command);
        command.SetAction(result =>
        {
            if (result.GetValue(resume) is string resumeDir)
            {
                // A resumed run keeps its own config: only the total number of epochs may change (Keras's initial_epoch).
                var others = result.CommandResult.Children.OfType<System.CommandLine.Parsing.OptionResult>()
                    .Where(o => !o.Implicit && o.Option.Name is not ("--resume" or "--epochs")).Select(o => o.Option.Name).ToList();
                if (others.Count > 0)
                {
                    throw new ArgumentException(
                        $"--resume continues a run with its own settings; {string.Join(", ", others)} cannot change them. Only --epochs N (extend to N epochs in all) may go with --resume.",
                        $"{nameof(TrainConfig)}.{nameof(TrainConfig.Epochs)}");
                }

                int? epochs = result.GetResult(shared.Epochs) is { Implicit: false } ? result.GetValue(shared.Epochs) : null;
                RuntimeStartup.Initialize(RunFolder.ReadRecord(resumeDir).Config.Threads, stderr);
                return Guard(stdout, () => resumeDir, () => NotebookExperiment.Resume(resumeDir, stdout, cancellationToken: cancellationToken, epochs: epochs));
            }

            var config = shared.ToConfig(result) with
            {
                Variant = ModelPresets.ParseVariant(result.GetValue(variant)!),
                EarlyStoppingPatience = result.GetValue(earlyStopping),
                ReduceLrPatience = result.GetValue(reduceLr),
                CheckpointBest = result.GetValue(checkpointBest),
                TensorBoardDir = result.GetValue(tensorBoard),
                ValidationSplit = result.GetValue(validationSplit),
                Augment = ModelPresets.ParseAugmentations(result.GetValue(augment)),
            };
            RuntimeStartup.Initialize(config.Threads, stderr);
            string? given = result.GetValue(output) is string chosen ? Path.GetFullPath(chosen) : null;
            string? folder = null;
            string Choose(DatasetKind used) => folder = given ?? TrainingOptions.DefaultFolder(DatasetSelector.Name(used));   // named after the dataset auto settled on
            return Guard(stdout, () => folder, () => NotebookExperiment.Run(config, Choose, stdout, cancellationToken: cancellationToken));
        });
        return command;
    }

    /// <summary>Turns an interrupted or diverged run into one message that says where the run is and how to resume it.</summary>
    private static int Guard(TextWriter stdout, Func<string?> runFolder, Func<Experiments.RunResult> run)
    {
        try
        {
            var result = run();
            if (result.Advice is string advice)
            {
                stdout.WriteLine($"Note: {CliMessages.ForUser(advice)}");
            }

            return ExitCodes.Success;
        }
        catch (Exception e) when (e is OperationCanceledException or TrainingDivergedException
            && runFolder() is string folder && RunCheckpoint.Exists(RunFolder.Open(folder)))
        {
            stdout.WriteLine();
            var status = RunFolder.Open(folder).ReadJson<RunStatus>(RunFolder.StatusFile);
            string what = e is OperationCanceledException ? "Interrupted." : $"Stopped: {e.Message}";
            throw new RunStoppedException(
                $"{what} The run folder {folder} holds a consistent checkpoint of epoch {status.CompletedEpochs}; continue with: cifar-bn train --resume {CliOptions.ShellQuote(folder)}",
                e is OperationCanceledException ? ExitCodes.Interrupted : ExitCodes.UserError);
        }
    }

    private static Command SummaryCommand(TextWriter stdout)
    {
        var inputShape = new Option<string>("--input-shape")
        {
            Description = "Image shape HxWxC (32x32x3 CIFAR-10, 28x28x1 Fashion-MNIST)",
            DefaultValueFactory = _ => "32x32x3",
            Validators =
            {
                r =>
                {
                    string text = r.GetValueOrDefault<string>()!;
                    if (ParseShape(text) is not { } shape)
                    {
                        r.AddError($"--input-shape '{text}' is not HxWxC with positive numbers, e.g. 32x32x3.");
                        return;
                    }

                    try
                    {
                        ModelPresets.CheckInputShape(shape);
                    }
                    catch (ArgumentException e)
                    {
                        r.AddError(CliMessages.ForUser(e));
                    }
                },
            },
        };
        var variant = CliOptions.Variant();
        var command = new Command("summary", "Print the Keras-format summary of the notebook's model.") { inputShape, variant };
        command.SetAction(result =>
        {
            var shape = ParseShape(result.GetValue(inputShape)!)!.Value;
            RuntimeStartup.Initialize(null, TextWriter.Null);
            using var model = ModelPresets.Notebook(shape, variant: ModelPresets.ParseVariant(result.GetValue(variant)!));
            model.Summary(stdout);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command EvaluateCommand(TextWriter stdout)
    {
        var model = new Option<string>("--model", "-m") { Description = "A run folder, a weights file inside one, a .keras archive, a tf.keras 2 model.save .h5, or bare weights with --architecture", Required = true };
        var dataDir = CliOptions.DataDir();
        var device = CliOptions.Device();
        var dataset = CliOptions.Dataset();
        dataset.Description = "The dataset to evaluate on (its images must have the model's input shape): auto (the run's; for a model from elsewhere, the one its input shape names), cifar10, fashion-mnist or synthetic";
        var architecture = CliOptions.Architecture();
        var testLimit = CliOptions.OptionalInt("--test-limit", TrainConfig.LimitRange, "Evaluate on the first N test images only");
        var command = new Command("evaluate", "Evaluate a trained model on a dataset's test split (the run's own by default).") { model, dataDir, device, dataset, architecture, testLimit };
        command.SetAction(result =>
        {
            RuntimeStartup.Initialize(null, TextWriter.Null);
            NotebookExperiment.Evaluate(result.GetValue(model)!, result.GetValue(dataDir), stdout, result.GetValue(device)!,
                DatasetSelector.Parse(result.GetValue(dataset)!), result.GetValue(architecture), result.GetValue(testLimit));
            return ExitCodes.Success;
        });
        return command;
    }

    internal static ImageShape? ParseShape(string text)
    {
        string[] parts = text.Split('x', 'X');
        if (parts.Length == 3 && parts.All(p => int.TryParse(p, out int v) && v > 0))
        {
            return new ImageShape(int.Parse(parts[0]), int.Parse(parts[1]), int.Parse(parts[2]));
        }

        return null;
    }
}
