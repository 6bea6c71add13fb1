using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace CifarBatchNorm.Training;

/// <summary>
/// Adam's update of one parameter in one pass over its memory, in C#: the moments and the parameter are read and
/// written once, where the libtorch path runs seven kernels per parameter (about 150 calls a step for the notebook
/// model). Used under <see cref="ExecutionPolicy.FusedKernels"/> (<see cref="Optimizer.FusedUpdate"/>) for
/// contiguous float32 CPU tensors; the same formula, the moments rounded once per fused multiply-add instead of once per operation.
/// </summary>
internal static class AdamKernel
{
    /// <summary>Whether the parameter, its gradient and its two moments are tensors the kernel takes.</summary>
    public static bool Supports(Tensor parameter, Tensor gradient, Tensor m, Tensor v) =>
        Takes(parameter) && Takes(gradient) && Takes(m) && Takes(v)
        && gradient.numel() == parameter.numel() && m.numel() == parameter.numel() && v.numel() == parameter.numel();

    private static bool Takes(Tensor t) =>
        t.device_type == TorchSharp.DeviceType.CPU && t.dtype == ScalarType.Float32 && t.is_contiguous() && t.numel() * sizeof(float) <= int.MaxValue;

    /// <summary>
    /// <c>m = beta1 m + (1 - beta1) g</c>, <c>v = beta2 v + (1 - beta2) g^2</c>,
    /// <c>p = p + step * m / (sqrt(v) + epsilon)</c>, with <c>step = -alpha</c> (Keras 3's Adam).
    /// </summary>
    /// <remarks>
    /// The factors are rounded to float from their double values, as libtorch receives them (<c>1 - beta2</c> in float
    /// arithmetic would be 1.3e-5 off).
    /// </remarks>
    public static void Update(Tensor parameter, Tensor gradient, Tensor m, Tensor v, double beta1, double beta2, double epsilon, double step) =>
        Update(Floats(parameter), Floats(gradient), Floats(m), Floats(v), (float)beta1, (float)beta2, (float)(1 - beta1), (float)(1 - beta2), (float)epsilon, (float)step);

    private static Span<float> Floats(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);

    /// <summary>The update on spans of equal length (see <see cref="Update(Tensor, Tensor, Tensor, Tensor, double, double, double, double)"/>), with <c>keep1 = 1 - beta1</c>, <c>keep2 = 1 - beta2</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Update(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, float beta1, float beta2, float keep1, float keep2, float epsilon, float step)
    {
        if (g.Length != p.Length || m.Length != p.Length || v.Length != p.Length)
        {
            throw new ArgumentException($"Adam's tensors differ in length: parameter {p.Length}, gradient {g.Length}, moments {m.Length} and {v.Length}.", nameof(g));
        }

        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // Vector<float> (256 bits on AVX2 and AVX-512 machines): the update is bound by memory, not by width.
            var b1 = new Vector<float>(beta1);
            var b2 = new Vector<float>(beta2);
            var k1 = new Vector<float>(keep1);
            var k2 = new Vector<float>(keep2);
            var eps = new Vector<float>(epsilon);
            var stepSize = new Vector<float>(step);
            ref float ps = ref MemoryMarshal.GetReference(p);
            ref float gs = ref MemoryMarshal.GetReference(g);
            ref float ms = ref MemoryMarshal.GetReference(m);
            ref float vs = ref MemoryMarshal.GetReference(v);
            for (; i <= p.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var gi = Vector.LoadUnsafe(ref gs, (nuint)i);
                var mi = Vector.FusedMultiplyAdd(k1, gi, Vector.LoadUnsafe(ref ms, (nuint)i) * b1);
                var vi = Vector.FusedMultiplyAdd(k2 * gi, gi, Vector.LoadUnsafe(ref vs, (nuint)i) * b2);
                var pi = Vector.LoadUnsafe(ref ps, (nuint)i) + (stepSize * mi / (Vector.SquareRoot(vi) + eps));
                mi.StoreUnsafe(ref ms, (nuint)i);
                vi.StoreUnsafe(ref vs, (nuint)i);
                pi.StoreUnsafe(ref ps, (nuint)i);
            }
        }

        for (; i < p.Length; i++)
        {
            float mi = MathF.FusedMultiplyAdd(keep1, g[i], m[i] * beta1);
            float vi = MathF.FusedMultiplyAdd(keep2 * g[i], g[i], v[i] * beta2);
            m[i] = mi;
            v[i] = vi;
            p[i] += step * mi / (MathF.Sqrt(vi) + epsilon);
        }
    }
}
