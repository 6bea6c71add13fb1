using CifarBatchNorm.Layers;
using CifarBatchNorm.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Layers;

public sealed class BatchRenormalizationTests
{
    private static BatchRenormalization Built(LayerShape shape, RenormClipping clipping, double momentum = 0.99, double renormMomentum = 0.99)
    {
        var layer = new BatchRenormalization(momentum: momentum, renormMomentum: renormMomentum, clipping: clipping, name: "renorm");
        layer.Build(shape);
        return layer;
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        double error = (expected - actual).abs().max().item<float>();
        Assert.True(error <= tolerance, $"{what}: max difference {error}");
    }

    [Theory]
    [InlineData(4)]
    [InlineData(2)]
    public void With_rmax_1_and_dmax_0_training_output_and_gradients_equal_batch_norm(int rank)
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var shape = rank == 4 ? new LayerShape(5, 5, 3) : new LayerShape(6);
        var x = rank == 4 ? (randn(8, 3, 5, 5) * 2) + 1 : (randn(10, 6) * 3) - 2;
        var upstream = randn_like(x);
        var renorm = Built(shape, RenormClipping.Fixed(rMax: 1, dMax: 0));
        nn.Module<Tensor, Tensor> bn = rank == 4 ? nn.BatchNorm2d(3, eps: 1e-3, momentum: 0.01) : nn.BatchNorm1d(6, eps: 1e-3, momentum: 0.01);
        renorm.train();
        bn.train();
        using (no_grad())
        {
            renorm.Gamma.copy_(rand(shape.Features) + 0.5);
            renorm.Beta.copy_(randn(shape.Features));
            var parameters = bn.parameters().ToArray();
            parameters[0].copy_(renorm.Gamma);
            parameters[1].copy_(renorm.Beta);
        }

        var x1 = x.clone().requires_grad_(true);
        var x2 = x.clone().requires_grad_(true);
        var y1 = renorm.call(x1);
        var y2 = bn.call(x2);
        (y1 * upstream).sum().backward();
        (y2 * upstream).sum().backward();

