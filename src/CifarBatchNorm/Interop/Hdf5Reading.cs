using CifarBatchNorm.Training;
using PureHDF;

namespace CifarBatchNorm.Interop;

/// <summary>Opening HDF5 files and reading float arrays with PureHDF, every failure turned into one <see cref="ModelFileException"/>.</summary>
internal static class Hdf5Reading
{
    /// <summary>The 8-byte HDF5 signature (at offset 0 when the file has no user block).</summary>
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Runs <paramref name="read"/> on the opened file; any failure to parse it becomes one clear message.</summary>
    public static T Read<T>(Stream stream, string source, Func<IH5Group, T> read)
    {
        var head = new byte[8];
        int got = stream.ReadAtLeast(head, 8, throwOnEndOfStream: false);
        if (got < 8 || !head.AsSpan().SequenceEqual(Signature))
        {
            throw new ModelFileException($"{source} is not an HDF5 file (it does not start with the HDF5 signature); give a Keras .weights.h5 or .h5 weights file.");
        }

        stream.Position = 0;
        try
        {
            using var file = H5File.Open(stream, leaveOpen: true);
            return read(file);
        }
        catch (ModelFileException)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ModelFileException($"{source} cannot be read as HDF5 ({FirstLine(e.Message)}); it is truncated or damaged.", e);
        }
    }

    /// <summary>Reads a float dataset (float32 or float64 on disk) with its shape.</summary>
    public static WeightArray ReadArray(IH5Dataset dataset, string name)
    {
        long[] shape = dataset.Space.Dimensions.Select(d => (long)d).ToArray();
        float[] data = dataset.Type.Class == H5DataTypeClass.FloatingPoint && dataset.Type.Size == 8
            ? dataset.Read<double[]>().Select(v => (float)v).ToArray()
            : dataset.Read<float[]>();
        return new WeightArray(name, shape, data);
    }

    /// <summary>A string-list attribute (empty when stored as an empty numeric array, as h5py does for <c>[]</c>).</summary>
    public static string[] ReadStrings(IH5Object owner, string name)
    {
        if (!owner.AttributeExists(name))
        {
            // tf-keras splits a long list over name0, name1, ... (save_attributes_to_hdf5_group).
            var parts = new List<string>();
            for (int i = 0; owner.AttributeExists($"{name}{i}"); i++)
            {
                parts.AddRange(ReadStrings(owner, $"{name}{i}"));
            }

            return [.. parts];
        }

        var attribute = owner.Attribute(name);
        if (attribute.Space.Dimensions.Aggregate(1UL, (a, d) => a * d) == 0 || attribute.Type.Class != H5DataTypeClass.String)
        {
            return [];
        }

        return attribute.Space.Rank == 0 ? [attribute.Read<string>()] : attribute.Read<string[]>();
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
