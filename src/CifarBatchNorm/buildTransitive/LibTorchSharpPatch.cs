// Makes TorchSharp's native wrapper load on Linux systems whose libstdc++ predates GCC 13
// (Debian 12, Ubuntu 22.04). libLibTorchSharp.so asks for symbol version GLIBCXX_3.4.32 for a
// single marker symbol it never calls; marking that one requirement weak (VER_FLG_WEAK) in the
// .gnu.version_r section lets the dynamic loader accept an older libstdc++. Nothing else in the
// file changes. This file is compiled both by MSBuild (as an inline task, against netstandard
// reference assemblies: hence plain arrays, no spans) and by the tests.
using System;
using System.IO;
using System.Text;

namespace CifarBatchNorm.Build
{
    /// <summary>What <see cref="LibTorchSharpPatch.Apply"/> did to a file.</summary>
    public enum PatchOutcome
    {
        /// <summary>The requirement was strong and is now weak.</summary>
        Patched,
        /// <summary>The requirement was already weak: nothing written.</summary>
        AlreadyPatched,
        /// <summary>The file has no such requirement (another build, or not ELF64): nothing written.</summary>
        NotNeeded,
    }

    /// <summary>Marks one symbol-version requirement weak in an ELF64 little-endian shared object.</summary>
    public static class LibTorchSharpPatch
    {
        /// <summary>The version whose requirement is made weak.</summary>
        public const string VersionName = "GLIBCXX_3.4.32";

        /// <summary>ELF flag bit of a weak version requirement.</summary>
        public const ushort VerFlagWeak = 0x2;

        private const uint ShtGnuVerneed = 0x6ffffffe;

        /// <summary>
        /// Finds the byte offset of the <c>vna_flags</c> field of the Vernaux entry named
        /// <paramref name="versionName"/>, or -1 when the image has none.
        /// </summary>
        public static long FindFlagsOffset(byte[] image, string versionName)
        {
            if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F'
                || image[4] != 2 /* ELFCLASS64 */ || image[5] != 1 /* little-endian */)
            {
                return -1;
            }

            long shoff = (long)U64(image, 0x28);
            int shentsize = U16(image, 0x3A);
            int shnum = U16(image, 0x3C);
            if (shoff <= 0 || shentsize < 64 || shoff + (long)shentsize * shnum > image.Length)
            {
                return -1;
            }

            for (int i = 0; i < shnum; i++)
            {
                long sh = shoff + (long)i * shentsize;
                if (U32(image, sh + 4) != ShtGnuVerneed)
                {
                    continue;
                }

                long offset = (long)U64(image, sh + 0x18);
                int link = (int)U32(image, sh + 0x28);
                int count = (int)U32(image, sh + 0x2C); // sh_info = number of Verneed entries
                if (link >= shnum)
                {
                    return -1;
                }

                long strtab = shoff + (long)link * shentsize;
                long strOffset = (long)U64(image, strtab + 0x18);
                long strSize = (long)U64(image, strtab + 0x20);

                long need = offset;
                for (int n = 0; n < count && need + 16 <= image.Length; n++)
                {
                    int auxCount = U16(image, need + 2);
                    long aux = need + U32(image, need + 8);
                    for (int a = 0; a < auxCount && aux + 16 <= image.Length; a++)
                    {
                        uint nameOffset = U32(image, aux + 8);
                        if (nameOffset < strSize && NameEquals(image, strOffset + nameOffset, versionName))
                        {
                            return aux + 4;
                        }

                        uint nextAux = U32(image, aux + 12);
                        if (nextAux == 0)
                        {
                            break;
                        }

                        aux += nextAux;
                    }

                    uint next = U32(image, need + 12);
                    if (next == 0)
                    {
                        break;
                    }

                    need += next;
                }
            }

            return -1;
        }

        /// <summary>
        /// Marks the <see cref="VersionName"/> requirement of <paramref name="path"/> weak. The new
        /// content goes to a temporary file that replaces the original by rename, so a hard link into
        /// a package cache is never written through and a crash leaves the old file whole.
        /// </summary>
        public static PatchOutcome Apply(string path)
        {
            byte[] image = File.ReadAllBytes(path);
            long flagsOffset = FindFlagsOffset(image, VersionName);
            if (flagsOffset < 0)
            {
                return PatchOutcome.NotNeeded;
            }

            ushort flags = U16(image, flagsOffset);
            if ((flags & VerFlagWeak) != 0)
            {
                return PatchOutcome.AlreadyPatched;
            }

            image[flagsOffset] = (byte)(flags | VerFlagWeak);
            string temp = path + ".patching";
            File.WriteAllBytes(temp, image);
            File.Replace(temp, path, null);
            return PatchOutcome.Patched;
        }

        private static bool NameEquals(byte[] image, long at, string name)
        {
            byte[] bytes = Encoding.ASCII.GetBytes(name);
            if (at + bytes.Length >= image.Length)
            {
                return false;
            }

            for (int i = 0; i < bytes.Length; i++)
            {
                if (image[at + i] != bytes[i])
                {
                    return false;
                }
            }

            return image[at + bytes.Length] == 0;
        }

        private static ushort U16(byte[] b, long at) => (ushort)(b[at] | (b[at + 1] << 8));

        private static uint U32(byte[] b, long at) => U16(b, at) | ((uint)U16(b, at + 2) << 16);

        private static ulong U64(byte[] b, long at) => U32(b, at) | ((ulong)U32(b, at + 4) << 32);
    }

#if !CIFARBATCHNORM_NO_MSBUILD_TASK
    /// <summary>MSBuild task: applies <see cref="LibTorchSharpPatch"/> to each given file.</summary>
    public sealed class PatchLibTorchSharp : Microsoft.Build.Utilities.Task
    {
        /// <summary>The output copies of libLibTorchSharp.so.</summary>
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        /// <inheritdoc />
        public override bool Execute()
        {
            foreach (var item in Files)
            {
                string path = item.ItemSpec;
                try
                {
                    var outcome = LibTorchSharpPatch.Apply(path);
                    if (outcome == PatchOutcome.Patched)
                    {
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                            "CifarBatchNorm: marked {0} weak in {1} so TorchSharp loads with this system's libstdc++.",
                            LibTorchSharpPatch.VersionName, path);
                    }
                }
                catch (IOException e)
                {
                    Log.LogError("CifarBatchNorm: could not patch {0}: {1}", path, e.Message);
                }
                catch (UnauthorizedAccessException e)
                {
                    Log.LogError("CifarBatchNorm: could not patch {0}: {1}", path, e.Message);
                }
            }

            return !Log.HasLoggedErrors;
        }
    }
#endif
}
