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
    private readonly Device _device;
    private readonly Tensor[] _pixels; // per slot (capacity, C, H, W) uint8, pinned for CUDA
    private readonly Tensor[] _labels; // per slot (capacity) int64, pinned for CUDA
    private readonly bool[] _copying;  // whether a slot's last asynchronous copy may still be reading it
    private int _next;

    /// <param name="shape">Image shape.</param>
    /// <param name="capacity">Largest batch.</param>
    /// <param name="device">
    /// Where batches go. For CUDA the staging memory is pinned and copied asynchronously, from two slots used in turn:
    /// a slot is written again only after a fence (<c>torch.cuda.synchronize</c>) when its last copy may still be running,
    /// so the buffer is safe whatever the caller reads back between batches. On CPU the conversion copies at once and one
    /// slot is enough.
    /// </param>
    public BatchBuffer(ImageShape shape, int capacity, Device? device = null)
    {
        _shape = shape;
        _device = device ?? CPU;
        int slots = _device.type == DeviceType.CUDA ? 2 : 1;
        _pixels = new Tensor[slots];
        _labels = new Tensor[slots];
        _copying = new bool[slots];
        for (int i = 0; i < slots; i++)
        {
            // Detached: the buffer outlives whatever dispose scope the caller is in.
            _pixels[i] = Stage(empty(new long[] { capacity, shape.Channels, shape.Height, shape.Width }, ScalarType.Byte));
            _labels[i] = Stage(empty(new long[] { capacity }, ScalarType.Int64));
        }

        Capacity = capacity;
    }

    public int Capacity { get; }

    /// <summary>Images as float32 (B, C, H, W) in [0, 1], labels as int64 (B), on the buffer's device. The caller owns both.</summary>
    public (Tensor Images, Tensor Labels) Fill(ImageDataset data, ReadOnlySpan<int> indices)
    {
        int n = indices.Length;
        if (n < 1 || n > Capacity)
        {
            throw new ArgumentException($"A batch of {n} does not fit a buffer of {Capacity}.", nameof(indices));
        }

        int slot = _next;
        _next = (_next + 1) % _pixels.Length;
        if (_copying[slot])
        {
            torch.cuda.synchronize(_device); // the fence: the copy that last read this slot has finished
            _copying[slot] = false;
        }

        int size = _shape.Size;
        var pixels = data.Pixels;
        var labels = data.Labels;
        var pixelTarget = _pixels[slot].bytes; // the tensor's own native memory
        var labelTarget = MemoryMarshal.Cast<byte, long>(_labels[slot].bytes);
        for (int i = 0; i < n; i++)
        {
            int index = indices[i];
            pixels.Slice(index * size, size).CopyTo(pixelTarget.Slice(i * size, size));
            labelTarget[i] = labels[index];
        }

        using var pixelView = _pixels[slot].narrow(0, 0, n);
        using var labelView = _labels[slot].narrow(0, 0, n);
        if (_device.type == DeviceType.CPU)
        {
            return (pixelView.to(ScalarType.Float32).div_(255f), labelView.clone());
        }

        // Copy the uint8 bytes (4x fewer than float) and convert on the device.
        _copying[slot] = true;
        using var onDevice = pixelView.to(_device, non_blocking: true);
        return (onDevice.to(ScalarType.Float32).div_(255f), labelView.to(_device, non_blocking: true));
    }

    private Tensor Stage(Tensor pageable)
    {
        pageable.DetachFromDisposeScope();
        if (_device.type != DeviceType.CUDA)
        {
            return pageable;
        }

        var pinned = pageable.pin_memory().DetachFromDisposeScope();
        pageable.Dispose();
        return pinned;
    }

    public void Dispose()
    {
        if (_copying.Any(pending => pending))
        {
            torch.cuda.synchronize(_device); // a copy may still read the pinned memory about to be freed
        }

        foreach (var tensor in _pixels.Concat(_labels))
        {
            tensor.Dispose();
        }
    }
}
