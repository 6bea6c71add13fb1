namespace CifarBatchNorm.Interop;

/// <summary>One tensor of a <c>.safetensors</c> file: name, dtype string (<c>F32</c>, <c>I64</c>), shape and raw little-endian bytes.</summary>
internal sealed record SafetensorsTensor(string Name, string DType, long[] Shape, byte[] Bytes)
{
    /// <summary>A float32 tensor.</summary>
    public static SafetensorsTensor Float32(string name, long[] shape, float[] data)
    {
        var bytes = new byte[data.Length * sizeof(float)];
        for (int i = 0; i < data.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), data[i]);
        }

        return new SafetensorsTensor(name, "F32", shape, bytes);
    }

    /// <summary>A 0-d int64 tensor.</summary>
    public static SafetensorsTensor Int64Scalar(string name, long value)
    {
        var bytes = new byte[sizeof(long)];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return new SafetensorsTensor(name, "I64", [], bytes);
    }

    /// <summary>The values of an F32 tensor.</summary>
    public float[] ToFloats()
    {
        var result = new float[Bytes.Length / sizeof(float)];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(Bytes.AsSpan(i * sizeof(float)));
        }

        return result;
    }
}
