namespace CifarBatchNorm.Runtime;

/// <summary>What <c>CIFAR_BATCHNORM_ALLOCATOR</c> asks for.</summary>
internal enum AllocatorChoice
{
    /// <summary>Unset: jemalloc where the CLI finds it, else tuned glibc.</summary>
    Auto,

    /// <summary><c>glibc</c>: no jemalloc restart; glibc tuned.</summary>
    Glibc,

    /// <summary><c>default</c>: no jemalloc restart and glibc's own defaults.</summary>
    Default,
}
