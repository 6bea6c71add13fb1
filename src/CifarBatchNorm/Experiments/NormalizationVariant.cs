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

    /// <summary>
    /// The notebook's placement with every BatchNormalization at Keras momentum 0.9 whatever the run's BN momentum: the
    /// control that separates the lag of the moving statistics (momentum 0.99 averages over about 100 steps) from
    /// what normalization itself does.
    /// </summary>
    BnMomentum09,
}
