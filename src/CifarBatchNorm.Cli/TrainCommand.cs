using System.CommandLine;
using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Cli;

/// <summary><c>train</c> (also the root command): the notebook's training run into a run folder, or the resumption of one.</summary>
internal static class TrainCommand
{
    public static CliCommand Create(CliSession cli)
    {
        var stdout = cli.Stdout;
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

        var command = new CliCommand("train", "Train the notebook's model, evaluate it and write a run folder (the default command).", stopsGracefully: true)
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
                return Guard(stdout, () => resumeDir, () => NotebookExperiment.Resume(cli.Session, resumeDir, epochs: epochs));
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
            string? given = result.GetValue(output) is string chosen ? Path.GetFullPath(chosen) : null;
            string? folder = null;
            string Choose(DatasetKind used) => folder = given ?? TrainingOptions.DefaultFolder(DatasetSelector.Name(used));   // named after the dataset auto settled on
            return Guard(stdout, () => folder, () => NotebookExperiment.Run(cli.Session, config, Choose));
        });
        return command;
    }

    /// <summary>Turns an interrupted or diverged run into one message that says where the run is and how to resume it.</summary>
    private static int Guard(TextWriter stdout, Func<string?> runFolder, Func<Experiments.RunResult> run)
    {
        try
        {
            var result = run();
            Reporting.HistoryReport.Write(result);   // plots and report.html of every train run
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
                $"{what} The run folder {folder} holds a consistent checkpoint of epoch {status.CompletedEpochs}; continue with: {CliName.Command($"train --resume {CliOptions.ShellQuote(folder)}")}",
                e is OperationCanceledException ? ExitCodes.Interrupted : ExitCodes.UserError);
        }
    }
}
