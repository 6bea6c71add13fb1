namespace CifarBatchNorm.Experiments;

/// <summary>Which data a run uses.</summary>
public enum DatasetKind
{
    /// <summary>CIFAR-10 when found, else Fashion-MNIST when installed, else the synthetic set.</summary>
    Auto,

    /// <summary>CIFAR-10 binary version.</summary>
    Cifar10,

    /// <summary>Fashion-MNIST IDX files.</summary>
    FashionMnist,

    /// <summary>The seeded synthetic set, CIFAR-10-shaped.</summary>
    Synthetic,
}
