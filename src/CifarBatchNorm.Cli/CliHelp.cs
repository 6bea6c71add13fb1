using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace CifarBatchNorm.Cli;

/// <summary>
/// What <c>--help</c> adds after System.CommandLine's option list: short examples for the command, and (on the root
/// and train help) the environment variables the tool reads.
/// </summary>
internal static class CliHelp
{
    /// <summary>Examples per command; the key "" is the root command.</summary>
    internal static readonly IReadOnlyDictionary<string, string[]> Examples = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [""] =
        [
            "cifar-bn                                          train the notebook's model (CIFAR-10, else Fashion-MNIST, else synthetic)",
            "cifar-bn --dataset fashion-mnist --epochs 3       a named dataset, 3 epochs",
            "cifar-bn --epochs 2 --train-limit 2000            a quick run on 2,000 images",
            "cifar-bn summary                                  print the model as Keras does",
            "cifar-bn evaluate -w runs/fashion-mnist-20260101-120000",
            "cifar-bn compare --variants bn,none --seeds 3     BN against no BN, 3 seeds each",
            "cifar-bn bench                                    time training steps and inference",
        ],
        ["train"] =
        [
            "cifar-bn train --dataset cifar10 --epochs 10 -o runs/notebook",
            "cifar-bn train --variant renorm --batch-size 8 --train-limit 5000",
            "cifar-bn train --early-stopping-patience 3 --checkpoint-best --tensorboard runs/tb",
            "cifar-bn train --resume runs/notebook               continue an interrupted run",
        ],
        ["summary"] = ["cifar-bn summary --input-shape 28x28x1 --variant bn-before-relu"],
        ["evaluate"] = ["cifar-bn evaluate --weights runs/notebook", "cifar-bn evaluate -w runs/notebook/best.pt --device cpu"],
        ["download"] = ["cifar-bn download", "cifar-bn download --data-dir /data/cifar --url https://mirror.example/cifar-10-binary.tar.gz"],
        ["compare"] = ["cifar-bn compare --variants bn,none,bn-before-relu,renorm --seeds 3 --epochs 10 --dataset fashion-mnist"],
        ["analyze"] = ["cifar-bn analyze --variants bn,none --dataset fashion-mnist --train-limit 20000 --probe-every 50"],
        ["bench"] = ["cifar-bn bench", "cifar-bn bench --threads 1"],
    };

    /// <summary>The environment variables the tool reads, and what each does.</summary>
    internal static readonly (string Name, string Meaning)[] EnvironmentVariables =
    [
        (Experiments.DatasetSelector.DataDirVariable, "folder for CIFAR-10 when --data-dir is not given (default ~/.cache/cifar-batchnorm)"),
        (Data.Download.DownloadOptions.UrlVariable, "mirror of cifar-10-binary.tar.gz when --url is not given"),
        (Runtime.TorchRuntime.AllocatorVariable, "unset: jemalloc where installed; glibc: tuned glibc malloc; default: untouched glibc"),
        (JemallocLauncher.LibraryVariable, "path of libjemalloc.so.2 when it is not in the usual library folders"),
        (Runtime.TorchRuntime.OneDnnIsaVariable, "oneDNN instruction set cap (default AVX2: its AVX-512 kernels gave wrong gradients)"),
        (Runtime.TorchRuntime.OmpWaitPolicyVariable, "ACTIVE or PASSIVE: idle OpenMP threads spin or sleep (default: PASSIVE on busy cores)"),
        (Runtime.TorchRuntime.OmpSpinCountVariable, "rounds an idle OpenMP thread spins before it sleeps (default: libgomp's 300000; 10000 with --fused-kernels)"),
    ];

    /// <summary>Makes every command's <c>--help</c> end with its examples and the environment variables.</summary>
    public static void AddTo(RootCommand root)
    {
        ArgumentNullException.ThrowIfNull(root);
        foreach (var help in root.Options.OfType<HelpOption>())
        {
            if (help.Action is HelpAction standard)
            {
                help.Action = new WithExamples(standard);
            }
        }
    }

    /// <summary>Whether <paramref name="parsed"/> asks for help (then parse errors such as a missing required option do not apply).</summary>
    public static bool IsHelp(ParseResult parsed) => parsed.Action is WithExamples or HelpAction;

    /// <summary>The text that follows the option list for <paramref name="command"/>.</summary>
    internal static string Epilogue(Command command)
    {
        string key = command is RootCommand ? "" : command.Name;
        var text = new System.Text.StringBuilder();
        if (Examples.TryGetValue(key, out var examples))
        {
            text.AppendLine("Examples:");
            foreach (string example in examples)
            {
                text.Append("  ").AppendLine(example);
            }
        }

        if (key is "" or "train")
        {
            text.AppendLine().AppendLine("Environment variables:");
            int width = EnvironmentVariables.Max(v => v.Name.Length);
            foreach (var (name, meaning) in EnvironmentVariables)
            {
                text.Append("  ").Append(name.PadRight(width + 2)).AppendLine(meaning);
            }
        }

        return text.ToString();
    }

    private sealed class WithExamples(HelpAction standard) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            int code = standard.Invoke(parseResult);
            var output = parseResult.InvocationConfiguration.Output;
            output.Write(Epilogue(parseResult.CommandResult.Command));
            output.WriteLine();
            return code;
        }
    }
}
