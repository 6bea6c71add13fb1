using System.IO.Compression;
using CifarBatchNorm.Cli;
using CifarBatchNorm.Data;
using CifarBatchNorm.Tests.Support;
using static CifarBatchNorm.Tests.Support.InProcessCli;

namespace CifarBatchNorm.Tests.Cli;

/// <summary>
/// Every kind of bad input gets one line on standard error that names the input and what is expected, a non-zero
/// exit code, no stack trace, and no partial output.
/// </summary>
public sealed class BadInputTests
{
    public static TheoryData<string> DataCases =>
    [
        "cifar-truncated", "cifar-oversized", "cifar-empty", "cifar-label-10", "cifar-missing-file", "cifar-file-is-a-folder", "cifar-fifo",
        "fashion-wrong-magic", "fashion-truncated", "fashion-label-10", "fashion-count-mismatch", "fashion-corrupt-gzip", "fashion-empty",
    ];

    private static void AssertOneLineError(int code, string error, int expectedCode, string fragment)
    {
        Assert.Equal(expectedCode, code);
        Assert.StartsWith("error: ", error);
        Assert.Contains(fragment, error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", error);
    }

    /// <summary>Writes the named broken dataset; returns (dataset option, expected message fragment).</summary>
    private static (string Dataset, string Fragment) Prepare(string scenario, string dir)
    {
        if (scenario.StartsWith("cifar", StringComparison.Ordinal))
        {
            string folder = Path.Combine(dir, Cifar10.FolderName);
            Directory.CreateDirectory(folder);
            var good = new byte[Cifar10.RecordsPerFile * Cifar10.RecordSize];
            foreach (string file in Cifar10.TrainFiles.Append(Cifar10.TestFile))
            {
                File.WriteAllBytes(Path.Combine(folder, file), good);
            }

            string first = Path.Combine(folder, "data_batch_1.bin");
            switch (scenario)
            {
                case "cifar-truncated":
                    File.WriteAllBytes(first, good[..1000]);
                    return ("cifar10", $"{first}: 1,000 bytes, expected 30,730,000");
                case "cifar-oversized":
                    File.WriteAllBytes(first, [.. good, 0]);
                    return ("cifar10", $"{first}: 30,730,001 bytes, expected 30,730,000");
                case "cifar-empty":
                    File.WriteAllBytes(first, []);
                    return ("cifar10", $"{first}: 0 bytes, expected 30,730,000");
                case "cifar-label-10":
                    good[3 * Cifar10.RecordSize] = 10;
                    File.WriteAllBytes(first, good);
                    return ("cifar10", $"{first}: record 3 has label byte 10, expected 0-9");
                case "cifar-missing-file":
                    File.Delete(first);
                    return ("cifar10", $"CIFAR-10 file missing: {first}");
                case "cifar-fifo":
                    // A named pipe would block open() forever: it is refused before it is opened.
                    File.Delete(first);
                    using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [first]))
                    {
                        mkfifo.WaitForExit();
                    }

                    return ("cifar10", $"{first} is a FIFO (named pipe), not a data file");
                default:
                    File.Delete(first);
                    Directory.CreateDirectory(first);
                    return ("cifar10", $"CIFAR-10 file missing: {first}");
            }
        }

