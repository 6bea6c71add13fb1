using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CifarBatchNorm.Layers;

/// <summary>
/// The loops of the fused ReLU + batch normalization followed by a 2x2, stride-2 max pooling
/// (<see cref="FusedBatchNormPool"/>), on a channels-last (N, H, W, C) run of whole output rows (two input rows each):
/// forward writes only each window's maximum; backward recomputes the window and its winner, then sums the gradient
/// of the winners and writes the input gradient of all four positions.
/// </summary>
/// <remarks>
/// <para>Every window value is <c>y = relu?(a * scale + shift)</c> with <c>a = relu?(x)</c>, the same float operations
/// as <see cref="Normalize"/> (so the pooled output is bit for bit the pool of the fused batch norm's). The winner is
/// libtorch's <c>max_pool2d</c>'s: positions are scanned (row 0, col 0), (0, 1), (1, 0), (1, 1), and one takes over when
/// it is greater than the running maximum or NaN, so the first of equal maxima wins. Forward and backward find it
/// with the same code (<see cref="Activate{S, TF, TD}"/>, <see cref="WindowMax{S, TF, TD}"/>), so they agree.</para>
/// <para>A pixel's channels are contiguous: each window is walked in chunks of 16 channels (<see cref="Vector512"/>),
/// then 8 (<see cref="Vector256"/>), then one at a time, so 8 channels run as one <see cref="Vector256"/> per pixel.
/// The sums are per channel, in double, over the windows in order.</para>
/// </remarks>
internal static partial class FusedNormKernels
{
    /// <summary>Writes each 2x2 window's maximum of <c>y = relu?(a * scale + shift)</c> to <paramref name="pooled"/>.</summary>
    /// <param name="x">Whole output rows of a channels-last input: a multiple of 2 x <paramref name="width"/> x <paramref name="channels"/> floats.</param>
    /// <param name="pooled">The pooled rows: a quarter of <paramref name="x"/>'s length, channels-last.</param>
    /// <param name="channels">Channels (C).</param>
    /// <param name="width">Input width (W), even.</param>
    /// <param name="reluBefore">Apply ReLU to the input first.</param>
    /// <param name="reluAfter">Apply ReLU to the normalized value.</param>
    /// <param name="scale">(C) per-channel scale.</param>
    /// <param name="shift">(C) per-channel shift.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void NormalizePool(ReadOnlySpan<float> x, Span<float> pooled, int channels, int width, bool reluBefore, bool reluAfter,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> shift)
    {
        CheckPoolLayout(x.Length, pooled.Length, channels, width);
        var pass = new NormalizePoolPass(x, pooled, new Flags(reluBefore, reluAfter), scale, shift);
        ForEachWindow(x.Length, channels, width, ref pass);
    }

    /// <summary>
    /// Adds each channel's sum of the pooled gradient <c>g</c> at the winners (zero where the winner's <c>y &lt;= 0</c>
    /// when <paramref name="reluAfter"/>) to <paramref name="sumGrad"/>, and of <c>g * a</c> at the winners to
    /// <paramref name="sumGradInput"/>: the sums of <see cref="GradientSums"/> over the unpooled gradient, which is zero
    /// away from the winners.
    /// </summary>
    /// <param name="dy">The pooled output's gradient, channels-last: a quarter of <paramref name="x"/>'s length.</param>
    /// <param name="x">Whole output rows of the channels-last input, as in <see cref="NormalizePool"/>.</param>
    /// <param name="channels">Channels (C).</param>
    /// <param name="width">Input width (W), even.</param>
    /// <param name="reluBefore">Apply ReLU to the input first.</param>
    /// <param name="reluAfter">Apply ReLU to the normalized value.</param>
    /// <param name="scale">(C) per-channel scale of the forward pass.</param>
    /// <param name="shift">(C) per-channel shift of the forward pass.</param>
    /// <param name="sumGrad">(C) receives the sums of <c>g</c>.</param>
    /// <param name="sumGradInput">(C) receives the sums of <c>g * a</c>.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PoolGradientSums(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int channels, int width, bool reluBefore, bool reluAfter,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<double> sumGrad, Span<double> sumGradInput)
    {
        CheckPoolLayout(x.Length, dy.Length, channels, width);
        var chunks = new Chunks(channels);
        // Per chunk: sum g lo, hi, sum g*a lo, hi (as in GradientSumsVector).
        var acc512 = new Vector512<double>[4 * (chunks.End512 / Vector512<float>.Count)];
        var acc256 = new Vector256<double>[4 * ((chunks.End256 - chunks.End512) / Vector256<float>.Count)];
        var pass = new GradientSumsPass(dy, x, new Flags(reluBefore, reluAfter), scale, shift, acc512, acc256, sumGrad, sumGradInput);
        ForEachWindow(x.Length, channels, width, ref pass);

        Span<double> lanes = stackalloc double[Vector512<float>.Count];
        for (int k = 0; k < acc512.Length; k += 4)
        {
            AddChunk<Simd512, Vector512<float>, Vector512<double>>(acc512.AsSpan(k, 4), k / 4 * Vector512<float>.Count, lanes, sumGrad, sumGradInput);
        }

        for (int k = 0; k < acc256.Length; k += 4)
        {
            AddChunk<Simd256, Vector256<float>, Vector256<double>>(acc256.AsSpan(k, 4), chunks.End512 + k / 4 * Vector256<float>.Count, lanes, sumGrad, sumGradInput);
        }
    }

