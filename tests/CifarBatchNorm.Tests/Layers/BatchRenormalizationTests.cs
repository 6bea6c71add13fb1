using CifarBatchNorm.Layers;
using CifarBatchNorm.Tests.Support;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Layers;

public sealed class BatchRenormalizationTests
{
    private const double Epsilon = 1e-3;
    private static readonly LayerShape Image = new(8, 8, 4); // tensors (N, 4, 8, 8)
    private static readonly LayerShape Flat = new(6);        // tensors (N, 6)

    [Theory]
    [InlineData(4)]
    [InlineData(2)]
    public void Training_with_rmax_1_and_dmax_0_matches_batch_norm_output_and_gradients(int rank)
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var shape = ShapeOf(rank);
        using var layer = Built(shape, RenormClipping.Fixed(1, 0));
        using var bn = Oracle(shape);
        RandomAffine(layer, bn);
        var x = randn(shape.TorchShape(5)).mul(2).add(0.5);
        var upstream = randn(shape.TorchShape(5));
        var xLayer = x.clone().requires_grad_();
        var xBn = x.clone().requires_grad_();

        var yLayer = layer.call(xLayer);
        var yBn = bn.call(xBn);
        yLayer.mul(upstream).sum().backward();
        yBn.mul(upstream).sum().backward();

