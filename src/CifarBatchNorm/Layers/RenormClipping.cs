namespace CifarBatchNorm.Layers;

/// <summary>
/// The bounds that <see cref="BatchRenormalization"/> clips its corrections to: <c>r</c> to [RMin, RMax] and
/// <c>d</c> to [-DMax, DMax], either fixed or relaxed over the training steps as in the paper.
/// </summary>
/// <remarks>
/// <para>With RMax = 1 and DMax = 0 the layer is plain batch normalization; as the bounds grow the layer
/// relies more on its moving statistics.</para>
/// <para>The schedule (Ioffe 2017, section 4) keeps <c>rmax = 1</c>, <c>dmax = 0</c> up to
/// <see cref="WarmupSteps"/>, then raises them linearly to <see cref="RMax"/> at <see cref="RMaxEndStep"/> and
/// to <see cref="DMax"/> at <see cref="DMaxEndStep"/>, and keeps them there; <c>rmin = 1 / rmax</c> throughout.
/// The paper's values are <see cref="Paper"/>.</para>
/// </remarks>
public sealed record RenormClipping
{
    private RenormClipping(bool isScheduled, double rmax, double rmin, double dmax, long warmupSteps, long rmaxEndStep, long dmaxEndStep)
    {
        IsScheduled = isScheduled;
        RMax = rmax;
        RMin = rmin;
        DMax = dmax;
        WarmupSteps = warmupSteps;
        RMaxEndStep = rmaxEndStep;
        DMaxEndStep = dmaxEndStep;
    }

    /// <summary>The paper's schedule: 5,000 warm-up steps, rmax 3 by step 40,000, dmax 5 by step 25,000.</summary>
    public static RenormClipping Paper { get; } = Schedule();

    /// <summary>No clipping: Keras 3's default (<c>renorm_clipping=None</c>), r and d are used as computed.</summary>
    public static RenormClipping None { get; } = new(false, double.PositiveInfinity, 0, double.PositiveInfinity, 0, 0, 0);

    /// <summary>Whether the bounds follow a warm-up schedule (<see cref="Schedule"/>) rather than being fixed.</summary>
    public bool IsScheduled { get; }

    /// <summary>Upper bound of <c>r</c>: the fixed value, or the final value of a schedule. At least 1; may be infinite when fixed.</summary>
    public double RMax { get; }

    /// <summary>Lower bound of <c>r</c>: the fixed value, or <c>1 / RMax</c> (the final value) for a schedule.</summary>
    public double RMin { get; }

    /// <summary>Bound of <c>|d|</c>: the fixed value, or the final value of a schedule. At least 0; may be infinite when fixed.</summary>
    public double DMax { get; }

    /// <summary>Steps during which a schedule keeps <c>rmax = 1</c> and <c>dmax = 0</c>; 0 when fixed.</summary>
    public long WarmupSteps { get; }

    /// <summary>Step at which a schedule's rmax reaches <see cref="RMax"/>; 0 when fixed.</summary>
    public long RMaxEndStep { get; }

    /// <summary>Step at which a schedule's dmax reaches <see cref="DMax"/>; 0 when fixed.</summary>
    public long DMaxEndStep { get; }

    /// <summary>Fixed bounds, as Keras's <c>renorm_clipping={"rmax": ..., "rmin": ..., "dmax": ...}</c>.</summary>
    /// <param name="rmax">Upper bound of <c>r</c>, at least 1; <see cref="double.PositiveInfinity"/> for none.</param>
    /// <param name="dmax">Bound of <c>|d|</c>, at least 0; <see cref="double.PositiveInfinity"/> for none.</param>
    /// <param name="rmin">Lower bound of <c>r</c>, in [0, 1]. The default value (<c>null</c>) means <c>1 / rmax</c>, the paper's choice (Keras leaves r unbounded below when <c>rmin</c> is missing: pass 0 for that).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public static RenormClipping Fixed(double rmax, double dmax, double? rmin = null)
    {
        CheckRMax(rmax, nameof(rmax), allowInfinity: true);
        CheckDMax(dmax, nameof(dmax), allowInfinity: true);
        double lower = rmin ?? 1 / rmax;
        if (!(lower >= 0 && lower <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(rmin), rmin, "rmin must be in [0, 1] so that r = 1 is always allowed.");
        }

        return new RenormClipping(false, rmax, lower, dmax, 0, 0, 0);
    }

