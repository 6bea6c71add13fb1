using CifarBatchNorm.Layers;
using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Watches "internal covariate shift" as Ioffe and Szegedy 2015 (Figure 1) did: every N steps, runs the probe batch
/// through the model in training mode and records the 15th, 50th and 85th percentiles of the input of every ReLU.
/// BN statistics and the RNG state are put back afterwards, so the run itself is unchanged.
/// </summary>
internal sealed class ActivationDriftProbe : ProbeCallback
{
    private static readonly double[] Quantiles = [0.15, 0.5, 0.85];
    private readonly List<DriftPoint> _points = [];

    /// <summary>Creates the probe.</summary>
    /// <param name="images">Probe images (B, C, H, W).</param>
    /// <param name="labels">Probe labels (B) (unused by the measurement, kept with the batch).</param>
    /// <param name="every">Measure every N steps. The default value is 50.</param>
    public ActivationDriftProbe(Tensor images, Tensor labels, int every = 50) : base(images, labels, every)
    {
    }

    /// <summary>The measurements so far.</summary>
    public IReadOnlyList<DriftPoint> Points => _points;

    /// <inheritdoc />
    protected override void Measure(Sequential model, int step)
    {
        model.train();
        using var noGrad = no_grad();
        using var q = tensor(Quantiles, ScalarType.Float32);
        var x = Images;
        int relu = 0;
        foreach (var layer in model.Layers)
        {
            if (layer.OutputActivation == ActivationFunction.Relu)
            {
                var input = layer.ForwardPreActivation(x);
                var values = quantile(input.flatten(), q).data<float>().ToArray();
                _points.Add(new DriftPoint(step, relu++, layer.Name ?? "?", values[0], values[1], values[2]));
                x = nn.functional.relu(input);
            }
            else
            {
                x = layer.call(x);
            }
        }
    }
}
