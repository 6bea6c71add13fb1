namespace CifarBatchNorm.Cli;

/// <summary>What <see cref="JemallocLauncher.RestartIfAvailable"/> did.</summary>
internal enum JemallocRestart
{
    /// <summary>The process is being replaced (never returned to the caller; used by the decision itself).</summary>
    Restarting,

    /// <summary>
    /// The process is being replaced by itself on glibc tuned from the start (<c>MALLOC_ARENA_MAX=1</c>,
    /// <c>MALLOC_MMAP_MAX_=0</c>, <c>MALLOC_TRIM_THRESHOLD_</c>): jemalloc is not installed or glibc was chosen.
    /// </summary>
    RestartingGlibc,

    /// <summary>Not Linux: nothing to do.</summary>
    NotLinux,

    /// <summary><c>CIFAR_BATCHNORM_ALLOCATOR</c> is <c>default</c>, or <c>glibc</c> with glibc's variables set by the user.</summary>
    OptedOut,

    /// <summary><c>LD_PRELOAD</c> was already set by the user: left as it is.</summary>
    PreloadSet,

    /// <summary>This process is the restarted one.</summary>
    AlreadyRestarted,

    /// <summary>No <c>libjemalloc.so.2</c> was found (Debian/Ubuntu: <c>apt-get install libjemalloc2</c>) and the user set glibc's variables, so no restart.</summary>
    NotInstalled,

    /// <summary>The restart was attempted and failed; the process goes on with glibc's allocator.</summary>
    Failed,
}