        void Idx(string name, int magic, int count, int items, Func<int, byte> value, bool gzip = true, int cut = 0)
        {
            var bytes = new List<byte>();
            void Int(int v) => bytes.AddRange([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);
            Int(magic);
            Int(count);
            if (magic == 0x803)
            {
                Int(28);
                Int(28);
            }

            for (int i = 0; i < items; i++)
            {
                bytes.Add(value(i));
            }

            byte[] raw = bytes.Take(bytes.Count - cut).ToArray();
            string path = Path.Combine(dir, name + (gzip ? ".gz" : string.Empty));
            if (!gzip)
            {
                File.WriteAllBytes(path, raw);
                return;
            }

            using var file = File.Create(path);
            using var zip = new GZipStream(file, CompressionLevel.Fastest);
            zip.Write(raw);
        }

        const int n = 20;
        Idx("train-images-idx3-ubyte", 0x803, n, n * 784, i => (byte)i);
        Idx("train-labels-idx1-ubyte", 0x801, n, n, i => (byte)(i % 10));
        Idx("t10k-images-idx3-ubyte", 0x803, n, n * 784, i => (byte)i);
        Idx("t10k-labels-idx1-ubyte", 0x801, n, n, i => (byte)(i % 10));
        string images = Path.Combine(dir, "train-images-idx3-ubyte.gz");
        string labels = Path.Combine(dir, "train-labels-idx1-ubyte.gz");
        switch (scenario)
        {
            case "fashion-wrong-magic":
                Idx("train-images-idx3-ubyte", 0x801, n, n * 784, i => 0);
                return ("fashion-mnist", $"{images}: not an IDX image file (magic 0x00000801, expected 0x00000803)");
            case "fashion-truncated":
                Idx("train-images-idx3-ubyte", 0x803, n, n * 784, i => 0, cut: 100);
                return ("fashion-mnist", $"{images}: 15,596 bytes, expected 15,696 for 20 images of 28x28");
            case "fashion-label-10":
                Idx("train-labels-idx1-ubyte", 0x801, n, n, i => (byte)(i == 7 ? 10 : 1));
                return ("fashion-mnist", $"{labels}: label 10 at index 7, expected 0-9");
            case "fashion-count-mismatch":
                Idx("train-labels-idx1-ubyte", 0x801, n - 1, n - 1, i => 1);
                return ("fashion-mnist", $"{labels}: 19 labels but {images} has 20 images");
            case "fashion-corrupt-gzip":
                byte[] gz = File.ReadAllBytes(images);
                File.WriteAllBytes(images, gz[..(gz.Length / 2)]);
                return ("fashion-mnist", $"{images}: the gzip data is truncated or corrupted");
            default:
                File.WriteAllBytes(images, []);
                return ("fashion-mnist", $"{images}: not an IDX image file (magic missing, only 0 bytes");
        }
    }

    [Theory]
    [MemberData(nameof(DataCases))]
    public void Broken_data_files_are_named_with_what_is_expected(string scenario)
    {
        using var temp = new TempDirectory();
        string data = temp.Combine("data");
        Directory.CreateDirectory(data);
        var (dataset, fragment) = Prepare(scenario, data);
        string run = temp.Combine("run");

        var (code, output, error) = Run("train", "--dataset", dataset, "--data-dir", data, "--output", run);

        AssertOneLineError(code, error, 1, fragment);
        Assert.False(Directory.Exists(run));
        Assert.DoesNotContain("Epoch", output);
    }

    [Fact]
    public void Auto_selection_does_not_hide_a_corrupted_cifar10_copy()
    {
        using var temp = new TempDirectory();
        var (_, fragment) = Prepare("cifar-label-10", temp.Path);

        var (code, _, error) = Run("train", "--data-dir", temp.Path, "--output", temp.Combine("run"));

        AssertOneLineError(code, error, 1, fragment);
    }

    [Fact]
    public void Weights_from_another_architecture_or_corrupted_are_refused_by_evaluate()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");
        string other = temp.Combine("other");
        Assert.Equal(0, Run("train", "--dataset", "synthetic", "--epochs", "1", "--train-limit", "64", "--test-limit", "32", "--output", run).Code);
        Assert.Equal(0, Run("train", "--dataset", "synthetic", "--epochs", "1", "--train-limit", "64", "--test-limit", "32", "--variant", "none", "--output", other).Code);
        string weights = Path.Combine(run, "model.pt");
        File.Copy(Path.Combine(other, "model.pt"), weights, overwrite: true);

        var (code, _, error) = Run("evaluate", "--model", run);

        AssertOneLineError(code, error, 1, $"{weights} does not hold weights for this model");

        File.WriteAllBytes(weights, [1, 2, 3, 4, 5]);
        var (corruptCode, _, corruptError) = Run("evaluate", "--model", weights);