        AssertClose(y2, y1, 1e-5, "output");
        AssertClose(x2.grad!, x1.grad!, 1e-5, "input gradient");
        var bnParameters = bn.parameters().ToArray();
        AssertClose(bnParameters[0].grad!, renorm.Gamma.grad!, 1e-4, "gamma gradient");
        AssertClose(bnParameters[1].grad!, renorm.Beta.grad!, 1e-4, "beta gradient");
    }

    [Fact]
    public void Inference_is_batch_norm_with_the_moving_statistics()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var renorm = Built(new LayerShape(4, 4, 3), RenormClipping.Fixed(3, 5));
        var bn = nn.BatchNorm2d(3, eps: 1e-3);
        using (no_grad())
        {
            renorm.MovingMean.copy_(tensor(new[] { 0.5f, -1f, 2f }));
            renorm.MovingVariance.copy_(tensor(new[] { 4f, 0.25f, 1.5f }));
            renorm.Gamma.copy_(tensor(new[] { 1.5f, 0.5f, -1f }));
            renorm.Beta.copy_(tensor(new[] { 0.1f, 0.2f, 0.3f }));
            bn.running_mean!.copy_(renorm.MovingMean);
            bn.running_var!.copy_(renorm.MovingVariance);
            bn.weight!.copy_(renorm.Gamma);
            bn.bias!.copy_(renorm.Beta);
        }

        renorm.eval();
        bn.eval();
        var x = randn(5, 3, 4, 4);

        AssertClose(bn.call(x), renorm.call(x), 1e-5, "inference output");
        Assert.Equal(0, renorm.Steps);
    }

    [Fact]
    public void R_and_d_are_clipped_as_specified()
    {
        using var scope = NewDisposeScope();
        var renorm = Built(new LayerShape(2), RenormClipping.Fixed(rMax: 2, dMax: 0.5));
        using (no_grad())
        {
            renorm.RenormMean.copy_(tensor(new[] { 10f, 0f }));     // feature 0: d far below -dmax; feature 1: small d
            renorm.RenormStddev.copy_(tensor(new[] { 0.01f, 20f }));  // feature 0: r far above rmax; feature 1: r below 1/rmax
        }

        float[] values = [1, 3, 2, 6, 0, -2, 5, 1];                   // (4, 2), row-major
        var x = tensor(values, new long[] { 4, 2 });
        renorm.train();
        var y = renorm.call(x).data<float>().ToArray();

        for (int f = 0; f < 2; f++)
        {
            double[] column = [values[f], values[2 + f], values[4 + f], values[6 + f]];
            double mean = column.Average();
            double sigma = Math.Sqrt(column.Average(v => (v - mean) * (v - mean)) + 1e-3);
            double mu = f == 0 ? 10 : 0, renormSigma = f == 0 ? 0.01 : 20;
            double r = Math.Clamp(sigma / renormSigma, 0.5, 2);
            double d = Math.Clamp((mean - mu) / renormSigma, -0.5, 0.5);
            Assert.Equal(f == 0 ? 2 : 0.5, r);
            for (int i = 0; i < 4; i++)
            {
                Assert.Equal(((column[i] - mean) / sigma * r) + d, y[(i * 2) + f], 4);
            }
        }
    }

    [Fact]
    public void Gradients_agree_with_finite_differences_when_r_and_d_are_clipped()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var layer = Built(new LayerShape(3), RenormClipping.Fixed(rMax: 1.5, dMax: 0.25), momentum: 0, renormMomentum: 0);
        var weights = randn(5, 3);
        var x = randn(5, 3).requires_grad_(true);
        using (no_grad())
        {
            layer.Gamma.copy_(tensor(new[] { 0.7f, 1.3f, -0.4f }));
        }

        Tensor Loss(Tensor input)
        {
            using (no_grad())
            {
                layer.RenormMean.fill_(100f);   // d clipped at -dmax
                layer.RenormStddev.fill_(0.001f); // r clipped at rmax
            }

            return (layer.call(input) * weights).sum();
        }

        layer.train();
        Loss(x).backward();
        var analytic = x.grad!.clone();
        var gammaAnalytic = layer.Gamma.grad!.clone();
        const float h = 1e-2f;
        var flat = x.detach().clone();
        for (int i = 0; i < 15; i++)
        {
            var plus = flat.clone();
            var minus = flat.clone();
            plus.view(-1)[i] += h;
            minus.view(-1)[i] -= h;
            double numeric;
            using (no_grad())
            {
                numeric = (Loss(plus).item<float>() - Loss(minus).item<float>()) / (2 * h);
            }

            Assert.Equal(numeric, analytic.view(-1)[i].item<float>(), 2);
        }

        for (int f = 0; f < 3; f++)
        {
            double numeric;
            using (no_grad())
            {
                float g = layer.Gamma[f].item<float>();
                layer.Gamma[f] = g + h;
                double up = Loss(flat).item<float>();
                layer.Gamma[f] = g - h;
                double down = Loss(flat).item<float>();
                layer.Gamma[f] = g;
                numeric = (up - down) / (2 * h);
            }

            Assert.Equal(numeric, gammaAnalytic[f].item<float>(), 2);
        }
    }

    [Fact]
    public void Moving_statistics_follow_the_update_rule()
    {
        using var scope = NewDisposeScope();
        var layer = Built(new LayerShape(1), RenormClipping.Fixed(3, 5), momentum: 0.9, renormMomentum: 0.8);
        layer.train();
        double movingMean = 0, movingVariance = 1, renormMean = 0, renormSigma = 1;
        foreach (float[] batch in new[] { new[] { 1f, 3f }, new[] { -2f, 6f } })
        {
            layer.call(tensor(batch, new long[] { 2, 1 }));
            double mean = batch.Average(v => (double)v);
            double variance = batch.Average(v => (v - mean) * (v - mean));
            movingMean = (movingMean * 0.9) + (mean * 0.1);
            movingVariance = (movingVariance * 0.9) + (variance * 0.1);
            renormMean = (renormMean * 0.8) + (mean * 0.2);
            renormSigma = (renormSigma * 0.8) + (Math.Sqrt(variance + 1e-3) * 0.2);
        }

        Assert.Equal(movingMean, layer.MovingMean.item<float>(), 4);
        Assert.Equal(movingVariance, layer.MovingVariance.item<float>(), 4);
        Assert.Equal(renormMean, layer.RenormMean.item<float>(), 4);
        Assert.Equal(renormSigma, layer.RenormStddev.item<float>(), 4);
        Assert.Equal(2, layer.Steps);
    }

    [Fact]
    public void The_schedule_warms_up_then_relaxes_linearly()
    {
        var schedule = RenormClipping.Schedule(warmupSteps: 100, rMaxEndStep: 500, dMaxEndStep: 300, rMax: 3, dMax: 5);

        Assert.Equal((1.0, 0.0), (schedule.RMax(0), schedule.DMax(0)));
        Assert.Equal((1.0, 0.0), (schedule.RMax(100), schedule.DMax(100)));
        Assert.Equal(2.0, schedule.RMax(300), 12);
        Assert.Equal(5.0, schedule.DMax(300), 12);
        Assert.Equal(2.5, schedule.DMax(200), 12);
        Assert.Equal((3.0, 5.0), (schedule.RMax(10_000), schedule.DMax(10_000)));
        Assert.Equal(0.5, schedule.RMin(300), 12);
        var paper = RenormClipping.Schedule();
        Assert.Equal((5_000L, 40_000L, 25_000L), (paper.WarmupSteps, paper.RMaxEndStep, paper.DMaxEndStep));
    }

    [Fact]
    public void Save_and_load_round_trip_parameters_statistics_and_step_counter()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempDirectory();
        var layer = Built(new LayerShape(4, 4, 2), RenormClipping.Schedule(10, 50, 30));
        layer.train();
        manual_seed(4);
        for (int i = 0; i < 3; i++)
        {
            layer.call(randn(6, 2, 4, 4));
        }

        using (no_grad())
        {
            layer.Gamma.add_(0.25f);
        }

        string path = temp.Combine("renorm.pt");
        layer.save(path);
        var copy = Built(new LayerShape(4, 4, 2), RenormClipping.Schedule(10, 50, 30));
        copy.load(path);

        Assert.Equal(3, copy.Steps);
        foreach (var (a, b) in new[] { (layer.Gamma, copy.Gamma), (layer.Beta, copy.Beta), (layer.MovingMean, copy.MovingMean),
            (layer.MovingVariance, copy.MovingVariance), (layer.RenormMean, copy.RenormMean), (layer.RenormStddev, copy.RenormStddev) })
        {
            Assert.True(a.eq(b).all().item<bool>());
        }
    }

    [Fact]
    public void Invalid_arguments_name_the_argument()
    {
        Assert.Equal("momentum", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchRenormalization(momentum: 1)).ParamName);
        Assert.Equal("renormMomentum", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchRenormalization(renormMomentum: -0.1)).ParamName);
        Assert.Equal("epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchRenormalization(epsilon: 0)).ParamName);
        Assert.Equal("rMax", Assert.Throws<ArgumentOutOfRangeException>(() => RenormClipping.Fixed(rMax: 0.5, dMax: 1)).ParamName);
        Assert.Equal("dMax", Assert.Throws<ArgumentOutOfRangeException>(() => RenormClipping.Fixed(rMax: 2, dMax: -1)).ParamName);
        Assert.Equal("rMin", Assert.Throws<ArgumentOutOfRangeException>(() => RenormClipping.Fixed(2, 1, rMin: 2)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => RenormClipping.Schedule(warmupSteps: 100, rMaxEndStep: 50));
        Assert.Throws<ArgumentException>(() => new BatchRenormalization().Build(new LayerShape(2, 2)));
    }
}
