using System.Text.Json.Serialization;

namespace CifarBatchNorm.Runtime;

/// <summary>The native allocator libtorch's buffers come from (recorded in <c>config.json</c> by these names).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<NativeAllocator>))]
public enum NativeAllocator
{
    /// <summary>jemalloc, preloaded (the CLI restarts itself on it when installed).</summary>
    [JsonStringEnumMemberName("jemalloc")]
    Jemalloc,

    /// <summary>glibc, tuned to keep freed buffers in the process and use one arena.</summary>
    [JsonStringEnumMemberName("glibc (freed buffers kept)")]
    GlibcTuned,

    /// <summary>glibc with its own defaults (the user opted out or set glibc's variables).</summary>
    [JsonStringEnumMemberName("glibc (defaults)")]
    GlibcDefault,

    /// <summary>Another platform's allocator, left alone.</summary>
    [JsonStringEnumMemberName("system")]
    System,
}
