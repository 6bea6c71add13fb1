using System.Globalization;
using CifarBatchNorm.Layers;
using static TorchSharp.torch;

namespace CifarBatchNorm.Training;

/// <summary>Keras 3's <c>model.summary()</c> table and parameter counts.</summary>
internal static class ModelSummary
{
    // Content widths of Keras 3's three columns for a Sequential model.
    private static readonly int[] Widths = [31, 22, 13];

    public static (long Trainable, long NonTrainable) Count(nn.Module module)
    {
        if (module is Sequential model)
        {
            var counts = model.Layers.Select(Count).ToList();
            return (counts.Sum(c => c.Trainable), counts.Sum(c => c.NonTrainable));
        }

        long trainable = 0, frozen = 0;
        foreach (var (name, p) in module.named_parameters())
        {
            if (module is Layer layer && !layer.IsWeight(name))
            {
                continue; // a variable the layer's options switch off (BatchNormalization without center or scale)
            }

            if (p.requires_grad)
            {
                trainable += p.numel();
            }
            else
            {
                frozen += p.numel();
            }
        }

        // Moving statistics are weights to Keras; the integer batch counter TorchSharp keeps is not.
        frozen += module.buffers().Where(b => b.is_floating_point()).Sum(b => b.numel());
        return (trainable, frozen);
    }

    public static void Write(Sequential model, TextWriter writer)
    {
        writer.WriteLine($"Model: \"{model.ModelName}\"");
        writer.WriteLine(Rule('┏', '━', '┳', '┓'));
        WriteRow(writer, '┃', "Layer (type)", "Output Shape", "Param #");
        writer.WriteLine(Rule('┡', '━', '╇', '┩'));
        for (int i = 0; i < model.Layers.Count; i++)
        {
            Layer layer = model.Layers[i];
            var (trainable, frozen) = Count(layer);
            WriteRow(writer, '│', $"{layer.Name} ({layer.KerasType})", layer.OutputShape.ToString(), Number(trainable + frozen));
            if (i < model.Layers.Count - 1)
            {
                writer.WriteLine(Rule('├', '─', '┼', '┤'));
            }
        }

        writer.WriteLine(Rule('└', '─', '┴', '┘'));
        var (t, n) = Count(model);
        // Keras 3 counts a built optimizer's variables in the total and on a line of their own.
        var optimizer = model.Optimizer is { IsBuilt: true } built ? built : null;
        long optimizerCount = optimizer?.VariableCount ?? 0;
        long optimizerBytes = optimizer?.VariableBytes ?? 0;
        writer.WriteLine($" Total params: {Number(t + n + optimizerCount)} ({Bytes(((t + n) * 4) + optimizerBytes)})");
        writer.WriteLine($" Trainable params: {Number(t)} ({Bytes(t * 4)})");
        writer.WriteLine($" Non-trainable params: {Number(n)} ({Bytes(n * 4)})");
        if (optimizer is not null)
        {
            writer.WriteLine($" Optimizer params: {Number(optimizerCount)} ({Bytes(optimizerBytes)})");
        }
    }

    internal static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Keras's size rendering (<c>readable_memory_size</c>): 1,081,928 bytes is "1.03 MB", 2,432 is "2.38 KB", 36 is "36.00 B".</summary>
    internal static string Bytes(long bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return $"{value.ToString("0.00", CultureInfo.InvariantCulture)} {units[unit]}";
    }

    private static string Rule(char left, char line, char join, char right) =>
        left + string.Join(join, Widths.Select(w => new string(line, w + 2))) + right;

    private static void WriteRow(TextWriter writer, char border, string name, string shape, string parameters)
    {
        var nameLines = Wrap(name, Widths[0]);
        var shapeLines = Wrap(shape, Widths[1]);
        int rows = Math.Max(nameLines.Count, shapeLines.Count);
        for (int r = 0; r < rows; r++)
        {
            string a = r < nameLines.Count ? nameLines[r] : string.Empty;
            string b = r < shapeLines.Count ? shapeLines[r] : string.Empty;
            string c = r == 0 ? parameters : string.Empty;
            writer.WriteLine($"{border} {a.PadRight(Widths[0])} {border} {b.PadRight(Widths[1])} {border} {c.PadLeft(Widths[2])} {border}");
        }
    }

    /// <summary>Splits at spaces so each line fits <paramref name="width"/> (as rich does in Keras).</summary>
    private static List<string> Wrap(string text, int width)
    {
        var lines = new List<string>();
        string current = string.Empty;
        foreach (string word in text.Split(' '))
        {
            if (current.Length == 0)
            {
                current = word;
            }
            else if (current.Length + 1 + word.Length <= width)
            {
                current += " " + word;
            }
            else
            {
                lines.Add(current);
                current = word;
            }
        }

        lines.Add(current);
        return lines;
    }
}
