using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace CifarBatchNorm.Data;

/// <summary>
/// Reusable staging tensors for batches: the selected images' bytes are copied straight into native uint8
/// memory and converted to float in one operation, so assembling a batch allocates no managed memory.
/// </summary>
internal sealed class BatchBuffer : IDisposable
{
    private readonly ImageShape _shape;
    private readonly Tensor _pixels; // (capacity, C, H, W) uint8, pinned for CUDA
    private readonly Tensor _labels; // (capacity) int64, pinned for CUDA

    /// <param name="shape">Image shape.</param>
    /// <param name="capacity">Largest batch.</param>
    /// <param name="device">Where batches go; for CUDA the staging memory is pinned so copies run asynchronously.</param>
    public BatchBuffer(ImageShape shape, int capacity, Device? device = null)
    {
        _shape = shape;
        // Detached: the buffer outlives whatever dispose scope the caller is in.
        _pixels = empty(new long[] { capacity, shape.Channels, shape.Height, shape.Width }, ScalarType.Byte).DetachFromDisposeScope();
        _labels = empty(new long[] { capacity }, ScalarType.Int64).DetachFromDisposeScope();
        if (device is { type: DeviceType.CUDA })
        {
            // Safe to reuse one pinned buffer: every training and evaluation step reads its loss back with item(),
            // which waits for the device, so the previous copy has finished before the buffer is written again.
            _pixels = Pin(_pixels);
            _labels = Pin(_labels);
        }

        Capacity = capacity;
    }

    public int Capacity { get; }

    /// <summary>Images as float32 (B, C, H, W) in [0, 1], labels as int64 (B). The caller owns both.</summary>
    public (Tensor Images, Tensor Labels) Fill(ImageDataset data, ReadOnlySpan<int> indices, Device? device)
    {
        int n = indices.Length;
        if (n < 1 || n > Capacity)
        {
            throw new ArgumentException($"A batch of {n} does not fit a buffer of {Capacity}.", nameof(indices));
        }

        int size = _shape.Size;
        var pixels = data.Pixels;
        var labels = data.Labels;
        var pixelTarget = _pixels.bytes; // the tensor's own native memory
        var labelTarget = MemoryMarshal.Cast<byte, long>(_labels.bytes);
        for (int i = 0; i < n; i++)
        {
            int index = indices[i];
            pixels.Slice(index * size, size).CopyTo(pixelTarget.Slice(i * size, size));
            labelTarget[i] = labels[index];
        }

        var target = device ?? CPU;
        using var pixelView = _pixels.narrow(0, 0, n);
        using var labelView = _labels.narrow(0, 0, n);
        if (target.type == DeviceType.CPU)
        {
            return (pixelView.to(ScalarType.Float32).div_(255f), labelView.clone());
        }

        // Copy the uint8 bytes (4x fewer than float) and convert on the device.
        using var onDevice = pixelView.to(target, non_blocking: true);
        return (onDevice.to(ScalarType.Float32).div_(255f), labelView.to(target, non_blocking: true));
    }

    private static Tensor Pin(Tensor pageable)
    {
        var pinned = pageable.pin_memory().DetachFromDisposeScope();
        pageable.Dispose();
        return pinned;
    }

    public void Dispose()
    {
        _pixels.Dispose();
        _labels.Dispose();
    }
}