    /// <summary>
    /// Writes <c>dx = scale * g + k1 * a + k0</c> for all four positions of every window, with <c>g</c> the pooled
    /// gradient at the winner (zero where its <c>y &lt;= 0</c> when <paramref name="reluAfter"/>) and zero elsewhere;
    /// <c>dx</c> is zero where <c>x &lt;= 0</c> when <paramref name="reluBefore"/>.
    /// </summary>
    /// <param name="dy">The pooled output's gradient, channels-last: a quarter of <paramref name="x"/>'s length.</param>
    /// <param name="x">Whole output rows of the channels-last input, as in <see cref="NormalizePool"/>.</param>
    /// <param name="dx">The input gradient, channels-last, the length of <paramref name="x"/>.</param>
    /// <param name="channels">Channels (C).</param>
    /// <param name="width">Input width (W), even.</param>
    /// <param name="reluBefore">Apply ReLU to the input first.</param>
    /// <param name="reluAfter">Apply ReLU to the normalized value.</param>
    /// <param name="scale">(C) per-channel scale of the forward pass.</param>
    /// <param name="shift">(C) per-channel shift of the forward pass.</param>
    /// <param name="k1">(C) slope of the input gradient in <c>a</c>.</param>
    /// <param name="k0">(C) constant term of the input gradient.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PoolInputGradient(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, int channels, int width, bool reluBefore, bool reluAfter,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, ReadOnlySpan<float> k1, ReadOnlySpan<float> k0)
    {
        CheckPoolLayout(x.Length, dy.Length, channels, width);
        if (dx.Length != x.Length)
        {
            throw new ArgumentException($"Input gradient length {dx.Length} differs from the input's {x.Length}.", nameof(dx));
        }

        var pass = new InputGradientPass(dy, x, dx, new Flags(reluBefore, reluAfter), scale, shift, k1, k0);
        ForEachWindow(x.Length, channels, width, ref pass);
    }

    /// <summary>
    /// Walks the 2x2 windows of whole output rows of a channels-last input (<paramref name="length"/> floats, rows of
    /// <paramref name="width"/> pixels of <paramref name="channels"/>) in order, each window's channels in chunks of 16
    /// (<see cref="Vector512"/>), then 8 (<see cref="Vector256"/>), then one at a time: the same walk for the three passes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ForEachWindow<TPass>(int length, int channels, int width, ref TPass pass)
        where TPass : struct, IWindowPass, allows ref struct
    {
        var chunks = new Chunks(channels);
        int rowFloats = 2 * width * channels, below = width * channels;
        for (int row = 0, q = 0; row < length; row += rowFloats)
        {
            for (int first = row; first < row + below; first += 2 * channels, q += channels)
            {
                var window = new Window(first, channels, below, q);
                int c = 0;
                for (int k = 0; c < chunks.End512; c += Vector512<float>.Count, k++)
                {
                    pass.Chunk<Simd512, Vector512<float>, Vector512<double>>(window, (nuint)c, k);
                }

                for (int k = 0; c < chunks.End256; c += Vector256<float>.Count, k++)
                {
                    pass.Chunk<Simd256, Vector256<float>, Vector256<double>>(window, (nuint)c, k);
                }

                for (; c < channels; c++)
                {
                    pass.Channel(window, c);
                }
            }
        }
    }

