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

    public static BatchSource From(ImageDataset data, int batchSize, Device device) => new DatasetSource(data, batchSize, device);

    public static BatchSource From(Tensor x, Tensor y, Device device) => new TensorSource(x, y, device);

    private sealed class DatasetSource(ImageDataset data, int batchSize, Device device) : BatchSource
    {
        private readonly BatchBuffer _buffer = new(data.Shape, Math.Min(batchSize, data.Count), device);

        public override int Count => data.Count;

        public override ReadOnlySpan<byte> ClassLabels => data.Labels;

        public override (Tensor Images, Tensor Labels) Batch(ReadOnlySpan<int> indices) => _buffer.Fill(data, indices);

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
