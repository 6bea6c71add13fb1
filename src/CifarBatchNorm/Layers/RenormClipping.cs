using System.Globalization;

namespace CifarBatchNorm.Layers;

/// <summary>
/// How Batch Renormalization clips its corrections r and d, as a function of the training step: fixed limits, or
/// the paper's warm-up (rmax = 1 and dmax = 0, i.e. plain BN, then relaxed linearly to their final values).
/// </summary>
public sealed record RenormClipping
{
    private RenormClipping(double rMaxFinal, double dMaxFinal, long warmupSteps, long rMaxEndStep, long dMaxEndStep, double? rMin)
    {
        RMaxFinal = rMaxFinal;
        DMaxFinal = dMaxFinal;
        WarmupSteps = warmupSteps;
        RMaxEndStep = rMaxEndStep;
        DMaxEndStep = dMaxEndStep;
        FixedRMin = rMin;
    }

    /// <summary>Largest r once relaxed.</summary>
    public double RMaxFinal { get; }

    /// <summary>Largest |d| once relaxed.</summary>
    public double DMaxFinal { get; }

    /// <summary>Steps with rmax = 1 and dmax = 0 (0 for fixed clipping).</summary>
    public long WarmupSteps { get; }

    /// <summary>Step at which rmax reaches <see cref="RMaxFinal"/>.</summary>
    public long RMaxEndStep { get; }

    /// <summary>Step at which dmax reaches <see cref="DMaxFinal"/>.</summary>
    public long DMaxEndStep { get; }

    /// <summary>A fixed lower bound for r; <c>null</c> means 1 / rmax.</summary>
    public double? FixedRMin { get; }

    /// <summary>
    /// The paper's schedule (Ioffe 2017, section 4): plain BN for <paramref name="warmupSteps"/>, then rmax rises
    /// linearly from 1 to <paramref name="rMax"/> by <paramref name="rMaxEndStep"/> and dmax from 0 to
    /// <paramref name="dMax"/> by <paramref name="dMaxEndStep"/>. The paper used 5,000, 40,000 and 25,000 steps
    /// with rmax 3 and dmax 5.
    /// </summary>
    public static RenormClipping Schedule(long warmupSteps = 5_000, long rMaxEndStep = 40_000, long dMaxEndStep = 25_000, double rMax = 3, double dMax = 5)
    {
        if (warmupSteps < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "warmupSteps must be zero or positive.");
        }

        if (rMaxEndStep < warmupSteps || dMaxEndStep < warmupSteps)
        {
            throw new ArgumentOutOfRangeException(nameof(rMaxEndStep),
                $"rMaxEndStep ({rMaxEndStep}) and dMaxEndStep ({dMaxEndStep}) must not come before warmupSteps ({warmupSteps}).");
        }

        CheckLimits(rMax, dMax);
        return new RenormClipping(rMax, dMax, warmupSteps, rMaxEndStep, dMaxEndStep, null);
    }

    /// <summary>Fixed limits from the first step (tf-keras's <c>renorm_clipping</c>).</summary>
    /// <param name="rMax">Largest r, at least 1.</param>
    /// <param name="dMax">Largest |d|, zero or positive.</param>
    /// <param name="rMin">Smallest r, in (0, 1]; <c>null</c> (the default) means 1 / <paramref name="rMax"/>.</param>
    public static RenormClipping Fixed(double rMax, double dMax, double? rMin = null)
    {
        CheckLimits(rMax, dMax);
        if (rMin is double min && !(min > 0 && min <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(rMin), rMin, "rMin must be in (0, 1].");
        }

        return new RenormClipping(rMax, dMax, 0, 0, 0, rMin);
    }

    /// <summary>rmax at <paramref name="step"/> (0-based count of training steps done).</summary>
    public double RMax(long step) => Ramp(step, RMaxEndStep, 1, RMaxFinal);

    /// <summary>rmin at <paramref name="step"/>.</summary>
    public double RMin(long step) => FixedRMin ?? 1 / RMax(step);

    /// <summary>dmax at <paramref name="step"/>.</summary>
    public double DMax(long step) => Ramp(step, DMaxEndStep, 0, DMaxFinal);

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"rmax {RMaxFinal}, dmax {DMaxFinal}, warm-up {WarmupSteps} steps, rmax by {RMaxEndStep}, dmax by {DMaxEndStep}");

    private double Ramp(long step, long end, double start, double final)
    {
        if (step <= WarmupSteps)
        {
            return WarmupSteps == 0 ? final : start;
        }

        if (step >= end)
        {
            return final;
        }

        return start + ((final - start) * (step - WarmupSteps) / (end - WarmupSteps));
    }

    private static void CheckLimits(double rMax, double dMax)
    {
        if (!(rMax >= 1) || double.IsNaN(rMax))
        {
            throw new ArgumentOutOfRangeException(nameof(rMax), rMax, "rMax must be at least 1.");
        }

        if (!(dMax >= 0) || double.IsNaN(dMax))
        {
            throw new ArgumentOutOfRangeException(nameof(dMax), dMax, "dMax must be zero or positive.");
        }
    }
}