    /// <summary>What one pass over the windows does with a vector chunk of a window's channels, and with one channel.</summary>
    private interface IWindowPass
    {
        /// <summary>The chunk of channels from <paramref name="c"/> on, the <paramref name="k"/>-th chunk of its width in each window.</summary>
        void Chunk<S, TF, TD>(Window window, nuint c, int k)
            where S : ISimd<TF, TD> where TF : unmanaged where TD : unmanaged;

        /// <summary>Channel <paramref name="c"/> alone.</summary>
        void Channel(Window window, int c);
    }

    /// <summary>The forward pass: each window's maximum.</summary>
    private readonly ref struct NormalizePoolPass(ReadOnlySpan<float> x, Span<float> pooled, Flags flags, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift)
        : IWindowPass
    {
        private readonly ReadOnlySpan<float> _x = x;
        private readonly Span<float> _pooled = pooled;
        private readonly ReadOnlySpan<float> _scale = scale;
        private readonly ReadOnlySpan<float> _shift = shift;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Chunk<S, TF, TD>(Window window, nuint c, int k)
            where S : ISimd<TF, TD> where TF : unmanaged where TD : unmanaged =>
            NormalizePoolChunk<S, TF, TD>(ref MemoryMarshal.GetReference(_x), ref MemoryMarshal.GetReference(_pooled), window, c, flags,
                ref MemoryMarshal.GetReference(_scale), ref MemoryMarshal.GetReference(_shift));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Channel(Window window, int c)
        {
            float y0 = Activate(_x[window.P0 + c], flags, _scale[c], _shift[c], out _);
            float y1 = Activate(_x[window.P1 + c], flags, _scale[c], _shift[c], out _);
            float y2 = Activate(_x[window.P2 + c], flags, _scale[c], _shift[c], out _);
            float y3 = Activate(_x[window.P3 + c], flags, _scale[c], _shift[c], out _);
            _ = Winner(y0, y1, y2, y3, out float max);
            _pooled[window.Output + c] = max;
        }
    }

