using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using CifarBatchNorm.Interop;
using CifarBatchNorm.Tests.Support;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Tests.Interop;

/// <summary>
/// Model files built to crash, hang or exhaust the reader (the adversarial cases of issue 21), each written here: HDF5
/// links with h5py, FIFOs with mkfifo, zips and safetensors by hand. Each must be one line naming the file, fast.
/// </summary>
public sealed class HostileModelFileTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [SkippableTheory]
    [InlineData("g = f['layers']; del g['conv2d']; g['conv2d'] = h5py.SoftLink('/layers/conv2d')", "'layers/conv2d' is a soft link (to '/layers/conv2d')")]
    [InlineData("g = f['layers']; del g['conv2d']; del g['dense']; g['conv2d'] = h5py.SoftLink('/layers/dense'); g['dense'] = h5py.SoftLink('/layers/conv2d')", "is a soft link")]
    [InlineData("g = f['layers']; del g['conv2d']; g['conv2d'] = h5py.ExternalLink(sys.argv[1], '/layers/conv2d')", "'layers/conv2d' is an external link")]
    [InlineData("g = f['layers/conv2d/vars']; del g['0']; g['0'] = h5py.SoftLink('/layers/conv2d/vars/0')", "'layers/conv2d/vars/0' is a soft link")]
    public void Keras3_weights_with_link_cycles_or_external_links_are_one_line(string edit, string fragment)
    {
        using var dir = new TempDirectory();
        string path = Edited(dir, "tiny-bn.weights.h5", "model.weights.h5", edit);
        using var model = InteropFixtures.TinyModel();

        var e = Refused(() => model.LoadWeights(path));
        Assert.True(e.Message.Contains(fragment, StringComparison.Ordinal), e.Message);
        Assert.True(e.Message.Contains(Path.GetFullPath(path), StringComparison.Ordinal), e.Message);
    }

    [SkippableFact]
    public void A_tf_keras_2_h5_whose_kernel_links_to_itself_is_one_line()
    {
        using var dir = new TempDirectory();
        string path = Edited(dir, "tiny-bn-keras2.h5", "model.h5",
            "g = f['model_weights/conv2d_3/conv2d_3']; del g['kernel:0']; g['kernel:0'] = h5py.SoftLink('/model_weights/conv2d_3/conv2d_3/kernel:0')");
        using var model = InteropFixtures.TinyModel();

        var e = Refused(() => model.LoadWeights(path));
        Assert.True(e.Message.Contains("'model_weights/conv2d_3/conv2d_3/kernel:0' is a soft link", StringComparison.Ordinal), e.Message);
    }

    [SkippableFact]
    public void An_integer_dataset_is_refused_not_reinterpreted_as_floats()
    {
        using var dir = new TempDirectory();
        string path = Edited(dir, "tiny-bn.weights.h5", "model.weights.h5",
            "v = f['layers/dense_1/vars']; del v['1']; v.create_dataset('1', data=np.full(3, 1065353216, dtype='int32'))");
        using var model = InteropFixtures.TinyModel();

        var e = Refused(() => model.LoadWeights(path));
        Assert.True(e.Message.Contains("dataset '1' holds 32-bit integers, not float32 or float64", StringComparison.Ordinal), e.Message);
    }

    [SkippableFact]
    public void A_small_file_declaring_a_billion_floats_is_refused_before_reading()
    {
        using var dir = new TempDirectory();
        string path = Edited(dir, "tiny-bn.weights.h5", "model.weights.h5",
            "v = f['layers/dense_1/vars']; del v['0']; v.create_dataset('0', shape=(10**9,), dtype='float32', chunks=(1024,), compression='gzip', fillvalue=1.0)");
        Assert.True(new FileInfo(path).Length < 1_000_000);
        using var model = InteropFixtures.TinyModel();

        long before = Process.GetCurrentProcess().WorkingSet64;
        var e = Refused(() => model.LoadWeights(path));
        Assert.True(e.Message.Contains("dataset '0' declares shape (1000000000), more values than this model's weights can have", StringComparison.Ordinal), e.Message);
        Assert.True(Process.GetCurrentProcess().WorkingSet64 - before < 500_000_000);
    }

    [Theory]
    [InlineData("model.pt")]
    [InlineData("model.weights.h5")]
    [InlineData("model.h5")]
    [InlineData("model.safetensors")]
    [InlineData("model.keras")]
    public void A_fifo_named_as_a_model_file_is_refused_without_opening_it(string name)
    {
        using var dir = new TempDirectory();
        string fifo = dir.Combine(name);
        using (var mkfifo = Process.Start("mkfifo", [fifo]))
        {
            mkfifo.WaitForExit();
        }

        using var model = InteropFixtures.TinyModel();
        var e = Refused(() => model.LoadWeights(fifo));
        Assert.True(e.Message.Contains("is a FIFO (named pipe), not a model file", StringComparison.Ordinal), e.Message);
        if (name.EndsWith(".keras", StringComparison.Ordinal))
        {
            Assert.Contains("FIFO", Refused(() => ModelFiles.Load(fifo).Dispose()).Message);
        }
    }

    [Fact]
    public void Dev_zero_named_safetensors_is_refused_as_a_device()
    {
        using var dir = new TempDirectory();
        string link = dir.Combine("zero.safetensors");
        File.CreateSymbolicLink(link, "/dev/zero");
        using var model = InteropFixtures.TinyModel();

        var e = Refused(() => model.LoadWeights(link));
        Assert.True(e.Message.Contains("is a character device, not a model file", StringComparison.Ordinal), e.Message);
    }

    [Fact]
    public void A_3_GB_safetensors_file_is_refused_naming_it_without_reading_it()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("huge.safetensors");
        using (var stream = File.Create(path))
        {
            stream.SetLength(3L << 30); // sparse: costs no disk
        }

        using var model = InteropFixtures.TinyModel();
        var e = Refused(() => model.LoadWeights(path));
        Assert.True(e.Message.Contains($"{Path.GetFullPath(path)}: 3,221,225,472 bytes, more than a model file of this size can be", StringComparison.Ordinal), e.Message);
    }

    [Fact]
    public void Overlapping_safetensors_offsets_are_refused()
    {
        using var dir = new TempDirectory();
        using var model = InteropFixtures.TinyModel();
        string good = dir.Combine("good.safetensors");
        model.SaveWeights(good);
        string bad = dir.Combine("bad.safetensors");
        RewriteSafetensorsHeader(good, bad, header =>
        {
            // The second tensor starts inside the first: both read the same bytes.
            var second = header.Where(kv => kv.Key != "__metadata__").OrderBy(kv => kv.Value!["data_offsets"]![0]!.GetValue<long>()).ElementAt(1).Value!;
            var offsets = second["data_offsets"]!.AsArray();
            second["data_offsets"] = new JsonArray(offsets[0]!.GetValue<long>() - 4, offsets[1]!.GetValue<long>() - 4);
        });

        var e = Refused(() => model.LoadWeights(bad));
        Assert.True(e.Message.Contains("overlaps the tensor before it", StringComparison.Ordinal), e.Message);
    }

    [Fact]
    public void A_keras_zip_bomb_in_config_or_weights_is_refused_before_inflating()
    {
        using var dir = new TempDirectory();
        using var model = InteropFixtures.TinyModel();
        string good = dir.Combine("good.keras");
        model.Save(good);
        foreach (string member in new[] { "config.json", "model.weights.h5" })
        {
            string bomb = dir.Combine($"bomb-{member}.keras");
            File.Copy(good, bomb);
            using (var zip = ZipFile.Open(bomb, ZipArchiveMode.Update))
            {
                zip.GetEntry(member)!.Delete();
                using var stream = zip.CreateEntry(member, CompressionLevel.SmallestSize).Open();
                stream.Write(new byte[64 << 20]); // 64 MB of zeros: about 64 KB compressed
            }

            Assert.True(new FileInfo(bomb).Length < 1_000_000);
            long before = Process.GetCurrentProcess().WorkingSet64;
            var e = Refused(() => ModelFiles.Load(bomb).Dispose());
            Assert.True(e.Message.Contains($"the member {member}", StringComparison.Ordinal), e.Message);
            Assert.True(Process.GetCurrentProcess().WorkingSet64 - before < 48_000_000, "the member was inflated");
        }
    }

    [Fact]
    public void A_keras_member_that_declares_less_than_it_holds_is_read_only_to_its_declared_size()
    {
        using var dir = new TempDirectory();
        using var model = InteropFixtures.TinyModel();
        string path = dir.Combine("lying.keras");
        model.Save(path);
        byte[] bytes = File.ReadAllBytes(path);
        // The central directory's uncompressed size of config.json (offset 24 of its record) claims 10 bytes.
        int record = IndexOf(bytes, "PK\u0001\u0002"u8.ToArray(), "config.json"u8.ToArray());
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(record + 24), 10);
        File.WriteAllBytes(path, bytes);

        // Only the declared 10 bytes are read; the member (stored, as Keras stores them) holds more, so the archive is damaged.
        var e = Refused(() => ModelFiles.Load(path).Dispose());
        Assert.True(e.Message.Contains("the member config.json does not inflate to the 10 bytes it declares; the archive is damaged", StringComparison.Ordinal), e.Message);
    }

    [Theory]
    [InlineData("""{"units": 1000000000}""", "would output 1,000,000,000 values per image")]
    [InlineData("""{"units": 200000}""", "more than the 100,000,000 (400 MB) a model file may describe")]
    [InlineData("""{"input": [4096, 4096, 3]}""", "input shape is out of range: ImageShape 4096x4096x3 is outside")]
    [InlineData("""{"input": [100000, 100000, 3]}""", "input shape is out of range")]
    public void A_keras_config_beyond_the_command_line_bounds_is_refused_before_building(string change, string fragment)
    {
        using var dir = new TempDirectory();
        var edit = JsonNode.Parse(change)!.AsObject();
        int units = edit["units"]?.GetValue<int>() ?? 3;
        var input = edit["input"]?.AsArray() ?? new JsonArray(32, 32, 3);
        var config = new JsonObject
        {
            ["module"] = "keras",
            ["class_name"] = "Sequential",
            ["config"] = new JsonObject
            {
                ["name"] = "s",
                ["layers"] = new JsonArray(
                    new JsonObject { ["class_name"] = "InputLayer", ["config"] = new JsonObject { ["batch_shape"] = new JsonArray([null, .. input.Select(d => d!.DeepClone())]) } },
                    new JsonObject { ["class_name"] = "Flatten", ["config"] = new JsonObject { ["name"] = "flatten" } },
                    new JsonObject { ["class_name"] = "Dense", ["config"] = new JsonObject { ["name"] = "dense", ["units"] = units } }),
            },
        };
        string path = dir.Combine("big.keras");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using var writer = new StreamWriter(zip.CreateEntry("config.json").Open());
            writer.Write(config.ToJsonString());
        }

        long before = Process.GetCurrentProcess().WorkingSet64;
        var e = Refused(() => ModelFiles.Load(path).Dispose());
        Assert.True(e.Message.Contains(fragment, StringComparison.Ordinal), e.Message);
        Assert.True(Process.GetCurrentProcess().WorkingSet64 - before < 300_000_000);
    }

    [Fact]
    public void Class_names_that_do_not_match_the_outputs_are_refused()
    {
        using var dir = new TempDirectory();
        using var model = InteropFixtures.TinyModel();
        string path = dir.Combine("named.keras");
        ModelFiles.Save(model, path, ["cat", "dog"]);

        var e = Refused(() => CifarBatchNorm.Experiments.TrainedModel.Open(TestSession.Start(), path).Dispose());
        Assert.True(e.Message.Contains("records 2 class names for a model with 3 outputs", StringComparison.Ordinal), e.Message);
    }

    /// <summary>Runs <paramref name="load"/> with a deadline (a hang fails the test) and returns its one-line error.</summary>
    private static ModelFileException Refused(Action load)
    {
        var task = Task.Run(() => Assert.Throws<ModelFileException>(load));
        Assert.True(task.Wait(Patience), $"the load did not return within {Patience.TotalSeconds} s");
        var e = task.Result;
        Assert.Single(e.Message.Split('\n'));
        return e;
    }

    /// <summary>A copy of a fixture edited by an h5py statement (<c>f</c> the open file, <c>sys.argv[1]</c> its path).</summary>
    private static string Edited(TempDirectory dir, string fixture, string name, string edit)
    {
        Python.Require("h5py", "numpy");
        string path = dir.Combine(name);
        File.Copy(InteropFixtures.Path(fixture), path);
        var (code, _, error) = Python.Run($"import sys, h5py, numpy as np\nwith h5py.File(sys.argv[1], 'r+') as f:\n    {edit}\n", path);
        Assert.True(code == 0, error);
        return path;
    }

    private static void RewriteSafetensorsHeader(string from, string to, Action<JsonObject> edit)
    {
        byte[] bytes = File.ReadAllBytes(from);
        int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = JsonNode.Parse(bytes.AsSpan(8, length))!.AsObject();
        edit(header);
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        using var stream = File.Create(to);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)json.Length);
        stream.Write(prefix);
        stream.Write(json);
        stream.Write(bytes.AsSpan(8 + length));
    }

    private static int IndexOf(byte[] bytes, byte[] signature, byte[] name)
    {
        for (int i = 0; i + 46 + name.Length <= bytes.Length; i++)
        {
            if (bytes.AsSpan(i, 4).SequenceEqual(signature) && bytes.AsSpan(i + 46, name.Length).SequenceEqual(name))
            {
                return i;
            }
        }

        throw new InvalidOperationException("no central directory record for the member");
    }
}
