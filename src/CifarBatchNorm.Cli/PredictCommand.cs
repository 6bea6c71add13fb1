using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Interop;
using static TorchSharp.torch;

namespace CifarBatchNorm.Cli;

/// <summary><c>predict</c>: the top-3 classes of image files with a trained model.</summary>
internal static class PredictCommand
{
    public static CliCommand Create(CliSession cli)
    {
        var weights = new Option<string>("--weights", "-w")
        {
            Description = $"A run folder, a weights file inside one ({ModelFiles.WeightExtensions}), a .keras archive, a tf.keras 2 model.save .h5, or bare weights with --architecture",
            Required = true,
        };
        var architecture = CliOptions.Architecture();
        var json = new Option<bool>("--json") { Description = "Print one JSON array: file, probabilities (every class), top (three best)" };
        var images = new Argument<string[]>("images") { Description = "PNG, JPEG or BMP files, or folders holding them", Arity = ArgumentArity.OneOrMore };
        var command = new CliCommand("predict", "Classify image files: resized to the model's input, pixels / 255, top-3 classes per image.", stopsGracefully: false) { weights, architecture, json, images };
        command.SetAction(result =>
        {
            using var trained = TrainedModel.Open(cli.Session, result.GetValue(weights)!, result.GetValue(architecture));
            if (trained.CheckpointNote("predicting with") is string note)
            {
                cli.Stderr.WriteLine(note);   // stdout holds only the predictions
            }

            return Predict(trained, ImageFiles.Expand(result.GetValue(images)!), result.GetValue(json), cli.Stdout, cli.Stderr);
        });
        return command;
    }

    /// <summary>Images decoded and predicted at a time: memory stays that of one chunk however many files are given.</summary>
    private const int ChunkSize = 256;

    private static int Predict(TrainedModel trained, IReadOnlyList<string> files, bool json, TextWriter stdout, TextWriter stderr)
    {
        var model = trained.Model;
        var shape = new ImageShape(model.InputShape.Dims[0], model.InputShape.Dims[1], model.InputShape.Dims[2]);
        bool failed = false;
        bool first = true;
        if (json)
        {
            stdout.Write('[');
        }

        for (int offset = 0; offset < files.Count; offset += ChunkSize)
        {
            var decoded = new List<(string File, float[] Pixels)>();
            foreach (string file in files.Skip(offset).Take(ChunkSize))
            {
                try
                {
                    decoded.Add((file, ImageFiles.Load(file, shape, warning => stderr.WriteLine($"warning: {warning}"))));
                }
                catch (Exception e) when (e is DataFormatException or IOException or UnauthorizedAccessException)
                {
                    stderr.WriteLine($"error: {e.Message}");
                    failed = true;
                }
            }

            if (decoded.Count == 0)
            {
                continue;
            }

            float[] probabilities;
            using (var scope = NewDisposeScope())
            {
                var x = tensor(decoded.SelectMany(d => d.Pixels).ToArray(), [decoded.Count, shape.Channels, shape.Height, shape.Width]);
                probabilities = model.Predict(x).data<float>().ToArray();
            }

            int classes = trained.ClassNames.Count;
            for (int i = 0; i < decoded.Count; i++)
            {
                float[] p = probabilities[(i * classes)..((i + 1) * classes)];
                if (p.Any(v => !float.IsFinite(v)))
                {
                    stderr.WriteLine($"error: the model's output for {decoded[i].File} is not a number (NaN or infinite); its weights are damaged or diverged, so there is no prediction.");
                    failed = true;
                    continue;
                }

                var top = Enumerable.Range(0, classes).OrderByDescending(c => p[c]).Take(3).ToArray();
                if (json)
                {
                    stdout.Write(first ? "\n" : ",\n");
                    first = false;
                    stdout.Write(JsonSerializer.Serialize(new
                    {
                        file = decoded[i].File,
                        probabilities = p,
                        top = top.Select(c => new { index = c, name = trained.ClassNames[c], probability = p[c] }).ToArray(),
                    }));
                }
                else
                {
                    stdout.WriteLine($"{decoded[i].File}: " + string.Join(", ",
                        top.Select(c => $"{trained.ClassNames[c]} {p[c].ToString("0.0000", CultureInfo.InvariantCulture)}")));
                }
            }
        }

        if (json)
        {
            stdout.WriteLine(first ? "]" : "\n]");
        }

        return failed ? ExitCodes.UserError : ExitCodes.Success;
    }
}