    /// <summary>The backward's first pass: the gradient sums over the winners, vector chunks into their accumulators.</summary>
    private readonly ref struct GradientSumsPass(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Flags flags, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
        Span<Vector512<double>> acc512, Span<Vector256<double>> acc256, Span<double> sumGrad, Span<double> sumGradInput) : IWindowPass
    {
        private readonly ReadOnlySpan<float> _dy = dy;
        private readonly ReadOnlySpan<float> _x = x;
        private readonly ReadOnlySpan<float> _scale = scale;
        private readonly ReadOnlySpan<float> _shift = shift;
        private readonly Span<Vector512<double>> _acc512 = acc512;
        private readonly Span<Vector256<double>> _acc256 = acc256;
        private readonly Span<double> _sumGrad = sumGrad;
        private readonly Span<double> _sumGradInput = sumGradInput;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Chunk<S, TF, TD>(Window window, nuint c, int k)
            where S : ISimd<TF, TD> where TF : unmanaged where TD : unmanaged
        {
            // The chunk's four accumulators, in the array of its width (the branch folds away per width).
            ref TD acc = ref typeof(TD) == typeof(Vector512<double>)
                ? ref Unsafe.As<Vector512<double>, TD>(ref _acc512[4 * k])
                : ref Unsafe.As<Vector256<double>, TD>(ref _acc256[4 * k]);
            PoolGradientSumsChunk<S, TF, TD>(ref MemoryMarshal.GetReference(_dy), ref MemoryMarshal.GetReference(_x), window, c, flags,
                ref MemoryMarshal.GetReference(_scale), ref MemoryMarshal.GetReference(_shift),
                ref acc, ref Unsafe.Add(ref acc, 1), ref Unsafe.Add(ref acc, 2), ref Unsafe.Add(ref acc, 3));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Channel(Window window, int c)
        {
            float y0 = Activate(_x[window.P0 + c], flags, _scale[c], _shift[c], out float a0);
            float y1 = Activate(_x[window.P1 + c], flags, _scale[c], _shift[c], out float a1);
            float y2 = Activate(_x[window.P2 + c], flags, _scale[c], _shift[c], out float a2);
            float y3 = Activate(_x[window.P3 + c], flags, _scale[c], _shift[c], out float a3);
            int winner = Winner(y0, y1, y2, y3, out float max);
            float g = flags.ReluAfter && !(max > 0f) ? 0f : _dy[window.Output + c];
            float a = winner switch { 0 => a0, 1 => a1, 2 => a2, _ => a3 };
            _sumGrad[c] += g;
            _sumGradInput[c] += (double)g * a;
        }
    }

    /// <summary>The backward's second pass: the input gradient of all four positions of every window.</summary>
    private readonly ref struct InputGradientPass(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, Flags flags, ReadOnlySpan<float> scale,
        ReadOnlySpan<float> shift, ReadOnlySpan<float> k1, ReadOnlySpan<float> k0) : IWindowPass
    {
        private readonly ReadOnlySpan<float> _dy = dy;
        private readonly ReadOnlySpan<float> _x = x;
        private readonly Span<float> _dx = dx;
        private readonly ReadOnlySpan<float> _scale = scale;
        private readonly ReadOnlySpan<float> _shift = shift;
        private readonly ReadOnlySpan<float> _k1 = k1;
        private readonly ReadOnlySpan<float> _k0 = k0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Chunk<S, TF, TD>(Window window, nuint c, int k)
            where S : ISimd<TF, TD> where TF : unmanaged where TD : unmanaged =>
            PoolInputGradientChunk<S, TF, TD>(ref MemoryMarshal.GetReference(_dy), ref MemoryMarshal.GetReference(_x), ref MemoryMarshal.GetReference(_dx), window, c,
                flags, ref MemoryMarshal.GetReference(_scale), ref MemoryMarshal.GetReference(_shift), ref MemoryMarshal.GetReference(_k1), ref MemoryMarshal.GetReference(_k0));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Channel(Window window, int c)
        {
            float x0 = _x[window.P0 + c], x1 = _x[window.P1 + c], x2 = _x[window.P2 + c], x3 = _x[window.P3 + c];
            float y0 = Activate(x0, flags, _scale[c], _shift[c], out float a0);
            float y1 = Activate(x1, flags, _scale[c], _shift[c], out float a1);
            float y2 = Activate(x2, flags, _scale[c], _shift[c], out float a2);
            float y3 = Activate(x3, flags, _scale[c], _shift[c], out float a3);
            int winner = Winner(y0, y1, y2, y3, out float max);
            float g = flags.ReluAfter && !(max > 0f) ? 0f : _dy[window.Output + c];
            _dx[window.P0 + c] = InputGradient(x0, a0, winner == 0 ? g : 0f, flags, _scale[c], _k1[c], _k0[c]);
            _dx[window.P1 + c] = InputGradient(x1, a1, winner == 1 ? g : 0f, flags, _scale[c], _k1[c], _k0[c]);
            _dx[window.P2 + c] = InputGradient(x2, a2, winner == 2 ? g : 0f, flags, _scale[c], _k1[c], _k0[c]);
            _dx[window.P3 + c] = InputGradient(x3, a3, winner == 3 ? g : 0f, flags, _scale[c], _k1[c], _k0[c]);
        }
    }

    private static void CheckPoolLayout(int length, int pooledLength, int channels, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 2);
        if (width % 2 != 0)
        {
            throw new ArgumentException($"The 2x2 pooling loops take an even width; got {width}.", nameof(width));
        }

        if (length % (2L * width * channels) != 0 || pooledLength * 4L != length)
        {
            throw new ArgumentException(
                $"{length} input values are not whole output rows of 2 x {width} x {channels}, or the pooled length {pooledLength} is not a quarter of them.", nameof(length));
        }
    }

    /// <summary>Where the vector chunks of a pixel's channels end: 16-channel chunks up to <see cref="End512"/>, 8-channel ones up to <see cref="End256"/>, single channels after.</summary>
    private readonly struct Chunks
    {
        public Chunks(int channels)
        {
            End512 = Vector512.IsHardwareAccelerated ? channels - channels % Vector512<float>.Count : 0;
            End256 = Vector256.IsHardwareAccelerated ? End512 + (channels - End512) / Vector256<float>.Count * Vector256<float>.Count : End512;
        }

        public int End512 { get; }

        public int End256 { get; }
    }

    /// <summary>Offsets (floats) of one window's first channel at its four positions, in scan order, and of its pooled pixel.</summary>
    private readonly struct Window(int first, int right, int below, int output)
    {
        public int P0 { get; } = first;

        public int P1 { get; } = first + right;

        public int P2 { get; } = first + below;

        public int P3 { get; } = first + below + right;

        public int Output { get; } = output;
    }

    // ---- one window position, and the winner: the same float operations as Normalize, shared by forward and backward ----