    /// <summary>The paper's warm-up schedule: linear ramps of rmax from 1 and of dmax from 0.</summary>
    /// <param name="warmupSteps">Steps with rmax 1 and dmax 0 (plain batch normalization), at least 0. The default value is 5000.</param>
    /// <param name="rmaxEndStep">Step at which rmax reaches <paramref name="rmax"/>, at least <paramref name="warmupSteps"/>. The default value is 40000.</param>
    /// <param name="dmaxEndStep">Step at which dmax reaches <paramref name="dmax"/>, at least <paramref name="warmupSteps"/>. The default value is 25000.</param>
    /// <param name="rmax">Final upper bound of <c>r</c>, finite and at least 1. The default value is 3.</param>
    /// <param name="dmax">Final bound of <c>|d|</c>, finite and at least 0. The default value is 5.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public static RenormClipping Schedule(long warmupSteps = 5000, long rmaxEndStep = 40000, long dmaxEndStep = 25000, double rmax = 3, double dmax = 5)
    {
        if (warmupSteps < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "warmupSteps must be at least 0.");
        }

        if (rmaxEndStep < warmupSteps)
        {
            throw new ArgumentOutOfRangeException(nameof(rmaxEndStep), rmaxEndStep, $"rmaxEndStep must be at least warmupSteps ({warmupSteps}).");
        }

        if (dmaxEndStep < warmupSteps)
        {
            throw new ArgumentOutOfRangeException(nameof(dmaxEndStep), dmaxEndStep, $"dmaxEndStep must be at least warmupSteps ({warmupSteps}).");
        }

        CheckRMax(rmax, nameof(rmax), allowInfinity: false);
        CheckDMax(dmax, nameof(dmax), allowInfinity: false);
        return new RenormClipping(true, rmax, 1 / rmax, dmax, warmupSteps, rmaxEndStep, dmaxEndStep);
    }

    /// <summary>Upper bound of <c>r</c> for a training step (the number of training steps taken before it).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    public double RMaxAt(long step) => IsScheduled ? Ramp(step, RMaxEndStep, 1, RMax) : CheckStep(step, RMax);

    /// <summary>Lower bound of <c>r</c> for a training step: <c>1 / RMaxAt(step)</c> for a schedule.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    public double RMinAt(long step) => IsScheduled ? 1 / RMaxAt(step) : CheckStep(step, RMin);

    /// <summary>Bound of <c>|d|</c> for a training step.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    public double DMaxAt(long step) => IsScheduled ? Ramp(step, DMaxEndStep, 0, DMax) : CheckStep(step, DMax);

    private double Ramp(long step, long endStep, double start, double end)
    {
        CheckStep(step, 0);
        if (step <= WarmupSteps)
        {
            return start;
        }

        if (step >= endStep)
        {
            return end;
        }

        return start + ((end - start) * (step - WarmupSteps) / (endStep - WarmupSteps));
    }

    private static double CheckStep(long step, double value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return value;
    }

    private static void CheckRMax(double rmax, string name, bool allowInfinity)
    {
        if (!(rmax >= 1) || (!allowInfinity && double.IsInfinity(rmax)))
        {
            throw new ArgumentOutOfRangeException(name, rmax, allowInfinity
                ? "rmax must be at least 1 (infinity for no bound)."
                : "rmax must be finite and at least 1.");
        }
    }

    private static void CheckDMax(double dmax, string name, bool allowInfinity)
    {
        if (!(dmax >= 0) || (!allowInfinity && double.IsInfinity(dmax)))
        {
            throw new ArgumentOutOfRangeException(name, dmax, allowInfinity
                ? "dmax must be at least 0 (infinity for no bound)."
                : "dmax must be finite and at least 0.");
        }
    }
}
