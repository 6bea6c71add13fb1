using System.Runtime.CompilerServices;
using CifarBatchNorm.Runtime;

namespace CifarBatchNorm.Tests.Support;

/// <summary>Applies the runtime settings (oneDNN AVX2 cap, allocator, threads) before any test touches torch.</summary>
internal static class TestStartup
{
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.Initialize();
}
