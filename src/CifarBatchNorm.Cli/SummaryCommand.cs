using System.CommandLine;
using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Cli;

/// <summary><c>summary</c>: the Keras-format summary of the notebook's model.</summary>
internal static class SummaryCommand
{
    public static CliCommand Create(CliSession cli)
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
        var command = new CliCommand("summary", "Print the Keras-format summary of the notebook's model.", stopsGracefully: false) { inputShape, variant };
        command.SetAction(result =>
        {
            var shape = ParseShape(result.GetValue(inputShape)!)!.Value;
            using var model = ModelPresets.Notebook(cli.Session, shape, variant: ModelPresets.ParseVariant(result.GetValue(variant)!));
            model.Summary(cli.Stdout);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Parses <c>HxWxC</c>; <c>null</c> when the text is not three positive numbers.</summary>
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