        AssertClose(yBn, yLayer, 1e-5);
        AssertClose(xBn.grad!, xLayer.grad!, 1e-5);
        AssertClose(bn.weight.grad!, layer.Gamma.grad!, 1e-5);
        AssertClose(bn.bias!.grad!, layer.Beta.grad!, 1e-5);
        AssertClose(bn.running_mean!, layer.MovingMean, 1e-6);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(2)]
    public void Inference_is_batch_norm_with_the_moving_statistics(int rank)
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var shape = ShapeOf(rank);
        using var layer = Built(shape, RenormClipping.Fixed(2, 1), momentum: 0.5);
        using var bn = Oracle(shape);
        RandomAffine(layer, bn);
        for (int i = 0; i < 2; i++)
        {
            layer.call(randn(shape.TorchShape(4)).mul(3).add(1));
        }

        using (no_grad())
        {
            bn.running_mean!.copy_(layer.MovingMean);
            bn.running_var!.copy_(layer.MovingVariance);
        }

        layer.eval();
        bn.eval();
        var x = randn(shape.TorchShape(3));

        AssertClose(bn.call(x), layer.call(x), 1e-5);
        Assert.Equal(2, layer.Steps);
    }

    [Theory]
    [InlineData(4, 1.5, 0.5)]
    [InlineData(2, 1.5, 0.5)]
    [InlineData(2, double.PositiveInfinity, double.PositiveInfinity)]
    public void Training_output_uses_r_and_d_clipped_from_the_renorm_statistics(int rank, double rmax, double dmax)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var shape = ShapeOf(rank);
        using var layer = Built(shape, RenormClipping.Fixed(rmax, dmax)).to(ScalarType.Float64);
        var x = randn(shape.TorchShape(4), ScalarType.Float64).mul(1.5).add(0.3);
        var stats = SetState(layer, gamma: [1.5, -0.5, 2, 0.8, 1, 1.2], beta: [0.1, 0.2, -0.3, 0, 0.5, -1],
            renormMean: [5, -5, 0.1, 0.4, -0.2, 0], renormStddev: [0.05, 100, 1.2, 0, 0.9, 1]);

        var y = layer.call(x);

        var expected = Reference(Rows(x), stats, rmax, 1 / rmax, dmax, out var rawR, out var rawD);
        AssertClose(expected, Rows(y), 1e-12);
        if (double.IsFinite(rmax))
        {
            // The chosen statistics must push r past both bounds and d past its bound, or nothing was clipped.
            Assert.Contains(rawR, r => r > rmax);
            Assert.Contains(rawR, r => r < 1 / rmax);
            Assert.Contains(rawD, d => Math.Abs(d) > dmax);
        }
    }

    [Fact]
    public void Gradients_match_finite_differences_with_r_and_d_held_constant()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        using var layer = Built(new LayerShape(3), RenormClipping.Fixed(1.2, 0.3)).to(ScalarType.Float64);
        var x = randn(5, 3, ScalarType.Float64).mul(1.3).add(0.2).requires_grad_();
        double[,] upstream = Rows(randn(5, 3, ScalarType.Float64));
        var stats = SetState(layer, gamma: [1.3, -0.7, 0.9], beta: [0.2, 0, -0.4],
            renormMean: [0.1, 2, -0.3], renormStddev: [1.1, 0.2, 0.8]);
        double[,] x0 = Rows(x);
        Reference(x0, stats, 1.2, 1 / 1.2, 0.3, out var r, out var d);
        var rFixed = r.Select(v => Math.Clamp(v, 1 / 1.2, 1.2)).ToArray();
        var dFixed = d.Select(v => Math.Clamp(v, -0.3, 0.3)).ToArray();

        layer.call(x).mul(tensor(upstream)).sum().backward();

        double Loss(double[,] xs, double[] gamma) => Weighted(FormulaWithConstants(xs, gamma, stats.Beta, rFixed, dFixed), upstream);
        const double h = 1e-6;
        var inputGrad = new double[5, 3];
        for (int i = 0; i < 5; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                var plus = (double[,])x0.Clone();
                var minus = (double[,])x0.Clone();
                plus[i, j] += h;
                minus[i, j] -= h;
                inputGrad[i, j] = (Loss(plus, stats.Gamma) - Loss(minus, stats.Gamma)) / (2 * h);
            }
        }

        var gammaGrad = new double[1, 3];
        for (int j = 0; j < 3; j++)
        {
            var plus = (double[])stats.Gamma.Clone();
            var minus = (double[])stats.Gamma.Clone();
            plus[j] += h;
            minus[j] -= h;
            gammaGrad[0, j] = (Loss(x0, plus) - Loss(x0, minus)) / (2 * h);
        }

        AssertClose(inputGrad, Rows(x.grad!), 1e-7);
        AssertClose(gammaGrad, Rows(layer.Gamma.grad!.unsqueeze(0)), 1e-7);
    }

    [Fact]
    public void Moving_and_renorm_statistics_follow_their_update_rules_over_two_steps()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        using var layer = Built(new LayerShape(3), RenormClipping.Fixed(2, 1), momentum: 0.9, renormMomentum: 0.8);
        var batches = new[] { randn(4, 3).mul(2).add(1), randn(4, 3).sub(0.5) };
        double[] movingMean = [0, 0, 0], movingStddev = [1, 1, 1], renormMean = [0, 0, 0], renormStddev = [1, 1, 1];

        foreach (var batch in batches)
        {
            layer.call(batch);
            var rows = Rows(batch);
            for (int j = 0; j < 3; j++)
            {
                var (mean, variance) = Moments(rows, j);
                movingMean[j] = (movingMean[j] * 0.9) + (mean * 0.1);
                movingStddev[j] = (movingStddev[j] * 0.9) + (Math.Sqrt(variance + Epsilon) * 0.1);   // Keras 3 keeps a moving stddev
                renormMean[j] = (renormMean[j] * 0.8) + (mean * 0.2);
                renormStddev[j] = (renormStddev[j] * 0.8) + (Math.Sqrt(variance + Epsilon) * 0.2);
            }
        }

        AssertClose(Row(movingMean), Rows(layer.MovingMean.unsqueeze(0)), 1e-6);
        AssertClose(Row(movingStddev), Rows(layer.MovingStddev.unsqueeze(0)), 1e-6);
        AssertClose(Row(movingStddev.Select(s => Math.Max((s * s) - Epsilon, 0)).ToArray()), Rows(layer.MovingVariance.unsqueeze(0)), 1e-6);
        AssertClose(Row(renormMean), Rows(layer.RenormMean.unsqueeze(0)), 1e-6);
        AssertClose(Row(renormStddev), Rows(layer.RenormStddev.unsqueeze(0)), 1e-6);
        Assert.Equal(2, layer.Steps);
    }

    [Theory]
    [InlineData(0, 1, 0)]
    [InlineData(5000, 1, 0)]
    [InlineData(15000, 1 + (2 * 10000 / 35000.0), 2.5)]
    [InlineData(22500, 2, 5 * 17500 / 20000.0)]
    [InlineData(25000, 1 + (2 * 20000 / 35000.0), 5)]
    [InlineData(40000, 3, 5)]
    [InlineData(1_000_000, 3, 5)]
    public void Paper_schedule_ramps_rmax_and_dmax_linearly_after_warmup(long step, double rmax, double dmax)
    {
        var clipping = RenormClipping.Schedule(warmupSteps: 5000, rmaxEndStep: 40000, dmaxEndStep: 25000, rmax: 3, dmax: 5);

        Assert.Equal(RenormClipping.Paper, clipping);
        Assert.Equal(rmax, clipping.RMaxAt(step), 12);
        Assert.Equal(1 / rmax, clipping.RMinAt(step), 12);
        Assert.Equal(dmax, clipping.DMaxAt(step), 12);
    }

    [Fact]
    public void Layer_bounds_advance_with_its_training_steps_only()
    {
        using var scope = NewDisposeScope();
        var clipping = RenormClipping.Schedule(warmupSteps: 1, rmaxEndStep: 3, dmaxEndStep: 2, rmax: 3, dmax: 4);
        using var layer = Built(new LayerShape(2), clipping);
        var seen = new List<(double RMax, double DMax)> { (layer.CurrentRMax, layer.CurrentDMax) };
        for (int i = 0; i < 4; i++)
        {
            layer.call(randn(3, 2));
            seen.Add((layer.CurrentRMax, layer.CurrentDMax));
        }

        layer.eval();
        layer.call(randn(3, 2));

        Assert.Equal(new List<(double RMax, double DMax)> { (1, 0), (1, 0), (2, 4), (3, 4), (3, 4) }, seen);
        Assert.Equal(4, layer.Steps);
        Assert.Equal(1 / 3.0, layer.CurrentRMin, 12);
    }

    [Fact]
    public void Fixed_clipping_defaults_rmin_to_the_reciprocal_of_rmax_at_every_step()
    {
        var clipping = RenormClipping.Fixed(4, 2);
        var unbounded = RenormClipping.Fixed(double.PositiveInfinity, double.PositiveInfinity);

        Assert.Equal((4.0, 0.25, 2.0), (clipping.RMaxAt(123456), clipping.RMinAt(0), clipping.DMaxAt(7)));
        Assert.Equal(0, unbounded.RMin);
        Assert.Equal(0.5, RenormClipping.Fixed(4, 2, rmin: 0.5).RMinAt(9));
        Assert.False(clipping.IsScheduled);
    }

    [Fact]
    public void Save_and_load_round_trip_parameters_buffers_and_step_counter()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        manual_seed(6);
        using var layer = Built(Image, RenormClipping.Paper);
        RandomAffine(layer, null);
        for (int i = 0; i < 3; i++)
        {
            layer.call(randn(Image.TorchShape(2)));
        }

        string path = dir.Combine("renorm.bin");
        layer.save(path);
        using var restored = Built(Image, RenormClipping.Paper);
        restored.load(path);

        var saved = layer.state_dict();
        var loaded = restored.state_dict();
        Assert.Equal(
            ["gamma", "beta", "moving_mean", "moving_variance", "moving_stddev", "renorm_mean", "renorm_stddev", "step"],
            loaded.Keys.ToArray());
        foreach (var (key, value) in saved)
        {
            Assert.True(value.eq(loaded[key]).all().item<bool>(), $"{key} differs after load");
        }

        Assert.Equal(3, restored.Steps);
        Assert.Equal(ScalarType.Int64, restored.StepCounter.dtype);
    }

    [Fact]
    public void Forward_leaves_only_its_output_in_the_callers_scope()
    {
        using var outer = NewDisposeScope();
        using var layer = Built(Image, RenormClipping.Paper);
        var x = randn(Image.TorchShape(2));
        using var inner = NewDisposeScope();

        var y = layer.call(x);
        layer.eval();
        var z = layer.call(x);

        Assert.Equal(2, inner.DisposablesCount);
        Assert.True(inner.Contains(y) && inner.Contains(z));
    }

    [Fact]
    public void Trains_inside_a_sequential_model_with_keras_names_and_counts()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        using var model = new global::CifarBatchNorm.Training.Sequential(new LayerShape(5));
        var renorm = new BatchRenormalization();
        model.Add(new Dense(4)).Add(renorm).Add(new Dense(3, ActivationFunction.Softmax));
        model.Compile(new global::CifarBatchNorm.Training.Adam());
        var x = randn(16, 5);
        var y = nn.functional.one_hot(randint(0, 3, [16]), 3).to_type(ScalarType.Float32);

        var history = model.Fit(x, y, batchSize: 8, epochs: 1, verbose: 0, shuffle: false);

        Assert.Equal("batch_renormalization", renorm.Name);
        Assert.Equal((24L + 8 + 15, 5 * 4L), model.CountParameters());   // five non-trainable weights per channel, as Keras 3 counts them
        Assert.Equal(2, renorm.Steps);
        Assert.True(double.IsFinite(history.Loss[0]));
    }

    [Theory]
    [InlineData(1.0, 1e-3, 0.99, "momentum")]
    [InlineData(-0.1, 1e-3, 0.99, "momentum")]
    [InlineData(double.NaN, 1e-3, 0.99, "momentum")]
    [InlineData(0.99, 0.0, 0.99, "epsilon")]
    [InlineData(0.99, double.PositiveInfinity, 0.99, "epsilon")]
    [InlineData(0.99, 1e-3, 1.0, "renormMomentum")]
    [InlineData(0.99, 1e-3, -1.0, "renormMomentum")]
    public void Constructor_rejects_out_of_range_arguments_by_name(double momentum, double epsilon, double renormMomentum, string argument)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new BatchRenormalization(momentum, epsilon, renormMomentum));

        Assert.Equal(argument, error.ParamName);
        Assert.Contains(argument, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Clipping_factories_reject_out_of_range_arguments_by_name()
    {
        static string? Rejected(Func<RenormClipping> create) => Assert.Throws<ArgumentOutOfRangeException>(() => create()).ParamName;

        Assert.Equal("rmax", Rejected(() => RenormClipping.Fixed(0.5, 1)));
        Assert.Equal("rmax", Rejected(() => RenormClipping.Fixed(double.NaN, 1)));
        Assert.Equal("dmax", Rejected(() => RenormClipping.Fixed(2, -1)));
        Assert.Equal("rmin", Rejected(() => RenormClipping.Fixed(2, 1, rmin: 1.5)));
        Assert.Equal("rmin", Rejected(() => RenormClipping.Fixed(2, 1, rmin: -0.1)));
        Assert.Equal("warmupSteps", Rejected(() => RenormClipping.Schedule(warmupSteps: -1)));
        Assert.Equal("rmaxEndStep", Rejected(() => RenormClipping.Schedule(rmaxEndStep: 4999)));
        Assert.Equal("dmaxEndStep", Rejected(() => RenormClipping.Schedule(dmaxEndStep: 10)));
        Assert.Equal("rmax", Rejected(() => RenormClipping.Schedule(rmax: double.PositiveInfinity)));
        Assert.Equal("dmax", Rejected(() => RenormClipping.Schedule(dmax: double.NaN)));
        Assert.Equal("step", Assert.Throws<ArgumentOutOfRangeException>(() => RenormClipping.Paper.RMaxAt(-1)).ParamName);
    }

    [Fact]
    public void Build_and_forward_reject_unsupported_shapes()
    {
        using var scope = NewDisposeScope();
        using var layer = Built(Flat, RenormClipping.Paper);

        var buildError = Assert.Throws<ArgumentException>(() => new BatchRenormalization().Build(new LayerShape(4, 4)));
        Assert.Equal("inputShape", buildError.ParamName);
        Assert.Throws<ArgumentException>(() => layer.call(randn(2, 6, 1)));
        Assert.Equal("BatchRenormalization", layer.KerasType);
    }

    private static LayerShape ShapeOf(int rank) => rank == 4 ? Image : Flat;

    private static BatchRenormalization Built(LayerShape shape, RenormClipping clipping, double momentum = 0.99, double renormMomentum = 0.99)
    {
        var layer = new BatchRenormalization(momentum, Epsilon, renormMomentum, clipping, name: "renorm");
        layer.Build(shape);
        return layer;
    }

    // TorchSharp's own layer in training mode, with Keras's epsilon and momentum 0.99 (TorchSharp weights the new value).
    private static NormBase Oracle(LayerShape shape) => shape.Rank == 3
        ? nn.BatchNorm2d(shape.Features, eps: Epsilon, momentum: 0.01)
        : nn.BatchNorm1d(shape.Features, eps: Epsilon, momentum: 0.01);

    private static void RandomAffine(BatchRenormalization layer, NormBase? bn)
    {
        using var noGrad = no_grad();
        layer.Gamma.copy_(rand_like(layer.Gamma).add(0.5));
        layer.Beta.copy_(randn_like(layer.Beta));
        bn?.weight.copy_(layer.Gamma);
        bn?.bias!.copy_(layer.Beta);
    }

    private sealed record State(double[] Gamma, double[] Beta, double[] RenormMean, double[] RenormStddev);

    private static State SetState(BatchRenormalization layer, double[] gamma, double[] beta, double[] renormMean, double[] renormStddev)
    {
        int c = (int)layer.Gamma.shape[0];
        var state = new State(gamma[..c], beta[..c], renormMean[..c], renormStddev[..c]);
        using var noGrad = no_grad();
        layer.Gamma.copy_(tensor(state.Gamma));
        layer.Beta.copy_(tensor(state.Beta));
        layer.RenormMean.copy_(tensor(state.RenormMean));
        layer.RenormStddev.copy_(tensor(state.RenormStddev));
        return state;
    }

    // The layer's training formula in double, one row per sample (and pixel), one column per channel.
    private static double[,] Reference(double[,] x, State s, double rmax, double rmin, double dmax, out double[] rawR, out double[] rawD)
    {
        int channels = x.GetLength(1);
        rawR = new double[channels];
        rawD = new double[channels];
        var r = new double[channels];
        var d = new double[channels];
        for (int j = 0; j < channels; j++)
        {
            var (mean, variance) = Moments(x, j);
            double sigma = Math.Max(s.RenormStddev[j], Math.Sqrt(Epsilon));
            rawR[j] = Math.Sqrt(variance + Epsilon) / sigma;
            rawD[j] = (mean - s.RenormMean[j]) / sigma;
            r[j] = Math.Clamp(rawR[j], rmin, rmax);
            d[j] = Math.Clamp(rawD[j], -dmax, dmax);
        }

        return FormulaWithConstants(x, s.Gamma, s.Beta, r, d);
    }

    private static double[,] FormulaWithConstants(double[,] x, double[] gamma, double[] beta, double[] r, double[] d)
    {
        var y = new double[x.GetLength(0), x.GetLength(1)];
        for (int j = 0; j < x.GetLength(1); j++)
        {
            var (mean, variance) = Moments(x, j);
            double sigmaB = Math.Sqrt(variance + Epsilon);
            for (int i = 0; i < x.GetLength(0); i++)
            {
                y[i, j] = (gamma[j] * ((((x[i, j] - mean) / sigmaB) * r[j]) + d[j])) + beta[j];
            }
        }

        return y;
    }

    // Mean and biased variance of one column.
    private static (double Mean, double Variance) Moments(double[,] x, int column)
    {
        int n = x.GetLength(0);
        double mean = 0, variance = 0;
        for (int i = 0; i < n; i++)
        {
            mean += x[i, column] / n;
        }

        for (int i = 0; i < n; i++)
        {
            variance += (x[i, column] - mean) * (x[i, column] - mean) / n;
        }

        return (mean, variance);
    }

    private static double Weighted(double[,] y, double[,] w)
    {
        double sum = 0;
        for (int i = 0; i < y.GetLength(0); i++)
        {
            for (int j = 0; j < y.GetLength(1); j++)
            {
                sum += y[i, j] * w[i, j];
            }
        }

        return sum;
    }

    // (N, C) or (N, C, H, W) as a (rows, C) array in double.
    private static double[,] Rows(Tensor t)
    {
        var flat = (t.dim() == 4 ? t.permute(0, 2, 3, 1) : t).reshape(-1, t.shape[1]).detach().to_type(ScalarType.Float64).contiguous();
        var values = flat.data<double>().ToArray();
        int rows = (int)flat.shape[0], columns = (int)flat.shape[1];
        var result = new double[rows, columns];
        Buffer.BlockCopy(values, 0, result, 0, values.Length * sizeof(double));
        return result;
    }

    private static double[,] Row(double[] values)
    {
        var result = new double[1, values.Length];
        Buffer.BlockCopy(values, 0, result, 0, values.Length * sizeof(double));
        return result;
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance)
    {
        Assert.Equal(expected.shape, actual.shape);
        AssertClose(Rows(expected.dim() == 1 ? expected.unsqueeze(0) : expected), Rows(actual.dim() == 1 ? actual.unsqueeze(0) : actual), tolerance);
    }

    private static void AssertClose(double[,] expected, double[,] actual, double tolerance)
    {
        Assert.Equal(expected.GetLength(0), actual.GetLength(0));
        Assert.Equal(expected.GetLength(1), actual.GetLength(1));
        double worst = 0;
        for (int i = 0; i < expected.GetLength(0); i++)
        {
            for (int j = 0; j < expected.GetLength(1); j++)
            {
                worst = Math.Max(worst, Math.Abs(expected[i, j] - actual[i, j]));
            }
        }

        Assert.True(worst <= tolerance, $"largest difference {worst:G3} exceeds {tolerance:G3}");
    }
}
