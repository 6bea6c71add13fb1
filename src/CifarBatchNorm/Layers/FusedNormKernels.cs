using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CifarBatchNorm.Layers;

/// <summary>
/// The loops of the fused ReLU + batch normalization kernels (<see cref="FusedBatchNorm"/>) on float32 spans, in
/// as few passes over memory as the math allows: forward = one pass for the statistics and one that writes the
/// output; backward = one pass for the two gradient sums and one that writes the input gradient. Vectorized with
/// <see cref="Vector512"/> where the CPU has it, else <see cref="Vector256"/>, else scalar; sums are accumulated in
/// double, in a fixed order, so one input always gives the same bits.
/// </summary>
/// <remarks>
/// <para>Two layouts. Interleaved (<c>plane</c> = 1): element <c>i</c> belongs to channel <c>i % channels</c>, as in a
/// channels-last (N, H, W, C) image batch or a (N, C) batch after Dense. The loop then walks the data in periods of
/// lcm(channels, vector width) floats with one accumulator per vector of the period, so every lane always sees the
/// same channel. Planar (<c>plane</c> &gt; 1): contiguous NCHW, each (n, c) plane of <c>plane</c> floats belongs to
/// channel <c>c</c>, and each plane is an interleaved run of one channel.</para>
/// <para>With <c>a = reluBefore ? max(x, 0) : x</c> and per-channel <c>scale = gamma / sqrt(var + eps)</c>,
/// <c>shift = beta - mean * scale</c>, the output is <c>u = a * scale + shift</c>, then <c>max(u, 0)</c> when
/// <c>reluAfter</c>. The backward masks the output gradient with <c>u &gt; 0</c> (reluAfter), sums it and its product
/// with <c>a</c>, and writes <c>dx = scale * dy + k1 * a + k0</c>, masked with <c>x &gt; 0</c> (reluBefore).</para>
/// </remarks>
internal static partial class FusedNormKernels
{
    /// <summary>Periods longer than this many floats (channel counts with a large lcm) run the scalar loop.</summary>
    private const int MaxPeriod = 1024;

    /// <summary>The vector width the loops use: 16 (AVX-512), 8 (AVX2 or NEON-class 256-bit) or 1 (scalar).</summary>
    public static int VectorWidth =>
        Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256.IsHardwareAccelerated ? Vector256<float>.Count : 1;

    /// <summary>Adds each channel's sum of <c>a</c> and of <c>a * a</c> to <paramref name="sum"/> and <paramref name="sumSquares"/>.</summary>
    public static void Statistics(ReadOnlySpan<float> x, int channels, int plane, bool reluBefore, Span<double> sum, Span<double> sumSquares)
    {
        CheckLayout(x.Length, channels, plane);
        if (plane == 1)
        {
            StatisticsRun(x, channels, reluBefore, sum, sumSquares);
            return;
        }

        for (int p = 0; p < x.Length / plane; p++)
        {
            int c = p % channels;
            StatisticsRun(x.Slice(p * plane, plane), 1, reluBefore, sum.Slice(c, 1), sumSquares.Slice(c, 1));
        }
    }

    /// <summary>Writes <c>y = a * scale + shift</c> (then <c>max(y, 0)</c> when <paramref name="reluAfter"/>).</summary>
    public static void Normalize(ReadOnlySpan<float> x, Span<float> y, int channels, int plane, bool reluBefore, bool reluAfter,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> shift)
    {
        CheckLayout(x.Length, channels, plane);
        if (y.Length != x.Length)
        {
            throw new ArgumentException($"Output length {y.Length} differs from the input's {x.Length}.", nameof(y));
        }

        var flags = new Flags(reluBefore, reluAfter);
        if (plane == 1)
        {
            NormalizeRun(x, y, channels, flags, scale, shift);
            return;
        }

        for (int p = 0; p < x.Length / plane; p++)
        {
            int c = p % channels;
            NormalizeRun(x.Slice(p * plane, plane), y.Slice(p * plane, plane), 1, flags, scale.Slice(c, 1), shift.Slice(c, 1));
        }
    }

