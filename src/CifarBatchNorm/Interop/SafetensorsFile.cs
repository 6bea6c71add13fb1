using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Interop;

/// <summary>
/// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of JSON
/// (<c>{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}</c>, offsets
/// relative to the end of the header), then the raw little-endian data.
/// </summary>
internal static class SafetensorsFile
{
    private const string MetadataKey = "__metadata__";
    private const long MaxHeader = 100_000_000;

    private static readonly Dictionary<string, int> ElementSizes = new(StringComparer.Ordinal)
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1,
    };

    /// <summary>Writes the tensors in order, the header padded with spaces to a multiple of 8 bytes.</summary>
    public static void Write(Stream stream, IReadOnlyList<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var header = new JsonObject { [MetadataKey] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))) };
        long offset = 0;
        foreach (var tensor in tensors)
        {
            header[tensor.Name] = new JsonObject
            {
                ["dtype"] = tensor.DType,
                ["shape"] = new JsonArray(tensor.Shape.Select(d => (JsonNode?)JsonValue.Create(d)).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + tensor.Bytes.Length),
            };
            offset += tensor.Bytes.Length;
        }

        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        stream.Write(length);
        stream.Write(json);
        stream.Write(Enumerable.Repeat((byte)' ', padded - json.Length).ToArray());
        foreach (var tensor in tensors)
        {
            stream.Write(tensor.Bytes);
        }
    }

    /// <summary>Reads every tensor, checking the header against the file's size.</summary>
    /// <exception cref="ModelFileException">The file is not valid safetensors.</exception>
    public static Dictionary<string, SafetensorsTensor> Read(string path)
    {
        string source = Path.GetFullPath(path);
        byte[] bytes = File.ReadAllBytes(path);
        var (header, dataStart) = ParseHeader(bytes, source);
        var result = new Dictionary<string, SafetensorsTensor>(StringComparer.Ordinal);
        var spans = new List<(long Begin, long End, string Name)>();
        foreach (var (name, node) in header)
        {
            if (name == MetadataKey)
            {
                continue;
            }

            string dtype;
            long[] shape;
            long[] offsets;
            try
            {
                dtype = node!["dtype"]!.GetValue<string>();
                shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
                offsets = node["data_offsets"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            }
            catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException)
            {
                throw new ModelFileException($"{source}: the header entry of '{name}' is not a safetensors tensor description; the file is damaged.", e);
            }

            if (!ElementSizes.TryGetValue(dtype, out int size) || offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0]
                || offsets[1] > bytes.LongLength - dataStart || shape.Any(d => d < 0) || ByteCount(shape, size) != offsets[1] - offsets[0])
            {
                throw new ModelFileException($"{source}: tensor '{name}' ({dtype}, shape {WeightArray.FormatShape(shape)}) has data offsets [{string.Join(", ", offsets)}] that do not fit the file; it is truncated or damaged.");
            }

            spans.Add((offsets[0], offsets[1], name));
        }

        // The format's own rule (safetensors' validate): the tensors tile the data from its start to the file's end.
        long expected = 0;
        foreach (var (begin, end, name) in spans.OrderBy(s => s.Begin).ThenBy(s => s.End))
        {
            if (begin != expected)
            {
                string what = begin < expected ? "overlaps the tensor before it" : $"leaves a gap of {begin - expected:N0} bytes before it";
                throw new ModelFileException($"{source}: tensor '{name}' (data offsets [{begin}, {end}]) {what}; the file is damaged.");
            }

            expected = end;
        }

        if (expected != bytes.LongLength - dataStart)
        {
            throw new ModelFileException($"{source}: the tensors cover {expected:N0} of the {bytes.LongLength - dataStart:N0} data bytes; the file is damaged.");
        }

        foreach (var (begin, end, name) in spans)
        {
            var node = header[name]!;
            result[name] = new SafetensorsTensor(name, node["dtype"]!.GetValue<string>(),
                node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray(), bytes[(int)(dataStart + begin)..(int)(dataStart + end)]);
        }

        return result;
    }

    /// <summary>The bytes of a tensor of this shape, or -1 when the count overflows.</summary>
    private static long ByteCount(long[] shape, int size)
    {
        try
        {
            return checked(shape.Aggregate(1L, (a, d) => a * d) * size);
        }
        catch (OverflowException)
        {
            return -1;
        }
    }

    /// <summary>The <c>__metadata__</c> strings of a file.</summary>
    public static Dictionary<string, string> ReadMetadata(string path)
    {
        ModelFileGuard.Check(path, ModelFileGuard.MaxFileBytes);
        var (header, _) = ParseHeader(File.ReadAllBytes(path), Path.GetFullPath(path));
        return header[MetadataKey] is JsonObject metadata
            ? metadata.ToDictionary(kv => kv.Key, kv => kv.Value?.GetValue<string>() ?? string.Empty, StringComparer.Ordinal)
            : [];
    }

    private static (JsonObject Header, long DataStart) ParseHeader(byte[] bytes, string source)
    {
        if (bytes.Length < 8)
        {
            throw new ModelFileException($"{source} is too short to be a safetensors file ({bytes.Length} bytes).");
        }

        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (length > MaxHeader || (long)length > bytes.LongLength - 8)
        {
            throw new ModelFileException($"{source} is not a safetensors file: its header length ({length}) does not fit the file ({bytes.Length} bytes).");
        }

        try
        {
            return (JsonNode.Parse(bytes.AsSpan(8, (int)length)) as JsonObject
                ?? throw new ModelFileException($"{source} is not a safetensors file: the header is not a JSON object."), 8 + (long)length);
        }
        catch (JsonException e)
        {
            throw new ModelFileException($"{source} is not a safetensors file: the header is not valid JSON ({e.Message.Split('\n')[0]}).", e);
        }
    }
}
