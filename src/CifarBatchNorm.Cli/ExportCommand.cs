using System.CommandLine;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Interop;

namespace CifarBatchNorm.Cli;

/// <summary><c>export</c>: a trained model to ONNX, a Keras archive, Keras 3 weights or safetensors.</summary>
internal static class ExportCommand
{
    private static readonly Dictionary<string, ModelFileFormat> Formats = new(StringComparer.OrdinalIgnoreCase)
    {
        ["onnx"] = ModelFileFormat.Onnx,
        ["keras"] = ModelFileFormat.KerasArchive,
        ["weights.h5"] = ModelFileFormat.Keras3Weights,
        ["safetensors"] = ModelFileFormat.Safetensors,
        ["pt"] = ModelFileFormat.TorchSharp,
    };

    public static CliCommand Create(CliSession cli)
    {
        var weights = new Option<string>("--weights", "-w")
        {
            Description = $"A run folder, a weights file inside one ({ModelFiles.WeightExtensions}), a .keras archive, a tf.keras 2 model.save .h5, or bare weights with --architecture",
            Required = true,
        };
        var architecture = CliOptions.Architecture();
        var format = new Option<string>("--format", "-f")
        {
            Description = "onnx, keras, weights.h5, safetensors or pt",
            Required = true,
            Validators = { r => { if (!Formats.ContainsKey(r.GetValueOrDefault<string>() ?? string.Empty)) { r.AddError($"--format '{r.GetValueOrDefault<string>()}' is not one of {string.Join(", ", Formats.Keys)}."); } } },
        };
        var output = new Option<string>("--output", "-o") { Description = "File to write; its extension must fit the format", Required = true };
        var command = new CliCommand("export", "Export a trained model for ONNX Runtime, Keras or PyTorch.", stopsGracefully: false) { weights, architecture, format, output };
        command.SetAction(result =>
        {
            var wanted = Formats[result.GetValue(format)!];
            string target = result.GetValue(output)!;
            var named = ModelFiles.FormatOf(target);
            if (named != wanted)
            {
                throw new ArgumentException($"--output {target} names a {named} file, not {result.GetValue(format)}; give it the matching extension.");
            }

            using var trained = TrainedModel.Open(cli.Session, result.GetValue(weights)!, result.GetValue(architecture));
            if (trained.CheckpointNote("exporting") is string note)
            {
                cli.Stderr.WriteLine(note);
            }

            switch (wanted)
            {
                case ModelFileFormat.Onnx:
                    OnnxExporter.Export(trained.Model, target, trained.ClassNames);
                    break;
                case ModelFileFormat.KerasArchive:
                    ModelFiles.Save(trained.Model, target, trained.ClassNames);
                    break;
                default:
                    ModelFiles.SaveWeights(trained.Model, target);
                    break;
            }

            cli.Stdout.WriteLine($"Wrote {Path.GetFullPath(target)} ({result.GetValue(format)}).");
            return ExitCodes.Success;
        });
        return command;
    }
}