        AssertOneLineError(corruptCode, corruptError, 1, $"{weights} does not hold weights for this model");
    }

    [Fact]
    public void An_output_folder_that_cannot_be_created_is_named()
    {
        using var temp = new TempDirectory();
        string file = temp.Combine("a-file");
        File.WriteAllText(file, "x");
        string run = Path.Combine(file, "run");

        var (code, _, error) = Run("train", "--dataset", "synthetic", "--output", run);

        AssertOneLineError(code, error, 1, $"--output {run} cannot be written");
    }

    [Theory]
    [InlineData("--seeds", "0", "--seeds 0 is out of range: expected 1 to 100.")]
    [InlineData("--variants", "bn,layernorm", "Unknown variant 'layernorm'")]
    [InlineData("--epochs", "0", "--epochs 0 is out of range")]
    public void Compare_options_are_validated(string option, string value, string message)
    {
        var (code, _, error) = Run("compare", option, value);

        Assert.Equal(2, code);
        Assert.Contains(message, error);
    }

    [Theory]
    [InlineData("--probe-every", "0", "--probe-every 0 is out of range: expected 1 to 1000000.")]
    [InlineData("--probe-batch", "1", "--probe-batch 1 is out of range: expected 2 to 4096.")]
    public void Analyze_options_are_validated(string option, string value, string message)
    {
        var (code, _, error) = Run("analyze", option, value);

        Assert.Equal(2, code);
        Assert.Contains(message, error);
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://example.org/cifar-10-binary.tar.gz")]
    [InlineData("garbage")]
    public void A_url_that_is_not_http_is_a_usage_error_naming_the_flag(string url)
    {
        foreach (string[] args in new[] { new[] { "download", "--url", url }, ["train", "--dataset", "cifar10", "--url", url] })
        {
            var (code, _, error) = Run(args);

            Assert.Equal(2, code);
            Assert.Contains($"--url is '{url}'; expected an absolute http:// or https:// URL.", error);
            Assert.DoesNotContain("DownloadOptions", error);
        }
    }

    [Fact]
    public void A_bad_CIFAR_BATCHNORM_URL_names_the_variable()
    {
        using var temp = new TempDirectory();
        // A separate process: the variable must not reach the other tests of this one.
        var result = DotnetCli.Run(temp.Path, [Path.Combine(AppContext.BaseDirectory, "cifar-bn.dll"), "download", "--data-dir", temp.Path],
            TimeSpan.FromMinutes(2), new Dictionary<string, string> { ["CIFAR_BATCHNORM_URL"] = "garbage" });
        var (code, error) = (result.ExitCode, result.Error);

        AssertOneLineError(code, error, 1, "The environment variable CIFAR_BATCHNORM_URL holds 'garbage', which is not an absolute http:// or https:// URL");
    }

    [Theory]
    [InlineData("4096x4096x3", "--input-shape 4096x4096x3 is outside what the notebook's model can train here: sides of 1 to 512 pixels and 1 to 4 channels (its Dense layer would hold 4,294,967,296 weights, 17.2 GB)")]
    [InlineData("32x32x64", "--input-shape 32x32x64 is outside what the notebook's model can train here")]
    public void An_input_shape_too_large_to_train_is_refused_before_anything_is_allocated(string shape, string message)
    {
        var (code, output, error) = Run("summary", "--input-shape", shape);

        Assert.Equal(2, code);
        Assert.Contains(message, error);
        Assert.Empty(output);
    }

    [Theory]
    [InlineData("compare")]
    [InlineData("analyze")]
    public void Resume_of_a_sweep_takes_no_other_option_and_needs_a_sweep_folder(string command)
    {
        using var temp = new TempDirectory();

        var (withOptions, _, optionsError) = Run(command, "--resume", temp.Path, "--epochs", "3");
        var (notSweep, _, notSweepError) = Run(command, "--resume", temp.Path);

        Assert.Equal(2, withOptions);
        Assert.Contains("--resume continues", optionsError);
        Assert.Contains("--epochs cannot change them", optionsError);
        AssertOneLineError(notSweep, notSweepError, 1, $"{Path.Combine(temp.Path, "sweep.json")} not found");
    }
}
