using CifarBatchNorm.Cli;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Cli;

/// <summary>Messages that print a command print the one the user ran: <c>dotnet run --project ...</c> from a build of the repository, else <c>cifar-bn</c>.</summary>
public sealed class CliNameTests
{
    [Fact]
    public void A_build_in_the_projects_bin_folder_is_run_with_dotnet_run_from_the_current_folder()
    {
        using var temp = new TempDirectory();
        string project = temp.Combine("repo", "src", "CifarBatchNorm.Cli");
        string output = Path.Combine(project, "bin", "Release", "net10.0");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(project, CliName.ProjectFile), "<Project />");

        Assert.Equal("dotnet run --project src/CifarBatchNorm.Cli -c Release --", CliName.For(output + "/", temp.Combine("repo")));
        Assert.Equal("dotnet run --project ../src/CifarBatchNorm.Cli -c Release --", CliName.For(output, temp.Combine("repo", "runs")));
        Assert.Equal("dotnet run --project . -c Release --", CliName.For(output, project));
    }

    [Fact]
    public void The_configuration_is_the_builds_and_a_runtime_folder_below_the_framework_is_allowed()
    {
        using var temp = new TempDirectory();
        string project = temp.Combine("my repo", "src", "CifarBatchNorm.Cli");
        string output = Path.Combine(project, "bin", "Debug", "net10.0", "linux-x64");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(project, CliName.ProjectFile), "<Project />");

        Assert.Equal("dotnet run --project 'my repo/src/CifarBatchNorm.Cli' -c Debug --", CliName.For(output, temp.Path));
    }

    [Fact]
    public void The_installed_tool_and_a_published_copy_are_run_as_cifar_bn()
    {
        using var temp = new TempDirectory();
        string store = temp.Combine(".dotnet", "tools", ".store", "cifar-bn", "1.0.0", "cifar-bn", "1.0.0", "tools", "net10.0", "any");
        string published = temp.Combine("publish");
        string binWithoutProject = temp.Combine("elsewhere", "bin", "Release", "net10.0");
        foreach (string dir in new[] { store, published, binWithoutProject })
        {
            Directory.CreateDirectory(dir);
            Assert.Equal("cifar-bn", CliName.For(dir, temp.Path));
        }
    }

    [Fact]
    public void Every_printed_command_starts_with_the_prefix()
    {
        Assert.Equal($"{CliName.Prefix} train --resume runs/a", CliName.Command("train --resume runs/a"));
        Assert.Equal("cifar-bn", CliName.Prefix);   // the test host is no build of the CLI project
    }
}
