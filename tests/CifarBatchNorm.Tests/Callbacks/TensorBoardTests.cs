using System.Buffers.Binary;
using System.Text;
using CifarBatchNorm.Callbacks;
using CifarBatchNorm.Data;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Tests.Support;
using CifarBatchNorm.Training;
using Google.Protobuf;
using TorchSharp;

namespace CifarBatchNorm.Tests.Callbacks;

/// <summary>
/// The TensorBoard callback's event files, read back record by record: TFRecord framing with masked CRC-32C, the
/// Event and Summary messages, Keras's train/validation layout and tags, and Unix wall times.
/// </summary>
public sealed class TensorBoardTests
{
    /// <summary>One scalar as read back from an event file.</summary>
    private sealed record Scalar(double WallTime, long Step, string Tag, float Value);

    /// <summary>One event file read back: its version event and its scalars.</summary>
    private sealed record EventFile(string FileVersion, double VersionWallTime, List<Scalar> Scalars);

    [Fact]
    public void Crc32C_matches_the_standard_check_value_and_the_mask_rotates_and_adds()
    {
        // The CRC-32C check value of "123456789" (RFC 3720, iSCSI).
        uint crc = EventFileWriter.Crc32C(Encoding.ASCII.GetBytes("123456789"));
        uint masked = EventFileWriter.MaskedCrc32C(Encoding.ASCII.GetBytes("123456789"));

        Assert.Equal(0xE3069283u, crc);
        Assert.Equal(unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u), masked);
        Assert.Equal(0x00000000u, EventFileWriter.Crc32C([]));
    }

    [Fact]
    public void Fit_writes_train_and_validation_runs_that_keras_tags_overlay_with_unix_wall_times()
    {
        using var temp = new TempDirectory();
        torch.manual_seed(3);
        var (train, test) = SyntheticImages.Generate(new SyntheticOptions { Shape = new ImageShape(8, 8, 1), Classes = 4, TrainCount = 128, TestCount = 32 });
        using var model = new Sequential(train.Shape);
        model.Add(new Flatten());
        model.Add(new Dense(4, activation: ActivationFunction.Softmax));
        model.Compile(new Adam(0.01));
        double before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

        var history = model.Fit(train, batchSize: 32, epochs: 2, verbose: 0, validationData: test,
            callbacks: [new TensorBoard(temp.Combine("tb"), updateFrequency: 2)]);
        double after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

        var trainFile = ReadSingle(temp.Combine("tb", TensorBoard.TrainRun));
        var validationFile = ReadSingle(temp.Combine("tb", TensorBoard.ValidationRun));
        foreach (var file in new[] { trainFile, validationFile })
        {
            Assert.Equal(EventFileWriter.FileVersion, file.FileVersion);
            Assert.InRange(file.VersionWallTime, before - 1, after + 1);   // Unix seconds, not .NET ticks
            Assert.All(file.Scalars, s => Assert.InRange(s.WallTime, before - 1, after + 1));
        }

        Assert.Contains(trainFile.Scalars.Concat(validationFile.Scalars), s => s.WallTime != Math.Floor(s.WallTime));   // fractional seconds

        // epoch_loss in both runs, at Keras's epoch index: TensorBoard overlays them on one chart.
        Assert.Equal(Epochs(history.Loss), Values(trainFile, "epoch_loss"));
        Assert.Equal(Epochs(history.ValLoss), Values(validationFile, "epoch_loss"));
        Assert.Equal(Epochs(history.ValAccuracy), Values(validationFile, "epoch_accuracy"));
        Assert.Equal(Epochs(history.Get("learning_rate")), Values(trainFile, "epoch_learning_rate"));
        Assert.DoesNotContain(validationFile.Scalars, s => s.Tag.StartsWith("epoch_val_", StringComparison.Ordinal) || s.Tag.StartsWith("batch_", StringComparison.Ordinal));
        Assert.DoesNotContain(trainFile.Scalars, s => s.Tag.Contains("val_", StringComparison.Ordinal) || s.Tag.Contains("seconds", StringComparison.Ordinal));

        // 4 steps per epoch, every second step: global steps 2, 4, 6, 8.
        Assert.Equal([2L, 4, 6, 8], trainFile.Scalars.Where(s => s.Tag == "batch_loss").Select(s => s.Step));
    }

    private static List<(long, float)> Epochs(IReadOnlyList<double> values) => values.Select((v, i) => ((long)i, (float)v)).ToList();

    private static List<(long, float)> Values(EventFile file, string tag) =>
        file.Scalars.Where(s => s.Tag == tag).Select(s => (s.Step, s.Value)).ToList();

    private static EventFile ReadSingle(string folder)
    {
        var files = Directory.GetFiles(folder, "events.out.tfevents.*.v2");
        Assert.Single(files);
        return Read(File.ReadAllBytes(files[0]));
    }

    /// <summary>Reads TFRecord framing and the Event / Summary messages, checking every CRC.</summary>
    private static EventFile Read(byte[] bytes)
    {
        string version = "";
        double versionTime = 0;
        var scalars = new List<Scalar>();
        int offset = 0;
        while (offset < bytes.Length)
        {
            var header = bytes.AsSpan(offset, 12);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(header);
            Assert.Equal(EventFileWriter.MaskedCrc32C(header[..8]), BinaryPrimitives.ReadUInt32LittleEndian(header[8..]));
            var data = bytes.AsSpan(offset + 12, (int)length);
            Assert.Equal(EventFileWriter.MaskedCrc32C(data), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 12 + (int)length, 4)));
            offset += 12 + (int)length + 4;

            double wallTime = 0;
            long step = 0;
            byte[]? summary = null;
            var input = new CodedInputStream(data.ToArray());
            for (uint tag; (tag = input.ReadTag()) != 0;)
            {
                switch (WireFormat.GetTagFieldNumber(tag))
                {
                    case EventFileWriter.WallTimeField: wallTime = input.ReadDouble(); break;
                    case EventFileWriter.StepField: step = input.ReadInt64(); break;
                    case EventFileWriter.FileVersionField: version = input.ReadString(); break;
                    case EventFileWriter.SummaryField: summary = input.ReadBytes().ToByteArray(); break;
                    default: input.SkipLastField(); break;
                }
            }

            if (summary is null)
            {
                versionTime = wallTime;
                continue;
            }

            var values = new CodedInputStream(summary);
            for (uint tag; (tag = values.ReadTag()) != 0;)
            {
                Assert.Equal(EventFileWriter.SummaryValueField, WireFormat.GetTagFieldNumber(tag));
                var value = new CodedInputStream(values.ReadBytes().ToByteArray());
                string name = "";
                float simple = float.NaN;
                for (uint field; (field = value.ReadTag()) != 0;)
                {
                    switch (WireFormat.GetTagFieldNumber(field))
                    {
                        case EventFileWriter.ValueTagField: name = value.ReadString(); break;
                        case EventFileWriter.ValueSimpleValueField: simple = value.ReadFloat(); break;
                        default: value.SkipLastField(); break;
                    }
                }

                scalars.Add(new Scalar(wallTime, step, name, simple));
            }
        }

        return new EventFile(version, versionTime, scalars);
    }
}
