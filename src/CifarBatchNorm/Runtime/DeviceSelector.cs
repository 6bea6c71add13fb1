using System.Globalization;
using TorchSharp;

namespace CifarBatchNorm.Runtime;

/// <summary>
/// Turns a device name (<c>auto</c>, <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>) into a TorchSharp device.
/// <c>auto</c> takes the first CUDA device when one is usable and the CPU otherwise; an explicit CUDA request
/// on a build or machine without CUDA is an error, never a silent fall-back to the CPU.
/// </summary>
/// <remarks>
/// Whether CUDA is usable depends on the native backend the application references (<c>TorchSharp-cpu</c>,
/// <c>TorchSharp-cuda-linux</c> or <c>TorchSharp-cuda-windows</c>; in this repository
/// <c>-p:TorchBackend=cpu|cuda-linux|cuda-windows</c>) and on a visible GPU with its driver.
/// </remarks>
public static class DeviceSelector
{
    /// <summary>The default device name: CUDA when usable, else the CPU.</summary>
    public const string Auto = "auto";

    /// <summary>The message of the error raised when CUDA is requested but not usable.</summary>
    public const string CudaUnavailableMessage =
        "CUDA was requested but this build uses the CPU TorchSharp backend (or no GPU is visible); "
        + "rebuild with -p:TorchBackend=cuda-linux (or cuda-windows) and check nvidia-smi.";

    /// <summary>
    /// Checks the syntax of a device name and returns its canonical form (<c>auto</c>, <c>cpu</c>, <c>cuda</c>
    /// or <c>cuda:N</c>, lower case, trimmed). Does not touch torch.
    /// </summary>
    /// <param name="name">The name to check; case and surrounding spaces are ignored.</param>
    /// <exception cref="ArgumentException">The name is none of the accepted forms.</exception>
    public static string Normalize(string name)
    {
        string value = name?.Trim().ToLowerInvariant() ?? "";
        if (value is Auto or "cpu" or "cuda")
        {
            return value;
        }

        if (value.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(value.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            && index <= 1023)
        {
            return $"cuda:{index.ToString(CultureInfo.InvariantCulture)}";
        }

        throw new ArgumentException($"Unknown device '{name}': use auto, cpu, cuda or cuda:N (N = 0, 1, ...).");
    }

    /// <summary>Resolves a device name against the CUDA devices this process can use.</summary>
    /// <param name="name">
    /// <c>auto</c> (CUDA device 0 when CUDA is usable, else the CPU), <c>cpu</c>, <c>cuda</c> (device 0) or
    /// <c>cuda:N</c>.
    /// </param>
    /// <returns>The TorchSharp device to move the model to.</returns>
    /// <exception cref="ArgumentException">
    /// The name is unknown, CUDA was requested but is not usable (the message is <see cref="CudaUnavailableMessage"/>),
    /// or the requested CUDA device index is not visible.
    /// </exception>
    public static torch.Device Resolve(string name)
    {
        string canonical = Normalize(name);
        bool cuda = canonical != "cpu" && torch.cuda.is_available();
        return torch.device(Choose(canonical, cuda, cuda ? torch.cuda.device_count() : 0));
    }

    /// <summary>The device string that <paramref name="name"/> selects, given what CUDA offers.</summary>
    internal static string Choose(string name, bool cudaAvailable, int cudaDeviceCount)
    {
        string canonical = Normalize(name);
        bool usable = cudaAvailable && cudaDeviceCount > 0;
        switch (canonical)
        {
            case "cpu":
                return "cpu";
            case Auto:
                return usable ? "cuda:0" : "cpu";
        }

        if (!usable)
        {
            throw new ArgumentException(CudaUnavailableMessage);
        }

        int index = canonical == "cuda" ? 0 : int.Parse(canonical.AsSpan(5), CultureInfo.InvariantCulture);
        if (index >= cudaDeviceCount)
        {
            throw new ArgumentException(
                $"Device {canonical} was requested but only {cudaDeviceCount} CUDA device(s) are visible: use cuda:0 to cuda:{cudaDeviceCount - 1}.");
        }

        return $"cuda:{index.ToString(CultureInfo.InvariantCulture)}";
    }
}