    /// <summary>
    /// Adds each channel's sum of the masked output gradient <c>g</c> (<c>dy</c>, zero where <c>u &lt;= 0</c> when
    /// <paramref name="reluAfter"/>) to <paramref name="sumGrad"/> and of <c>g * a</c> to <paramref name="sumGradInput"/>.
    /// </summary>
    public static void GradientSums(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int channels, int plane, bool reluBefore, bool reluAfter,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<double> sumGrad, Span<double> sumGradInput)
    {
        CheckLayout(x.Length, channels, plane);
        if (dy.Length != x.Length)
        {
            throw new ArgumentException($"Gradient length {dy.Length} differs from the input's {x.Length}.", nameof(dy));
        }

        var flags = new Flags(reluBefore, reluAfter);
        if (plane == 1)
        {
            GradientSumsRun(dy, x, channels, flags, scale, shift, sumGrad, sumGradInput);
            return;
        }

        for (int p = 0; p < x.Length / plane; p++)
        {
            int c = p % channels;
            GradientSumsRun(dy.Slice(p * plane, plane), x.Slice(p * plane, plane), 1, flags, scale.Slice(c, 1), shift.Slice(c, 1),
                sumGrad.Slice(c, 1), sumGradInput.Slice(c, 1));
        }
    }

    /// <summary>Writes <c>dx = scale * g + k1 * a + k0</c>, zero where <c>x &lt;= 0</c> when <paramref name="reluBefore"/>.</summary>
    public static void InputGradient(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, int channels, int plane, bool reluBefore, bool reluAfter,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, ReadOnlySpan<float> k1, ReadOnlySpan<float> k0)
    {
        CheckLayout(x.Length, channels, plane);
        if (dy.Length != x.Length || dx.Length != x.Length)
        {
            throw new ArgumentException($"Gradient lengths {dy.Length} and {dx.Length} differ from the input's {x.Length}.", nameof(dx));
        }

        var flags = new Flags(reluBefore, reluAfter);
        if (plane == 1)
        {
            InputGradientRun(dy, x, dx, channels, flags, scale, shift, k1, k0);
            return;
        }

        for (int p = 0; p < x.Length / plane; p++)
        {
            int c = p % channels;
            InputGradientRun(dy.Slice(p * plane, plane), x.Slice(p * plane, plane), dx.Slice(p * plane, plane), 1, flags,
                scale.Slice(c, 1), shift.Slice(c, 1), k1.Slice(c, 1), k0.Slice(c, 1));
        }
    }