    /// <summary><c>y = relu?(a * scale + shift)</c> with <c>a = relu?(x)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Activate(float x, Flags flags, float scale, float shift, out float a)
    {
        a = flags.ReluBefore ? Math.Max(x, 0f) : x;
        float u = MathF.FusedMultiplyAdd(a, scale, shift);
        return flags.ReluAfter ? Math.Max(u, 0f) : u;
    }

    /// <summary>The window's winner (0-3, scan order) and its value, by libtorch's rule: greater than the running maximum, or NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Winner(float y0, float y1, float y2, float y3, out float max)
    {
        int winner = 0;
        max = y0;
        if (y1 > max || float.IsNaN(y1))
        {
            (winner, max) = (1, y1);
        }

        if (y2 > max || float.IsNaN(y2))
        {
            (winner, max) = (2, y2);
        }

        if (y3 > max || float.IsNaN(y3))
        {
            (winner, max) = (3, y3);
        }

        return winner;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float InputGradient(float x, float a, float g, Flags flags, float scale, float k1, float k0)
    {
        float d = MathF.FusedMultiplyAdd(scale, g, MathF.FusedMultiplyAdd(k1, a, k0));
        return flags.ReluBefore && !(x > 0f) ? 0f : d;
    }

    /// <summary>The vector <see cref="Activate(float, Flags, float, float, out float)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TF Activate<S, TF, TD>(TF x, Flags flags, TF scale, TF shift, out TF a)
        where S : ISimd<TF, TD> where TF : unmanaged where TD : unmanaged
    {
        a = flags.ReluBefore ? S.Relu(x) : x;
        var u = S.Fma(a, scale, shift);
        return flags.ReluAfter ? S.Relu(u) : u;
    }

    /// <summary>
    /// The vector <see cref="Winner"/>: the window's maximum, and the masks of the lanes where positions 1, 2 and 3
    /// took over (the winner is the last position whose mask is set, position 0 where none is).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TF WindowMax<S, TF, TD>(TF y0, TF y1, TF y2, TF y3, out TF took1, out TF took2, out TF took3)
        where S : ISimd<TF, TD> where TF : unmanaged where TD : unmanaged
    {
        took1 = S.Replaces(y1, y0);
        var max = S.Select(took1, y1, y0);
        took2 = S.Replaces(y2, max);
        max = S.Select(took2, y2, max);
        took3 = S.Replaces(y3, max);
        return S.Select(took3, y3, max);
    }

    // ---- the chunk bodies (one vector of channels of one window) ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void NormalizePoolChunk<S, TF, TD>(ref float source, ref float destination, Window window, nuint c, Flags flags, ref float scales, ref float shifts)
        where S : ISimd<TF, TD> where TF : unmanaged where TD : unmanaged
    {
        var sc = S.Load(ref scales, c);
        var sh = S.Load(ref shifts, c);
        var y0 = Activate<S, TF, TD>(S.Load(ref source, (nuint)window.P0 + c), flags, sc, sh, out _);
        var y1 = Activate<S, TF, TD>(S.Load(ref source, (nuint)window.P1 + c), flags, sc, sh, out _);
        var y2 = Activate<S, TF, TD>(S.Load(ref source, (nuint)window.P2 + c), flags, sc, sh, out _);
        var y3 = Activate<S, TF, TD>(S.Load(ref source, (nuint)window.P3 + c), flags, sc, sh, out _);
        S.Store(WindowMax<S, TF, TD>(y0, y1, y2, y3, out _, out _, out _), ref destination, (nuint)window.Output + c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PoolGradientSumsChunk<S, TF, TD>(ref float grads, ref float source, Window window, nuint c, Flags flags, ref float scales, ref float shifts,
        ref TD sumLo, ref TD sumHi, ref TD productLo, ref TD productHi)
        where S : ISimd<TF, TD> where TF : unmanaged where TD : unmanaged
    {
        var sc = S.Load(ref scales, c);
        var sh = S.Load(ref shifts, c);
        var y0 = Activate<S, TF, TD>(S.Load(ref source, (nuint)window.P0 + c), flags, sc, sh, out var a0);
        var y1 = Activate<S, TF, TD>(S.Load(ref source, (nuint)window.P1 + c), flags, sc, sh, out var a1);
        var y2 = Activate<S, TF, TD>(S.Load(ref source, (nuint)window.P2 + c), flags, sc, sh, out var a2);
        var y3 = Activate<S, TF, TD>(S.Load(ref source, (nuint)window.P3 + c), flags, sc, sh, out var a3);
        var max = WindowMax<S, TF, TD>(y0, y1, y2, y3, out var took1, out var took2, out var took3);
        var g = S.Load(ref grads, (nuint)window.Output + c);
        if (flags.ReluAfter)
        {
            g = S.KeepWherePositive(g, max);
        }

        var a = S.Select(took3, a3, S.Select(took2, a2, S.Select(took1, a1, a0)));   // the winner's a
        S.AccumulateProduct(g, a, ref sumLo, ref sumHi, ref productLo, ref productHi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PoolInputGradientChunk<S, TF, TD>(ref float grads, ref float source, ref float destination, Window window, nuint c, Flags flags,
        ref float scales, ref float shifts, ref float slopes, ref float offsets)
        where S : ISimd<TF, TD> where TF : unmanaged where TD : unmanaged
    {
        var sc = S.Load(ref scales, c);
        var sh = S.Load(ref shifts, c);
        var x0 = S.Load(ref source, (nuint)window.P0 + c);
        var x1 = S.Load(ref source, (nuint)window.P1 + c);
        var x2 = S.Load(ref source, (nuint)window.P2 + c);
        var x3 = S.Load(ref source, (nuint)window.P3 + c);
        var y0 = Activate<S, TF, TD>(x0, flags, sc, sh, out var a0);
        var y1 = Activate<S, TF, TD>(x1, flags, sc, sh, out var a1);
        var y2 = Activate<S, TF, TD>(x2, flags, sc, sh, out var a2);
        var y3 = Activate<S, TF, TD>(x3, flags, sc, sh, out var a3);
        var max = WindowMax<S, TF, TD>(y0, y1, y2, y3, out var took1, out var took2, out var took3);
        var g = S.Load(ref grads, (nuint)window.Output + c);
        if (flags.ReluAfter)
        {
            g = S.KeepWherePositive(g, max);
        }

        // The gradient goes to the winner only: the last position that took over, else position 0.
        var g3 = S.Select(took3, g, S.Zero);
        var rest = S.Select(took3, S.Zero, g);
        var g2 = S.Select(took2, rest, S.Zero);
        rest = S.Select(took2, S.Zero, rest);
        var g1 = S.Select(took1, rest, S.Zero);
        var g0 = S.Select(took1, S.Zero, rest);
        var k1 = S.Load(ref slopes, c);
        var k0 = S.Load(ref offsets, c);
        S.Store(InputGradient<S, TF, TD>(x0, a0, g0, flags, sc, k1, k0), ref destination, (nuint)window.P0 + c);
        S.Store(InputGradient<S, TF, TD>(x1, a1, g1, flags, sc, k1, k0), ref destination, (nuint)window.P1 + c);
        S.Store(InputGradient<S, TF, TD>(x2, a2, g2, flags, sc, k1, k0), ref destination, (nuint)window.P2 + c);
        S.Store(InputGradient<S, TF, TD>(x3, a3, g3, flags, sc, k1, k0), ref destination, (nuint)window.P3 + c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TF InputGradient<S, TF, TD>(TF x, TF a, TF g, Flags flags, TF scale, TF k1, TF k0)
        where S : ISimd<TF, TD> where TF : unmanaged where TD : unmanaged
    {
        var d = S.Fma(scale, g, S.Fma(k1, a, k0));
        return flags.ReluBefore ? S.KeepWherePositive(d, x) : d;
    }

    /// <summary>Adds one chunk's accumulators (sum g lo, hi, sum g*a lo, hi), whose lanes are channels <paramref name="first"/> on, to the channel sums.</summary>
    private static void AddChunk<S, TF, TD>(ReadOnlySpan<TD> acc, int first, Span<double> lanes, Span<double> sumGrad, Span<double> sumGradInput)
        where S : ISimd<TF, TD> where TF : unmanaged where TD : unmanaged
    {
        var chunk = lanes[..S.Width];
        S.ToDoubles(acc[0], acc[1], chunk);
        for (int j = 0; j < chunk.Length; j++)
        {
            sumGrad[first + j] += chunk[j];
        }

        S.ToDoubles(acc[2], acc[3], chunk);
        for (int j = 0; j < chunk.Length; j++)
        {
            sumGradInput[first + j] += chunk[j];
        }
    }
}
