using System.Diagnostics;
using System.Text.Json;
using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Interop;
using CifarBatchNorm.Tests.Data;
using CifarBatchNorm.Tests.Support;
using SkiaSharp;
using static TorchSharp.torch;
using static CifarBatchNorm.Tests.Support.InProcessCli;

namespace CifarBatchNorm.Tests.Cli;

/// <summary><c>predict</c> over many files streams them, warns on truncated images and refuses NaN outputs in one line (issue 21).</summary>
public sealed class PredictStreamingTests
{
    [Fact]
    public void A_truncated_png_or_jpeg_is_predicted_with_a_warning_naming_it()
    {
        using var dir = new TempDirectory();
        string archive = Archive(dir, nan: false);
        string png = dir.Combine("cut.png");
        ImageFilesTests.WritePng(png, 64, 64, (x, y) => new SKColor((byte)(x * 4), (byte)(y * 4), (byte)((x * y) % 256)));
        string jpeg = dir.Combine("cut.jpg");
        using (var bitmap = SKBitmap.Decode(png))
        using (var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90))
        {
            File.WriteAllBytes(jpeg, data.ToArray());
        }

        foreach (string file in new[] { png, jpeg })
        {
            byte[] bytes = File.ReadAllBytes(file);
            File.WriteAllBytes(file, bytes[..(bytes.Length / 2)]);
        }

        var (code, output, error) = Run("predict", "--weights", archive, png, jpeg);
        Assert.True(code == 0, error);
        Assert.Contains($"warning: {png} ends before its image does (truncated)", error);
        Assert.Contains($"warning: {jpeg} ends before its image does (truncated)", error);
        Assert.Equal(2, output.TrimEnd().Split('\n').Length);
    }

    [Fact]
    public void Predict_json_with_a_nan_output_says_so_in_one_line_and_exits_1()
    {
        using var dir = new TempDirectory();
        string archive = Archive(dir, nan: true);
        string image = dir.Combine("gray.png");
        ImageFilesTests.WritePng(image, 28, 28, (_, _) => SKColors.Gray);

        var (code, output, error) = Run("predict", "--weights", archive, "--json", image);
        Assert.Equal(1, code);
        Assert.Equal($"error: the model's output for {image} is not a number (NaN or infinite); its weights are damaged or diverged, so there is no prediction.", error.Trim());
        using var json = JsonDocument.Parse(output);
        Assert.Empty(json.RootElement.EnumerateArray());
    }

    [Fact]
    public void Predict_json_over_more_files_than_one_chunk_lists_each_once_in_order()
    {
        using var dir = new TempDirectory();
        string archive = Archive(dir, nan: false);
        string folder = dir.Combine("images");
        Directory.CreateDirectory(folder);
        for (int i = 0; i < 300; i++)
        {
            ImageFilesTests.WritePng(Path.Combine(folder, $"{i:D3}.png"), 4, 4, (_, _) => new SKColor((byte)i, 0, 0));
        }

        var (code, output, error) = Run("predict", "--weights", archive, "--json", folder);
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        string[] files = json.RootElement.EnumerateArray().Select(e => e.GetProperty("file").GetString()!).ToArray();
        Assert.Equal(Enumerable.Range(0, 300).Select(i => Path.Combine(folder, $"{i:D3}.png")), files);
    }

    private static string Archive(TempDirectory dir, bool nan)
    {
        string archive = dir.Combine(nan ? "nan.keras" : "m.keras");
        using var model = ModelPresets.Notebook(new ImageShape(28, 28, 1));
        if (nan)
        {
            using var noGrad = no_grad();
            model.parameters().Last().fill_(float.NaN);
        }

        ModelFiles.Save(model, archive, FashionMnist.ClassNames);
        return archive;
    }
}
