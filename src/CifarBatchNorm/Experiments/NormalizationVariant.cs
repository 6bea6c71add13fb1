namespace CifarBatchNorm.Experiments;

/// <summary>Where (and whether) the notebook model normalizes.</summary>
public enum NormalizationVariant
{
    /// <summary>The notebook: each Conv/Dense applies ReLU, then BatchNormalization follows.</summary>
    Bn,

    /// <summary>No normalization layers at all.</summary>
    None,

    /// <summary>The original paper's placement: Conv/Dense (linear), BatchNormalization, then ReLU.</summary>
    BnBeforeRelu,

    /// <summary>The notebook's placement with Batch Renormalization (Ioffe 2017) instead of BN.</summary>
    Renorm,
}
