using System.Globalization;
using System.Numerics;
using Google.Protobuf;

namespace CifarBatchNorm.Callbacks;

/// <summary>
/// Writes a TensorBoard event file (<c>events.out.tfevents.&lt;time&gt;.&lt;host&gt;.&lt;pid&gt;.&lt;n&gt;.v2</c>) the way
/// TensorFlow's writer does: a first event naming the file version, then one event per scalar. Events are
/// protobuf messages (tensorflow/core/util/event.proto, tensorflow/core/framework/summary.proto) written field by
/// field with <see cref="CodedOutputStream"/>; each record is framed as TFRecord: the length (uint64, little
/// endian), the masked CRC-32C of those 8 bytes, the data, and the masked CRC-32C of the data. Every record is
/// flushed as it is written, so nothing is lost when training stops.
/// </summary>
internal sealed class EventFileWriter : IDisposable
{
    /// <summary>The file version TensorBoard expects in the first event.</summary>
    public const string FileVersion = "brain.Event:2";

    // event.proto: Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
    internal const int WallTimeField = 1;
    internal const int StepField = 2;
    internal const int FileVersionField = 3;
    internal const int SummaryField = 5;

    // summary.proto: Summary { repeated Value value = 1; }  Value { string tag = 1; float simple_value = 2; }
    internal const int SummaryValueField = 1;
    internal const int ValueTagField = 1;
    internal const int ValueSimpleValueField = 2;

    private const uint MaskDelta = 0xa282ead8;
    private static int s_fileCounter;
    private readonly FileStream _stream;

    /// <summary>Creates <paramref name="folder"/> if needed and a new event file in it, starting with the version event.</summary>
    public EventFileWriter(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        Directory.CreateDirectory(folder);
        double now = UnixSeconds();
        string name = string.Create(CultureInfo.InvariantCulture,
            $"events.out.tfevents.{(long)now}.{Environment.MachineName}.{Environment.ProcessId}.{Interlocked.Increment(ref s_fileCounter)}.v2");
        FilePath = Path.Combine(folder, name);
        _stream = new FileStream(FilePath, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        WriteRecord(Event(now, step: 0, output =>
        {
            output.WriteTag(FileVersionField, WireFormat.WireType.LengthDelimited);
            output.WriteString(FileVersion);
        }));
    }

    /// <summary>The event file.</summary>
    public string FilePath { get; }

    /// <summary>Appends one scalar (<c>Summary.Value.simple_value</c>) at <paramref name="step"/>, stamped with the current time.</summary>
    public void AddScalar(string tag, float value, long step)
    {
        ArgumentException.ThrowIfNullOrEmpty(tag);
        byte[] summary = Message(output =>
        {
            byte[] entry = Message(v =>
            {
                v.WriteTag(ValueTagField, WireFormat.WireType.LengthDelimited);
                v.WriteString(tag);
                v.WriteTag(ValueSimpleValueField, WireFormat.WireType.Fixed32);
                v.WriteFloat(value);
            });
            output.WriteTag(SummaryValueField, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(entry));
        });
        WriteRecord(Event(UnixSeconds(), step, output =>
        {
            output.WriteTag(SummaryField, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(summary));
        }));
    }

    /// <inheritdoc />
    public void Dispose() => _stream.Dispose();

    /// <summary>CRC-32C (Castagnoli) of <paramref name="data"/>, as TFRecord uses it before masking.</summary>
    internal static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = uint.MaxValue;
        foreach (byte b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }

    /// <summary>TFRecord's masked CRC: rotate right by 15 bits and add a constant.</summary>
    internal static uint MaskedCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = Crc32C(data);
        return unchecked(((crc >> 15) | (crc << 17)) + MaskDelta);
    }

    /// <summary>Seconds since the Unix epoch, with the fraction (TensorBoard's wall_time).</summary>
    private static double UnixSeconds() => (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).TotalSeconds;

    private static byte[] Event(double wallTime, long step, Action<CodedOutputStream> body) => Message(output =>
    {
        output.WriteTag(WallTimeField, WireFormat.WireType.Fixed64);
        output.WriteDouble(wallTime);
        if (step != 0)
        {
            output.WriteTag(StepField, WireFormat.WireType.Varint);
            output.WriteInt64(step);
        }

        body(output);
    });

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer, leaveOpen: true))
        {
            write(output);
        }

        return buffer.ToArray();
    }

    private void WriteRecord(byte[] data)
    {
        Span<byte> header = stackalloc byte[12];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header[8..], MaskedCrc32C(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(footer, MaskedCrc32C(data));
        _stream.Write(header);
        _stream.Write(data);
        _stream.Write(footer);
        _stream.Flush();
    }
}
