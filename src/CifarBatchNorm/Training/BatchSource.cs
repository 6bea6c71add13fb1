using CifarBatchNorm.Data;
using static TorchSharp.torch;

namespace CifarBatchNorm.Training;

/// <summary>Where fit, evaluate and predict get their batches: an <see cref="ImageDataset"/> or in-memory tensors.</summary>
internal abstract class BatchSource : IDisposable
{
    public abstract int Count { get; }

    /// <summary>The class index of every sample, in order (for class-aware batch orders).</summary>
    public abstract ReadOnlySpan<byte> ClassLabels { get; }

    /// <summary>(B, C, H, W) float images and (B) int64 labels; the caller owns both.</summary>
    public abstract (Tensor Images, Tensor Labels) Batch(ReadOnlySpan<int> indices);

    public virtual void Dispose()
    {
    }

    public static BatchSource From(ImageDataset data, int batchSize, Device device) => new DatasetSource(data, batchSize, device, 0, data.Count);

    /// <summary>The images <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> of <paramref name="data"/>, without copying them.</summary>
    public static BatchSource From(ImageDataset data, int batchSize, Device device, int start, int count) =>
        new DatasetSource(data, batchSize, device, start, count);

    public static BatchSource From(Tensor x, Tensor y, Device device) => new TensorSource(x, y, device);

    private sealed class DatasetSource(ImageDataset data, int batchSize, Device device, int start, int count) : BatchSource
    {
        private readonly BatchBuffer _buffer = new(data.Shape, Math.Max(1, Math.Min(batchSize, count)), device);
        private readonly int[] _shifted = start == 0 ? [] : new int[Math.Max(1, Math.Min(batchSize, count))];

        public override int Count => count;

        public override ReadOnlySpan<byte> ClassLabels => data.Labels.Slice(start, count);

        public override (Tensor Images, Tensor Labels) Batch(ReadOnlySpan<int> indices)
        {
            if (start == 0)
            {
                return _buffer.Fill(data, indices);
            }

            var shifted = _shifted.AsSpan(0, indices.Length);
            for (int i = 0; i < indices.Length; i++)
            {
                shifted[i] = start + indices[i];
            }

            return _buffer.Fill(data, shifted);
        }

        public override void Dispose() => _buffer.Dispose();
    }

    private sealed class TensorSource : BatchSource
    {
        private readonly Tensor _x;
        private readonly Tensor _y;
        private readonly Device _device;

        public TensorSource(Tensor x, Tensor y, Device device)
        {
            if (x.shape[0] != y.shape[0])
            {
                throw new ArgumentException($"x has {x.shape[0]} samples but y has {y.shape[0]}; they must match.", nameof(y));
            }

            _x = x;
            // One-hot (Keras to_categorical) labels become class indices.
            _y = y.dim() == 2 ? y.argmax(1).DetachFromDisposeScope() : y.to(ScalarType.Int64).DetachFromDisposeScope();
            _device = device;
        }

        public override int Count => (int)_x.shape[0];

        public override ReadOnlySpan<byte> ClassLabels => _labels ??= _y.data<long>().Select(v => (byte)v).ToArray();

        private byte[]? _labels;

        public override (Tensor Images, Tensor Labels) Batch(ReadOnlySpan<int> indices)
        {
            using var index = tensor(indices.ToArray(), ScalarType.Int64);
            return (_x.index_select(0, index).to(ScalarType.Float32, _device), _y.index_select(0, index).to(_device));
        }

        public override void Dispose() => _y.Dispose();
    }
}
