namespace CifarBatchNorm.Data.Download;

/// <summary>What <see cref="Cifar10Downloader.EnsureAsync"/> does with a CIFAR-10 folder that is already there.</summary>
public enum ExistingData
{
    /// <summary>Use it when its six files have the right sizes (what training does before it loads them).</summary>
    UseIfComplete,

    /// <summary>Read every record (sizes and label bytes, the checks training makes); download again and replace it when it fails them.</summary>
    VerifyAndReplace,

    /// <summary>Download again and replace it whatever it holds.</summary>
    Replace,
}
