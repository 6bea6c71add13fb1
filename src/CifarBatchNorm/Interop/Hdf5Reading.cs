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
        Hdf5LinkCheck.Require(stream, source);
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

    /// <summary>
    /// Reads a float dataset (float32 or float64 on disk) with its shape, after checking its declared type and size:
    /// any other type is refused (never reinterpreted), and so is a dataset of more than <paramref name="maxElements"/>
    /// values (see <see cref="ModelFileGuard.MaxDatasetValues"/>), before anything is allocated.
    /// </summary>
    public static WeightArray ReadArray(IH5Dataset dataset, string name, string source, long maxElements)
    {
        var type = dataset.Type;
        if (type.Class != H5DataTypeClass.FloatingPoint || type.Size is not (4 or 8))
        {
            string kind = type.Class switch
            {
                H5DataTypeClass.FloatingPoint => $"{type.Size * 8}-bit floats",
                H5DataTypeClass.FixedPoint => $"{type.Size * 8}-bit integers",
                _ => $"{type.Class} values",
            };
            throw new ModelFileException($"{source}: dataset '{name}' holds {kind}, not float32 or float64; weights must be floats, so the file is refused.");
        }

        ulong[] dimensions = dataset.Space.Dimensions;
        long count = 1;
        foreach (ulong d in dimensions)
        {
            if (d > (ulong)maxElements || (d > 0 && count > maxElements / (long)d))
            {
                throw new ModelFileException(
                    $"{source}: dataset '{name}' declares shape {WeightArray.FormatShape(dimensions.Select(x => (long)Math.Min(x, long.MaxValue)).ToArray())}, more values than this model's weights can have ({maxElements:N0}); it is from another architecture or crafted.");
            }

            count *= (long)d;
        }

        long[] shape = dimensions.Select(d => (long)d).ToArray();
        float[] data = type.Size == 8
            ? dataset.Read<double[]>().Select(v => (float)v).ToArray()
            : dataset.Read<float[]>();
        if (data.LongLength != count)
        {
            throw new ModelFileException($"{source}: dataset '{name}' holds {data.LongLength:N0} values for shape {WeightArray.FormatShape(shape)}; it is damaged.");
        }

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
