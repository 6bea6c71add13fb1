using CifarBatchNorm.Build;
using CifarBatchNorm.Tests.Support;
using TorchSharp;

namespace CifarBatchNorm.Tests.Build;

public sealed class LibTorchSharpPatchTests
{
    private static string OutputCopy => Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    private static string PackageOriginal
    {
        get
        {
            string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            return Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        }
    }

    [Fact]
    public void The_output_copy_has_the_requirement_weak_and_every_other_byte_unchanged()
    {
        Assert.True(OperatingSystem.IsLinux(), "the patch applies to Linux builds");
        byte[] original = File.ReadAllBytes(PackageOriginal);
        byte[] patched = File.ReadAllBytes(OutputCopy);
        long flags = LibTorchSharpPatch.FindFlagsOffset(original, LibTorchSharpPatch.VersionName);

        Assert.True(flags > 0, "the package's libLibTorchSharp.so requires GLIBCXX_3.4.32");
        Assert.Equal(0, original[flags] & LibTorchSharpPatch.VerFlagWeak);   // the package cache is untouched
        Assert.Equal(original.Length, patched.Length);
        Assert.Equal(LibTorchSharpPatch.VerFlagWeak, patched[flags] & LibTorchSharpPatch.VerFlagWeak);
        var differences = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToArray();
        Assert.Equal([flags], differences.Select(i => (long)i));
    }

    [Fact]
    public void Patching_is_idempotent_and_a_no_op_on_files_that_do_not_need_it()
    {
        using var temp = new TempDirectory();
        string copy = temp.Combine("libLibTorchSharp.so");
        File.Copy(PackageOriginal, copy);
        string other = temp.Combine("not-elf.so");
        File.WriteAllBytes(other, [1, 2, 3, 4, 5, 6, 7, 8]);

        Assert.Equal(PatchOutcome.Patched, LibTorchSharpPatch.Apply(copy));
        byte[] once = File.ReadAllBytes(copy);
        Assert.Equal(PatchOutcome.AlreadyPatched, LibTorchSharpPatch.Apply(copy));
        Assert.Equal(once, File.ReadAllBytes(copy));
        Assert.Equal(once, File.ReadAllBytes(OutputCopy));
        Assert.Equal(PatchOutcome.NotNeeded, LibTorchSharpPatch.Apply(other));
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], File.ReadAllBytes(other));
        string libc = new[] { "/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6" }.First(File.Exists);
        File.Copy(libc, temp.Combine("libc.so.6"));
        Assert.Equal(PatchOutcome.NotNeeded, LibTorchSharpPatch.Apply(temp.Combine("libc.so.6")));
        Assert.Empty(Directory.GetFiles(temp.Path, "*.patching"));
    }

    [Fact]
    public void TorchSharp_loads_and_computes()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new float[] { 0, 1, 2, 3, 4, 5 }).reshape(2, 3);

        Assert.Equal(15f, x.sum().item<float>());
        Assert.Equal([3f, 5f, 7f], x.sum(dim: 0).data<float>().ToArray());
    }
}
