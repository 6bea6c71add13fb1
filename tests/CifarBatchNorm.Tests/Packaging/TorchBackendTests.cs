using System.Text.Json;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Packaging;

/// <summary>
/// The -p:TorchBackend switch, checked by MSBuild evaluation alone (dotnet msbuild -getItem), so the CUDA packages
/// need not be restorable here.
/// </summary>
public sealed class TorchBackendTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private static string Cli => RepositoryRoot.Combine("src", "CifarBatchNorm.Cli", "CifarBatchNorm.Cli.csproj");

    private static string Library => RepositoryRoot.Combine("src", "CifarBatchNorm", "CifarBatchNorm.csproj");

    [Theory]
    [InlineData(null, "TorchSharp-cpu")]
    [InlineData("cpu", "TorchSharp-cpu")]
    [InlineData("cuda-linux", "TorchSharp-cuda-linux")]
    [InlineData("cuda-windows", "TorchSharp-cuda-windows")]
    public void App_references_the_backend_package_that_TorchBackend_names(string? backend, string expected)
    {
        var torchPackages = PackageReferences(Cli, backend).Where(p => p.StartsWith("TorchSharp", StringComparison.Ordinal)).ToList();

        Assert.Equal([expected], torchPackages);
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("cuda-linux")]
    [InlineData("cuda-windows")]
    public void Library_references_TorchSharp_and_no_backend_whatever_the_backend(string backend) =>
        Assert.Equal(
            ["Google.Protobuf", "Grpc.Tools", "PureHDF", "SkiaSharp", "SkiaSharp.NativeAssets.Linux.NoDependencies", "TorchSharp"],
            PackageReferences(Library, backend).Order(StringComparer.Ordinal));

    [Fact]
    public void Unknown_backend_stops_the_build_naming_the_value_and_the_choices()
    {
        var result = DotnetCli.Run(RepositoryRoot.Path, ["msbuild", Cli, "-t:CheckTorchBackend", "-p:TorchBackend=rocm", "-nologo"], Timeout);

        Assert.True(result.ExitCode != 0, result.Transcript);
        Assert.Contains("TorchBackend 'rocm' is not known: use cpu, cuda-linux or cuda-windows (for example -p:TorchBackend=cuda-linux).",
            result.Output + result.Error);
    }

    [Fact]
    public void Known_backend_passes_the_check()
    {
        var result = DotnetCli.Run(RepositoryRoot.Path, ["msbuild", Cli, "-t:CheckTorchBackend", "-p:TorchBackend=cuda-linux", "-nologo"], Timeout);

        Assert.True(result.ExitCode == 0, result.Transcript);
    }

    private static List<string> PackageReferences(string project, string? backend)
    {
        List<string> args = ["msbuild", project, "-getItem:PackageReference", "-nologo"];
        if (backend is not null)
        {
            args.Add($"-p:TorchBackend={backend}");
        }

        var result = DotnetCli.Run(RepositoryRoot.Path, args, Timeout);
        Assert.True(result.ExitCode == 0, result.Transcript);
        using var json = JsonDocument.Parse(result.Output);
        return json.RootElement.GetProperty("Items").GetProperty("PackageReference").EnumerateArray()
            .Select(item => item.GetProperty("Identity").GetString()!)
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}