    private static void CheckLayout(int length, int channels, int plane)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(plane, 1);
        if (length % ((long)channels * plane) != 0)
        {
            throw new ArgumentException($"{length} values are not whole groups of {channels} channels x {plane}.", nameof(length));
        }
    }

    private readonly record struct Flags(bool ReluBefore, bool ReluAfter);

    /// <summary>The period (floats) of the vector loop for <paramref name="channels"/> interleaved channels, or 0 when it runs scalar.</summary>
    private static int Period(int channels, int width)
    {
        if (width == 1)
        {
            return 0;
        }

        int a = channels, b = width;
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        long period = (long)channels / a * width;
        return period <= MaxPeriod ? (int)period : 0;
    }

    /// <summary>The per-lane pattern of a per-channel value over one period: <c>pattern[i] = values[i % channels]</c>.</summary>
    private static void FillPattern(ReadOnlySpan<float> values, int channels, Span<float> pattern)
    {
        for (int i = 0; i < pattern.Length; i++)
        {
            pattern[i] = values[i % channels];
        }
    }

    // ---- the four loops over an interleaved run: vector part (periods), then the scalar tail ----

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StatisticsRun(ReadOnlySpan<float> x, int channels, bool relu, Span<double> sum, Span<double> sumSquares)
    {
        int done = Vector512.IsHardwareAccelerated ? StatisticsVector<Simd512, Vector512<float>, Vector512<double>>(x, channels, relu, sum, sumSquares)
            : Vector256.IsHardwareAccelerated ? StatisticsVector<Simd256, Vector256<float>, Vector256<double>>(x, channels, relu, sum, sumSquares)
            : 0;
        for (int i = done; i < x.Length; i++)
        {
            double a = relu ? Math.Max(x[i], 0f) : x[i];
            sum[i % channels] += a;
            sumSquares[i % channels] += a * a;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NormalizeRun(ReadOnlySpan<float> x, Span<float> y, int channels, Flags flags, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift)
    {
        int done = Vector512.IsHardwareAccelerated ? NormalizeVector<Simd512, Vector512<float>, Vector512<double>>(x, y, channels, flags, scale, shift)
            : Vector256.IsHardwareAccelerated ? NormalizeVector<Simd256, Vector256<float>, Vector256<double>>(x, y, channels, flags, scale, shift)
            : 0;
        for (int i = done; i < x.Length; i++)
        {
            int c = i % channels;
            float a = flags.ReluBefore ? Math.Max(x[i], 0f) : x[i];
            float u = MathF.FusedMultiplyAdd(a, scale[c], shift[c]);
            y[i] = flags.ReluAfter ? Math.Max(u, 0f) : u;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GradientSumsRun(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int channels, Flags flags, ReadOnlySpan<float> scale,
        ReadOnlySpan<float> shift, Span<double> sumGrad, Span<double> sumGradInput)
    {
        int done = Vector512.IsHardwareAccelerated ? GradientSumsVector<Simd512, Vector512<float>, Vector512<double>>(dy, x, channels, flags, scale, shift, sumGrad, sumGradInput)
            : Vector256.IsHardwareAccelerated ? GradientSumsVector<Simd256, Vector256<float>, Vector256<double>>(dy, x, channels, flags, scale, shift, sumGrad, sumGradInput)
            : 0;
        for (int i = done; i < x.Length; i++)
        {
            int c = i % channels;
            float a = flags.ReluBefore ? Math.Max(x[i], 0f) : x[i];
            float g = flags.ReluAfter && !(MathF.FusedMultiplyAdd(a, scale[c], shift[c]) > 0f) ? 0f : dy[i];
            sumGrad[c] += g;
            sumGradInput[c] += (double)g * a;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputGradientRun(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, int channels, Flags flags,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, ReadOnlySpan<float> k1, ReadOnlySpan<float> k0)
    {
        int done = Vector512.IsHardwareAccelerated ? InputGradientVector<Simd512, Vector512<float>, Vector512<double>>(dy, x, dx, channels, flags, scale, shift, k1, k0)
            : Vector256.IsHardwareAccelerated ? InputGradientVector<Simd256, Vector256<float>, Vector256<double>>(dy, x, dx, channels, flags, scale, shift, k1, k0)
            : 0;
        for (int i = done; i < x.Length; i++)
        {
            int c = i % channels;
            float a = flags.ReluBefore ? Math.Max(x[i], 0f) : x[i];
            float g = flags.ReluAfter && !(MathF.FusedMultiplyAdd(a, scale[c], shift[c]) > 0f) ? 0f : dy[i];
            float d = MathF.FusedMultiplyAdd(scale[c], g, MathF.FusedMultiplyAdd(k1[c], a, k0[c]));
            dx[i] = flags.ReluBefore && !(x[i] > 0f) ? 0f : d;
        }
    }

    // ---- vector loops; each returns how many leading floats it handled (a multiple of the period) ----

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int StatisticsVector<S, TF, TD>(ReadOnlySpan<float> x, int channels, bool relu, Span<double> sum, Span<double> sumSquares)
        where S : ISimd<TF, TD> where TF : unmanaged where TD : unmanaged
    {
        int width = S.Width;
        int period = Period(channels, width);
        if (period == 0 || x.Length < period)
        {
            return 0;
        }

        int vectors = period / width;
        ref float source = ref MemoryMarshal.GetReference(x);
        int end = x.Length - x.Length % period;
        int first = 0;
        Span<double> lanes = stackalloc double[width];
        if (vectors <= 2)
        {
            // Short periods (8 or 16 channels): two vectors a step into two sets of accumulators held in registers.
            first = end - end % (2 * width);
            TD sum0 = default, sum1 = default, squares0 = default, squares1 = default;
            TD sum2 = default, sum3 = default, squares2 = default, squares3 = default;
            for (int start = 0; start < first; start += 2 * width)
            {
                var value0 = S.Load(ref source, (nuint)start);
                var value1 = S.Load(ref source, (nuint)(start + width));
                if (relu)
                {
                    value0 = S.Relu(value0);
                    value1 = S.Relu(value1);
                }

                S.Accumulate(value0, ref sum0, ref sum1, ref squares0, ref squares1);
                S.Accumulate(value1, ref sum2, ref sum3, ref squares2, ref squares3);
            }

            AddAccumulator<S, TF, TD>(sum0, sum1, 0, channels, lanes, sum);
            AddAccumulator<S, TF, TD>(squares0, squares1, 0, channels, lanes, sumSquares);
            AddAccumulator<S, TF, TD>(sum2, sum3, width, channels, lanes, sum);
            AddAccumulator<S, TF, TD>(squares2, squares3, width, channels, lanes, sumSquares);
        }

        // The rest (or, for longer periods, everything) one period at a time, one set of accumulators per vector of it.
        Span<TD> acc = stackalloc TD[4 * vectors];                    // per vector: sum lo, sum hi, squares lo, squares hi
        acc.Clear();
        for (int start = first; start < end; start += period)
        {
            for (int v = 0; v < vectors; v++)
            {
                var value = S.Load(ref source, (nuint)(start + v * width));
                if (relu)
                {
                    value = S.Relu(value);
                }

                S.Accumulate(value, ref acc[4 * v], ref acc[4 * v + 1], ref acc[4 * v + 2], ref acc[4 * v + 3]);
            }
        }

        for (int v = 0; v < vectors; v++)
        {
            AddAccumulator<S, TF, TD>(acc[4 * v], acc[4 * v + 1], v * width, channels, lanes, sum);
            AddAccumulator<S, TF, TD>(acc[4 * v + 2], acc[4 * v + 3], v * width, channels, lanes, sumSquares);
        }

        return end;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int NormalizeVector<S, TF, TD>(ReadOnlySpan<float> x, Span<float> y, int channels, Flags flags, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift)
        where S : ISimd<TF, TD> where TF : unmanaged where TD : unmanaged
    {
        int width = S.Width;
        int period = Period(channels, width);
        if (period == 0 || x.Length < period)
        {
            return 0;
        }

        Span<float> scalePattern = stackalloc float[period];
        Span<float> shiftPattern = stackalloc float[period];
        FillPattern(scale, channels, scalePattern);
        FillPattern(shift, channels, shiftPattern);
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float destination = ref MemoryMarshal.GetReference(y);
        ref float scales = ref MemoryMarshal.GetReference(scalePattern);
        ref float shifts = ref MemoryMarshal.GetReference(shiftPattern);
        int end = x.Length - x.Length % period;
        for (int start = 0; start < end; start += period)
        {
            for (int offset = 0; offset < period; offset += width)
            {
                var value = S.Load(ref source, (nuint)(start + offset));
                if (flags.ReluBefore)
                {
                    value = S.Relu(value);
                }

                value = S.Fma(value, S.Load(ref scales, (nuint)offset), S.Load(ref shifts, (nuint)offset));
                if (flags.ReluAfter)
                {
                    value = S.Relu(value);
                }

                S.Store(value, ref destination, (nuint)(start + offset));
            }
        }

        return end;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int GradientSumsVector<S, TF, TD>(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int channels, Flags flags, ReadOnlySpan<float> scale,
        ReadOnlySpan<float> shift, Span<double> sumGrad, Span<double> sumGradInput)
        where S : ISimd<TF, TD> where TF : unmanaged where TD : unmanaged
    {
        int width = S.Width;
        int period = Period(channels, width);
        if (period == 0 || x.Length < period)
        {
            return 0;
        }

        int vectors = period / width;
        Span<float> scalePattern = stackalloc float[2 * period];
        Span<float> shiftPattern = stackalloc float[2 * period];
        FillPattern(scale, channels, scalePattern);
        FillPattern(shift, channels, shiftPattern);
        ref float grads = ref MemoryMarshal.GetReference(dy);
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float scales = ref MemoryMarshal.GetReference(scalePattern);
        ref float shifts = ref MemoryMarshal.GetReference(shiftPattern);
        int end = x.Length - x.Length % period;
        int first = 0;
        Span<double> lanes = stackalloc double[width];
        if (vectors <= 2)
        {
            // Short periods (8 or 16 channels): two vectors a step into two sets of accumulators held in registers.
            first = end - end % (2 * width);
            var scale0 = S.Load(ref scales, 0);
            var scale1 = S.Load(ref scales, (nuint)width);
            var shift0 = S.Load(ref shifts, 0);
            var shift1 = S.Load(ref shifts, (nuint)width);
            TD grad0 = default, grad1 = default, product0 = default, product1 = default;
            TD grad2 = default, grad3 = default, product2 = default, product3 = default;
            for (int start = 0; start < first; start += 2 * width)
            {
                var a0 = S.Load(ref source, (nuint)start);
                var a1 = S.Load(ref source, (nuint)(start + width));
                if (flags.ReluBefore)
                {
                    a0 = S.Relu(a0);
                    a1 = S.Relu(a1);
                }

                var g0 = S.Load(ref grads, (nuint)start);
                var g1 = S.Load(ref grads, (nuint)(start + width));
                if (flags.ReluAfter)
                {
                    g0 = S.KeepWherePositive(g0, S.Fma(a0, scale0, shift0));
                    g1 = S.KeepWherePositive(g1, S.Fma(a1, scale1, shift1));
                }

                S.AccumulateProduct(g0, a0, ref grad0, ref grad1, ref product0, ref product1);
                S.AccumulateProduct(g1, a1, ref grad2, ref grad3, ref product2, ref product3);
            }

            AddAccumulator<S, TF, TD>(grad0, grad1, 0, channels, lanes, sumGrad);
            AddAccumulator<S, TF, TD>(product0, product1, 0, channels, lanes, sumGradInput);
            AddAccumulator<S, TF, TD>(grad2, grad3, width, channels, lanes, sumGrad);
            AddAccumulator<S, TF, TD>(product2, product3, width, channels, lanes, sumGradInput);
        }

        // The rest (or, for longer periods, everything) one period at a time, one set of accumulators per vector of it.
        Span<TD> acc = stackalloc TD[4 * vectors];                    // per vector: sum g lo, hi, sum g*a lo, hi
        acc.Clear();
        for (int start = first; start < end; start += period)
        {
            for (int v = 0; v < vectors; v++)
            {
                int offset = v * width;
                var a = S.Load(ref source, (nuint)(start + offset));
                if (flags.ReluBefore)
                {
                    a = S.Relu(a);
                }

                var g = S.Load(ref grads, (nuint)(start + offset));
                if (flags.ReluAfter)
                {
                    g = S.KeepWherePositive(g, S.Fma(a, S.Load(ref scales, (nuint)offset), S.Load(ref shifts, (nuint)offset)));
                }

                S.AccumulateProduct(g, a, ref acc[4 * v], ref acc[4 * v + 1], ref acc[4 * v + 2], ref acc[4 * v + 3]);
            }
        }

        for (int v = 0; v < vectors; v++)
        {
            AddAccumulator<S, TF, TD>(acc[4 * v], acc[4 * v + 1], v * width, channels, lanes, sumGrad);
            AddAccumulator<S, TF, TD>(acc[4 * v + 2], acc[4 * v + 3], v * width, channels, lanes, sumGradInput);
        }

        return end;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int InputGradientVector<S, TF, TD>(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, int channels, Flags flags,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, ReadOnlySpan<float> k1, ReadOnlySpan<float> k0)
        where S : ISimd<TF, TD> where TF : unmanaged where TD : unmanaged
    {
        int width = S.Width;
        int period = Period(channels, width);
        if (period == 0 || x.Length < period)
        {
            return 0;
        }

        Span<float> patterns = stackalloc float[4 * period];
        FillPattern(scale, channels, patterns[..period]);
        FillPattern(shift, channels, patterns.Slice(period, period));
        FillPattern(k1, channels, patterns.Slice(2 * period, period));
        FillPattern(k0, channels, patterns.Slice(3 * period, period));
        ref float grads = ref MemoryMarshal.GetReference(dy);
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float destination = ref MemoryMarshal.GetReference(dx);
        ref float scales = ref MemoryMarshal.GetReference(patterns);
        ref float shifts = ref Unsafe.Add(ref scales, period);
        ref float k1s = ref Unsafe.Add(ref scales, 2 * period);
        ref float k0s = ref Unsafe.Add(ref scales, 3 * period);
        int end = x.Length - x.Length % period;
        for (int start = 0; start < end; start += period)
        {
            for (int offset = 0; offset < period; offset += width)
            {
                var input = S.Load(ref source, (nuint)(start + offset));
                var a = flags.ReluBefore ? S.Relu(input) : input;
                var sc = S.Load(ref scales, (nuint)offset);
                var g = S.Load(ref grads, (nuint)(start + offset));
                if (flags.ReluAfter)
                {
                    g = S.KeepWherePositive(g, S.Fma(a, sc, S.Load(ref shifts, (nuint)offset)));
                }

                var d = S.Fma(sc, g, S.Fma(S.Load(ref k1s, (nuint)offset), a, S.Load(ref k0s, (nuint)offset)));
                if (flags.ReluBefore)
                {
                    d = S.KeepWherePositive(d, input);
                }

                S.Store(d, ref destination, (nuint)(start + offset));
            }
        }

        return end;
    }

    /// <summary>Adds a widened pair of accumulators, whose lanes start at <paramref name="offset"/> in the period, to their channels.</summary>
    private static void AddAccumulator<S, TF, TD>(TD lo, TD hi, int offset, int channels, Span<double> lanes, Span<double> total)
        where S : ISimd<TF, TD> where TF : unmanaged where TD : unmanaged
    {
        S.ToDoubles(lo, hi, lanes);
        AddLanes(lanes, offset, channels, total);
    }

    /// <summary>Adds the lanes of one accumulator vector, which start at <paramref name="offset"/> in the period, to their channels.</summary>
    private static void AddLanes(ReadOnlySpan<double> lanes, int offset, int channels, Span<double> total)
    {
        for (int j = 0; j < lanes.Length; j++)
        {
            total[(offset + j) % channels] += lanes[j];
        }
    }

    /// <summary>The vector operations the loops need, so each loop is written once for both widths.</summary>
    private interface ISimd<TF, TD> where TF : unmanaged where TD : unmanaged
    {
        static abstract int Width { get; }

        static abstract TF Load(ref float source, nuint offset);

        static abstract void Store(TF value, ref float destination, nuint offset);

        static abstract TF Zero { get; }

        static abstract TF Relu(TF value);

        static abstract TF Fma(TF a, TF b, TF c);

        /// <summary><paramref name="value"/> where <paramref name="condition"/> &gt; 0, else 0.</summary>
        static abstract TF KeepWherePositive(TF value, TF condition);

        /// <summary>The lanes of <paramref name="ifTrue"/> where <paramref name="mask"/> is set (all ones), else those of <paramref name="ifFalse"/>.</summary>
        static abstract TF Select(TF mask, TF ifTrue, TF ifFalse);

        /// <summary>
        /// The mask of the lanes where <paramref name="value"/> takes over a running maximum: greater than
        /// <paramref name="max"/>, or NaN (libtorch's max-pooling rule).
        /// </summary>
        static abstract TF Replaces(TF value, TF max);

        /// <summary>Widens to double and adds the value and its square to the accumulators.</summary>
        static abstract void Accumulate(TF value, ref TD sumLo, ref TD sumHi, ref TD squaresLo, ref TD squaresHi);

        /// <summary>Widens to double and adds <paramref name="g"/> and <c>g * a</c> to the accumulators.</summary>
        static abstract void AccumulateProduct(TF g, TF a, ref TD sumLo, ref TD sumHi, ref TD productLo, ref TD productHi);

        /// <summary>The lanes of a widened pair, in the order of the float lanes they came from.</summary>
        static abstract void ToDoubles(TD lo, TD hi, Span<double> lanes);
    }

    private readonly struct Simd512 : ISimd<Vector512<float>, Vector512<double>>
    {
        public static int Width => Vector512<float>.Count;

        public static Vector512<float> Load(ref float source, nuint offset) => Vector512.LoadUnsafe(ref source, offset);

        public static void Store(Vector512<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);

        public static Vector512<float> Zero => Vector512<float>.Zero;

        // vmaxps(0, x) returns x where x is NaN (the second operand), so NaN passes as with Vector512.Max, in one instruction
        // instead of Max's two (its IEEE fix-up for -0 and NaN); a -0 stays -0, which no later operation tells from 0.
        public static Vector512<float> Relu(Vector512<float> value) =>
            Avx512F.IsSupported ? Avx512F.Max(Vector512<float>.Zero, value) : Vector512.Max(value, Vector512<float>.Zero);

        public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

        public static Vector512<float> KeepWherePositive(Vector512<float> value, Vector512<float> condition) =>
            value & Vector512.GreaterThan(condition, Vector512<float>.Zero);

        public static Vector512<float> Select(Vector512<float> mask, Vector512<float> ifTrue, Vector512<float> ifFalse) =>
            Vector512.ConditionalSelect(mask, ifTrue, ifFalse);

        public static Vector512<float> Replaces(Vector512<float> value, Vector512<float> max) =>
            Vector512.GreaterThan(value, max) | ~Vector512.Equals(value, value);

        public static void Accumulate(Vector512<float> value, ref Vector512<double> sumLo, ref Vector512<double> sumHi, ref Vector512<double> squaresLo, ref Vector512<double> squaresHi)
        {
            var (lo, hi) = Vector512.Widen(value);
            sumLo += lo;
            sumHi += hi;
            squaresLo = Vector512.FusedMultiplyAdd(lo, lo, squaresLo);
            squaresHi = Vector512.FusedMultiplyAdd(hi, hi, squaresHi);
        }

        public static void AccumulateProduct(Vector512<float> g, Vector512<float> a, ref Vector512<double> sumLo, ref Vector512<double> sumHi, ref Vector512<double> productLo, ref Vector512<double> productHi)
        {
            var (gLo, gHi) = Vector512.Widen(g);
            var (aLo, aHi) = Vector512.Widen(a);
            sumLo += gLo;
            sumHi += gHi;
            productLo = Vector512.FusedMultiplyAdd(gLo, aLo, productLo);
            productHi = Vector512.FusedMultiplyAdd(gHi, aHi, productHi);
        }

        public static void ToDoubles(Vector512<double> lo, Vector512<double> hi, Span<double> lanes)
        {
            lo.CopyTo(lanes);
            hi.CopyTo(lanes[Vector512<double>.Count..]);
        }
    }

    private readonly struct Simd256 : ISimd<Vector256<float>, Vector256<double>>
    {
        public static int Width => Vector256<float>.Count;

        public static Vector256<float> Load(ref float source, nuint offset) => Vector256.LoadUnsafe(ref source, offset);

        public static void Store(Vector256<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);

        public static Vector256<float> Zero => Vector256<float>.Zero;

        public static Vector256<float> Relu(Vector256<float> value) =>
            Avx.IsSupported ? Avx.Max(Vector256<float>.Zero, value) : Vector256.Max(value, Vector256<float>.Zero);   // as Simd512.Relu

        public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

        public static Vector256<float> KeepWherePositive(Vector256<float> value, Vector256<float> condition) =>
            value & Vector256.GreaterThan(condition, Vector256<float>.Zero);

        public static Vector256<float> Select(Vector256<float> mask, Vector256<float> ifTrue, Vector256<float> ifFalse) =>
            Vector256.ConditionalSelect(mask, ifTrue, ifFalse);

        public static Vector256<float> Replaces(Vector256<float> value, Vector256<float> max) =>
            Vector256.GreaterThan(value, max) | ~Vector256.Equals(value, value);

        public static void Accumulate(Vector256<float> value, ref Vector256<double> sumLo, ref Vector256<double> sumHi, ref Vector256<double> squaresLo, ref Vector256<double> squaresHi)
        {
            var (lo, hi) = Vector256.Widen(value);
            sumLo += lo;
            sumHi += hi;
            squaresLo = Vector256.FusedMultiplyAdd(lo, lo, squaresLo);
            squaresHi = Vector256.FusedMultiplyAdd(hi, hi, squaresHi);
        }

        public static void AccumulateProduct(Vector256<float> g, Vector256<float> a, ref Vector256<double> sumLo, ref Vector256<double> sumHi, ref Vector256<double> productLo, ref Vector256<double> productHi)
        {
            var (gLo, gHi) = Vector256.Widen(g);
            var (aLo, aHi) = Vector256.Widen(a);
            sumLo += gLo;
            sumHi += gHi;
            productLo = Vector256.FusedMultiplyAdd(gLo, aLo, productLo);
            productHi = Vector256.FusedMultiplyAdd(gHi, aHi, productHi);
        }

        public static void ToDoubles(Vector256<double> lo, Vector256<double> hi, Span<double> lanes)
        {
            lo.CopyTo(lanes);
            hi.CopyTo(lanes[Vector256<double>.Count..]);
        }
    }
}
