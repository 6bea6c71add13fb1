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

/// <summary><c>predict</c> over a folder, measured on a child process: its peak memory does not grow with the number of files.</summary>
public sealed class PredictMemoryTests
{
    [Fact]
    public void Predict_over_ten_times_more_files_peaks_at_about_the_same_memory()
    {
        using var dir = new TempDirectory();
        string archive = dir.Combine("m.keras");
        using (var model = ModelPresets.Notebook(ImageShape.Cifar10))
        {
            ModelFiles.Save(model, archive, Cifar10.ClassNames);
        }

        long PeakFor(int files)
        {
            string folder = dir.Combine($"images-{files}");
            Directory.CreateDirectory(folder);
            for (int i = 0; i < files; i++)
            {
                ImageFilesTests.WritePng(Path.Combine(folder, $"{i:D5}.png"), 32, 32, (x, y) => new SKColor((byte)(x * 8), (byte)(y * 8), (byte)i));
            }

            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "cifar-bn.dll"), "predict", "--weights", archive, folder })
            {
                start.ArgumentList.Add(arg);
            }

            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            long peak = 0;
            while (!process.HasExited)
            {
                peak = Math.Max(peak, ResidentBytes(process.Id));
                Thread.Sleep(20);
            }

            Assert.True(process.ExitCode == 0, error.Result);
            Assert.Equal(files, output.Result.TrimEnd().Split('\n').Length);
            return peak;
        }

        long small = PeakFor(200);
        long large = PeakFor(2_000);
        // Before streaming every image and every batch's activations stayed alive: ~400 KB per image, 720 MB here.
        Assert.True(large - small < 150_000_000, $"peak RSS {small / 1_000_000} MB for 200 files, {large / 1_000_000} MB for 2,000");
    }

    private static long ResidentBytes(int pid)
    {
        try
        {
            string? line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
