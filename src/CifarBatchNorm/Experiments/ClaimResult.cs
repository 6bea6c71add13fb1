namespace CifarBatchNorm.Experiments;

/// <summary>
/// One claim of a comparison tested on its primary endpoint (<see cref="CompareClaims.Evaluate"/>): a against b over
/// the same seeds, with the verdict after Holm's correction over the report's claims.
/// </summary>
public sealed record ClaimResult
{
    /// <summary>The claim, e.g. <c>BN makes training faster</c>.</summary>
    public required string Claim { get; init; }

    /// <summary>The primary endpoint in words (quantity, variants, learning rate, batch size).</summary>
    public required string Endpoint { get; init; }

    /// <summary>The test of the primary endpoint, in words.</summary>
    public required string Test { get; init; }

    /// <summary>The effect (direction and size, with its interval where there is one) in words.</summary>
    public required string Effect { get; init; }

    /// <summary>Seeds paired.</summary>
    public int Pairs { get; init; }

    /// <summary>The primary test's two-sided p; <c>NaN</c> when not testable.</summary>
    public double PValue { get; init; } = double.NaN;

    /// <summary><see cref="PValue"/> after Holm-Bonferroni over the report's testable claims; <c>NaN</c> when not testable.</summary>
    public double HolmPValue { get; init; } = double.NaN;

    /// <summary>Whether the observed direction is the claimed one (<c>null</c>: no difference at all).</summary>
    public bool? ClaimedDirection { get; init; }

    /// <summary><c>supported</c>, <c>opposite holds</c>, <c>not shown</c>, <c>inconclusive (underpowered)</c> or <c>not testable at n = ...</c>.</summary>
    public string Verdict { get; init; } = "";

    /// <summary>For a paired t-test: the smallest true difference it detects at 80% power (from the observed SD of the differences); <c>NaN</c> otherwise.</summary>
    public double MinimumDetectableDifference { get; init; } = double.NaN;

    /// <summary>For the censored rank test: the untied pairs it ranks (its smallest attainable p is 2 / 2^n); 0 otherwise.</summary>
    public int UntiedPairs { get; init; }

    /// <summary>Why the primary test could not be made (<c>not testable at n = ...</c>), or <c>null</c>.</summary>
    public string? NotTestable { get; init; }

    /// <summary>Further numbers (exact sign-flip p, the power statement, censoring counts), in words.</summary>
    public string Detail { get; init; } = "";

    /// <summary>For accuracy endpoints: the paired difference after every epoch (the verdict had training stopped there).</summary>
    public IReadOnlyList<EpochContrast> PerEpoch { get; init; } = [];

    /// <summary>For accuracy endpoints: how the direction of the per-epoch differences that are significant on their own (paired t, p &lt; 0.05, uncorrected) changes with the stopping epoch, in words; empty when it does not.</summary>
    public string StoppingEpochNote { get; init; } = "";
}
