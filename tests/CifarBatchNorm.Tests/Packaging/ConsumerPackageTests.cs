using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using CifarBatchNorm.Build;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Packaging;

/// <summary>
/// The NuGet package as a user gets it: its content and metadata, and a fresh console project outside the
/// repository that references it by id and version, restores, builds, gets the native-load fix and trains.
/// </summary>
public sealed class ConsumerPackageTests(PackedLibrary packed) : IClassFixture<PackedLibrary>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    private const string Program = """
        using System.Globalization;
        using CifarBatchNorm.Data;
        using CifarBatchNorm.Layers;
        using CifarBatchNorm.Runtime;
        using CifarBatchNorm.Training;
        using TorchSharp;

        TorchRuntime.Initialize();
        torch.manual_seed(7);
        var (train, test) = SyntheticImages.Generate(new SyntheticOptions
        {
            Shape = new ImageShape(8, 8, 1), TrainCount = 256, TestCount = 64, Seed = 7,
        });
        using var model = new Sequential(train.Shape);
        model.Add(new Conv2D(4, 3, padding: ConvPadding.Same, activation: ActivationFunction.Relu));
        model.Add(new BatchNormalization());
        model.Add(new Flatten());
        model.Add(new Dense(10, activation: ActivationFunction.Softmax));
        model.MoveTo(DeviceSelector.Resolve("auto"));
        model.Compile(new Adam());
        var history = model.Fit(train, batchSize: 32, epochs: 2, verbose: 2, validationData: test);
        var result = model.Evaluate(test);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"consumer: epochs={history.Epochs.Count} accuracy={result.Accuracy:F4} loss={result.Loss:F4} samples={result.Samples}"));
        """;

    [Fact]
    public void Pack_produces_the_package_and_its_symbols()
    {
        Assert.True(packed.Package is not null, packed.PackResult.Transcript);
        Assert.True(File.Exists(Path.ChangeExtension(packed.Package!, ".snupkg")), "no .snupkg next to the .nupkg");
        Assert.StartsWith("0.1.0-" + packed.VersionSuffix, packed.Version, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"warning [A-Z]+\d+", packed.PackResult.Output);
    }

    [Fact]
    public void Package_holds_the_library_docs_native_load_fix_and_readme()
    {
        Assert.True(packed.Package is not null, packed.PackResult.Transcript);
        using var zip = ZipFile.OpenRead(packed.Package!);
        var entries = zip.Entries.Select(e => e.FullName).ToList();

        foreach (string expected in new[]
        {
            "lib/net10.0/CifarBatchNorm.dll", "lib/net10.0/CifarBatchNorm.xml",
            "buildTransitive/CifarBatchNorm.targets", "buildTransitive/LibTorchSharpPatch.cs", "README.md",
        })
        {
            Assert.Contains(expected, entries);
        }

        Assert.DoesNotContain(entries, e => e.EndsWith(".pdb", StringComparison.Ordinal));   // symbols go to the .snupkg
        Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal) && !e.StartsWith("lib/net10.0/CifarBatchNorm.", StringComparison.Ordinal));
    }

    [Fact]
    public void Package_metadata_names_license_readme_tags_and_depends_on_TorchSharp_and_Protobuf_only()
    {
        Assert.True(packed.Package is not null, packed.PackResult.Transcript);
        var metadata = Metadata(packed.Package!, "CifarBatchNorm.nuspec");
        string Value(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";

        Assert.Equal("CifarBatchNorm", Value("id"));
        Assert.Equal(packed.Version, Value("version"));
        Assert.Equal("MIT", Value("license"));
        Assert.Equal("README.md", Value("readme"));
        Assert.False(string.IsNullOrWhiteSpace(Value("authors")));
        Assert.False(string.IsNullOrWhiteSpace(Value("description")));
        Assert.Contains("TorchSharp", Value("tags"), StringComparison.Ordinal);
        // Protobuf for ONNX and TensorBoard files, HDF5 and image decoding for interop; no ScottPlot (plots are in
        // CifarBatchNorm.Reporting), no TorchSharp-* backend (Grpc.Tools is build-only).
        Assert.Equal(["Google.Protobuf 3.36.2", "PureHDF 2.2.0", "SkiaSharp 3.119.4", "SkiaSharp.NativeAssets.Linux.NoDependencies 3.119.4", "TorchSharp 0.107.0"], Dependencies(metadata).Order(StringComparer.Ordinal));
        // The package's README names every dependency the nuspec lists, and says how to install a prerelease from a local feed.
        string readme = File.ReadAllText(RepositoryRoot.Combine("src", "CifarBatchNorm", "PACKAGE.md"));
        Assert.All(Dependencies(metadata).Select(d => d.Split(' ')[0]), id => Assert.Contains($"`{id}`", readme, StringComparison.Ordinal));
        Assert.Contains("dotnet pack src/CifarBatchNorm -c Release -o ~/local-nuget", readme, StringComparison.Ordinal);
        Assert.Contains("dotnet add package CifarBatchNorm --prerelease", readme, StringComparison.Ordinal);
        Assert.DoesNotContain(metadata.Elements(), e => e.Name.LocalName == "projectUrl");   // no remote here and none given: no placeholder URL
        Assert.DoesNotContain(metadata.Elements().Where(e => e.Name.LocalName == "repository"), e => e.Attribute("url") is not null);
    }

    [Fact]
    public void Reporting_package_holds_the_plots_and_depends_on_the_same_library_version_and_ScottPlot()
    {
        Assert.True(packed.ReportingPackage is not null, packed.ReportingPackResult.Transcript);
        using (var zip = ZipFile.OpenRead(packed.ReportingPackage!))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("lib/net10.0/CifarBatchNorm.Reporting.dll", entries);
            Assert.Contains("lib/net10.0/CifarBatchNorm.Reporting.xml", entries);
            Assert.DoesNotContain("lib/net10.0/CifarBatchNorm.dll", entries);   // the library comes as a dependency
        }

        var metadata = Metadata(packed.ReportingPackage!, "CifarBatchNorm.Reporting.nuspec");
        string Value(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";
        Assert.Equal(packed.Version, Value("version"));
        Assert.Equal("MIT", Value("license"));
        Assert.Equal("README.md", Value("readme"));
        Assert.Equal([$"CifarBatchNorm {packed.Version}", "ScottPlot 5.1.59"], Dependencies(metadata));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Package_readme_works_on_a_package_page_with_absolute_links_and_no_images(bool reporting)
    {
        string? package = reporting ? packed.ReportingPackage : packed.Package;
        Assert.True(package is not null, packed.PackResult.Transcript + packed.ReportingPackResult.Transcript);
        using var zip = ZipFile.OpenRead(package!);
        using var reader = new StreamReader(zip.GetEntry("README.md")!.Open());
        string readme = reader.ReadToEnd();

        Assert.StartsWith(reporting ? "# CifarBatchNorm.Reporting\n" : "# CifarBatchNorm\n", readme, StringComparison.Ordinal);
        Assert.DoesNotContain("![", readme, StringComparison.Ordinal);
        var links = Regex.Matches(readme, @"\]\((?<target>[^)]*)\)").Select(m => m.Groups["target"].Value).ToList();
        Assert.NotEmpty(links);
        Assert.All(links, l => Assert.StartsWith("https://", l, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_build_gets_a_prerelease_version_from_git_or_the_CI_build_number()
    {
        string project = RepositoryRoot.Combine("src", "CifarBatchNorm", "CifarBatchNorm.csproj");
        CommandResult Version(params string[] extra) => DotnetCli.Run(RepositoryRoot.Path,
            ["msbuild", project, "-t:CifarBatchNormVersion", "-getProperty:Version", "-nologo", .. extra], Timeout);

        var fromGit = Version();
        var fromCi = Version("-p:BuildNumber=1234");
        var release = Version("-p:ReleaseBuild=true");

        Assert.True(fromGit.ExitCode == 0, fromGit.Transcript);
        Assert.Matches(@"^0\.1\.0-dev\.\d+\.g[0-9a-f]{7}$", fromGit.Output.Trim());
        Assert.Equal("0.1.0-ci.1234", fromCi.Output.Trim());
        Assert.Equal("0.1.0", release.Output.Trim());
    }

    [Fact]
    public void A_build_of_a_version_tag_gets_the_tags_stable_version_and_the_commit_after_it_a_prerelease()
    {
        // A scratch repository with the repository's versioning files and an empty project, so no tag touches this one.
        using var temp = new TempDirectory();
        foreach (string file in new[] { "Directory.Build.props", "Directory.Build.targets" })
        {
            File.Copy(RepositoryRoot.Combine(file), temp.Combine(file));
        }

        File.WriteAllText(temp.Combine("Probe.csproj"), "<Project Sdk=\"Microsoft.NET.Sdk\" />");
        int Git(params string[] arguments)
        {
            var start = new System.Diagnostics.ProcessStartInfo("git") { WorkingDirectory = temp.Path, UseShellExecute = false };
            foreach (string argument in (string[])["-c", "user.name=test", "-c", "user.email=test@example.com", .. arguments])
            {
                start.ArgumentList.Add(argument);
            }

            using var git = System.Diagnostics.Process.Start(start)!;
            git.WaitForExit();
            return git.ExitCode;
        }

        CommandResult Version(params string[] extra) =>
            DotnetCli.Run(temp.Path, ["msbuild", "Probe.csproj", "-t:CifarBatchNormVersion", "-getProperty:Version", "-nologo", .. extra], Timeout);
        Assert.Equal(0, Git("init", "-q"));
        Assert.Equal(0, Git("add", "."));
        Assert.Equal(0, Git("commit", "-q", "-m", "probe"));
        Assert.Equal(0, Git("tag", "v1.4.2"));

        var tagged = Version();
        Assert.True(tagged.ExitCode == 0, tagged.Transcript);
        Assert.Equal("1.4.2", tagged.Output.Trim());
        Assert.Equal("0.1.0-ci.7", Version("-p:VersionSuffix=ci.7").Output.Trim());   // an explicit suffix still wins

        Assert.Equal(0, Git("commit", "-q", "--allow-empty", "-m", "after the release"));
        Assert.Matches(@"^0\.1\.0-dev\.2\.g[0-9a-f]{7}$", Version().Output.Trim());
    }

    [Fact]
    public void Fresh_console_project_restores_the_package_builds_with_the_native_load_fix_and_trains()
    {
        Assert.True(OperatingSystem.IsLinux(), "checks the Linux native-load fix");
        Assert.True(packed.Package is not null, packed.PackResult.Transcript);
        string project = packed.Scratch("consumer");
        WriteConsumerProject(project, packed.Feed, NuGetConfiguration.RegistrySource(), packed.Version);

        var build = DotnetCli.Run(project, ["build", "-c", "Release", "-nodeReuse:false", "-nologo"], Timeout);
        Assert.True(build.ExitCode == 0, build.Transcript);
        string output = Path.Combine(project, "bin", "Release", "net10.0");
        string native = Path.Combine(output, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(native), $"{native} missing: the TorchSharp-cpu native files were not copied.");
        Assert.True(IsWeak(native), "the buildTransitive target did not patch the output copy of libLibTorchSharp.so");
        string cached = Path.Combine(NuGetConfiguration.GlobalPackagesFolder, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (File.Exists(cached))
        {
            Assert.False(IsWeak(cached), "the NuGet cache copy of libLibTorchSharp.so was modified");
        }

        var run = DotnetCli.Run(project, [Path.Combine(output, "Consumer.dll")], Timeout);

        Assert.True(run.ExitCode == 0, run.Transcript);
        Assert.Contains("Epoch 2/2", run.Output);
        Assert.Matches(@"consumer: epochs=2 accuracy=[01]\.\d{4} loss=\d+\.\d{4} samples=64", run.Output);
    }

    [Fact]
    public void Readme_quick_start_compiles_against_the_package_as_written()
    {
        Assert.True(packed.Package is not null, packed.PackResult.Transcript);
        string project = packed.Scratch("quickstart");
        WriteConsumerProject(project, packed.Feed, NuGetConfiguration.RegistrySource(), packed.Version, ReadmeQuickStart());

        var build = DotnetCli.Run(project, ["build", "-c", "Release", "-nodeReuse:false", "-nologo"], Timeout);

        Assert.True(build.ExitCode == 0, build.Transcript);
    }

    /// <summary>The first C# block of the README's "The library" section, exactly as a reader copies it.</summary>
    private static string ReadmeQuickStart()
    {
        string readme = File.ReadAllText(RepositoryRoot.Combine("README.md"));
        int section = readme.IndexOf("\n## The library", StringComparison.Ordinal);
        Assert.True(section >= 0, "README has no '## The library' section");
        int start = readme.IndexOf("```csharp\n", section, StringComparison.Ordinal) + "```csharp\n".Length;
        int end = readme.IndexOf("```", start, StringComparison.Ordinal);
        Assert.True(start > section && end > start, "no C# block in the README's '## The library' section");
        return readme[start..end];
    }

    private static XElement Metadata(string package, string nuspec)
    {
        using var zip = ZipFile.OpenRead(package);
        using var stream = zip.GetEntry(nuspec)!.Open();
        return XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    private static List<string> Dependencies(XElement metadata) =>
        metadata.Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => $"{e.Attribute("id")?.Value} {e.Attribute("version")?.Value}").ToList();

    private static bool IsWeak(string library)
    {
        byte[] image = File.ReadAllBytes(library);
        long offset = LibTorchSharpPatch.FindFlagsOffset(image, LibTorchSharpPatch.VersionName);
        Assert.True(offset >= 0, $"{library} has no {LibTorchSharpPatch.VersionName} requirement: another TorchSharp build?");
        return (image[offset] & LibTorchSharpPatch.VerFlagWeak) != 0;
    }

    /// <summary>
    /// A console project that sees nothing of the repository: its own nuget.config (the local feed and the
    /// machine's registry), empty Directory.Build.* files and no central package management.
    /// </summary>
    private static void WriteConsumerProject(string folder, string feed, string registry, string version, string program = Program)
    {
        File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="registry" value="{registry}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(folder, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(folder, "Directory.Build.targets"), "<Project />\n");
        File.WriteAllText(Path.Combine(folder, "Directory.Packages.props"), """
            <Project>
              <PropertyGroup>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="CifarBatchNorm" Version="{version}" />
                <PackageReference Include="TorchSharp-cpu" Version="0.107.0" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), program);
    }
}
