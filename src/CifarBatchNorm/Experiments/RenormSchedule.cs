using System.Globalization;
using CifarBatchNorm.Layers;

namespace CifarBatchNorm.Experiments;

/// <summary>A Batch Renormalization clipping schedule in steps (see <see cref="ModelPresets.RenormScheduleFor"/>).</summary>
/// <param name="Kind"><c>paper</c> (the paper's steps) or <c>scaled</c> (its breakpoints scaled to the run).</param>
/// <param name="WarmupSteps">Steps with r_max 1 and d_max 0 (plain BN in training).</param>
/// <param name="DmaxEndStep">Step by which d_max reaches <paramref name="Dmax"/>.</param>
/// <param name="RmaxEndStep">Step by which r_max reaches <paramref name="Rmax"/>.</param>
/// <param name="Rmax">Final r_max.</param>
/// <param name="Dmax">Final d_max.</param>
public sealed record RenormSchedule(string Kind, int WarmupSteps, int DmaxEndStep, int RmaxEndStep, double Rmax, double Dmax)
{
    /// <summary>The layer's clipping for this schedule.</summary>
    public RenormClipping ToClipping() =>
        RenormClipping.Schedule(warmupSteps: WarmupSteps, rmaxEndStep: RmaxEndStep, dmaxEndStep: DmaxEndStep, rmax: Rmax, dmax: Dmax);

    /// <summary>The schedule in words, e.g. <c>scaled: r_max 1 to 3 and d_max 0 to 5 relaxed from step 147, d_max reaching 5 by step 734, r_max 3 by step 1175</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Kind}: r_max 1 to {Rmax} and d_max 0 to {Dmax}, relaxed from step {WarmupSteps}, d_max reaching {Dmax} by step {DmaxEndStep} and r_max {Rmax} by step {RmaxEndStep}");
}
