using System.CommandLine;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Runtime;

namespace CifarBatchNorm.Cli;

/// <summary>The <c>bench</c> command: runs <see cref="Benchmark"/>, prints its table and writes bench.json.</summary>
internal static class BenchCommand
{
    public static CliCommand Create(CliSession cli)
    {
        var stdout = cli.Stdout;
        var quick = new Option<bool>("--quick") { Description = "Small counts (a smoke run; the numbers mean little)" };
        var repeats = CliOptions.Int("--repeats", 3, BenchmarkOptions.RepeatsRange, "Repeats of every case");
        var cases = new Option<string>("--cases")
        {
            Description = $"Comma-separated cases: {string.Join(", ", BenchmarkOptions.AllCases.Select(BenchmarkOptions.CaseName))}",
            DefaultValueFactory = _ => string.Join(',', BenchmarkOptions.AllCases.Select(BenchmarkOptions.CaseName)),
            Validators =
            {
                r =>
                {
                    string? bad = SplitCases(r.GetValueOrDefault<string>() ?? "").FirstOrDefault(c => !BenchmarkOptions.AllCases.Select(BenchmarkOptions.CaseName).Contains(c));
                    if (bad is not null)
                    {
                        r.AddError($"--cases: unknown case '{bad}'; use {string.Join(", ", BenchmarkOptions.AllCases.Select(BenchmarkOptions.CaseName))}.");
                    }
                },
            },
        };
        var full = new Option<bool>("--full-memory-run") { Description = "Memory case as the full run: 10 epochs of 50,000 + 10,000 images" };
        var threads = CliOptions.OptionalInt("--threads", TrainConfig.ThreadsRange, "Intra-op threads (default: all cores)");
        var profile = new Option<bool>("--profile") { Description = "Also split one training step by layer and pass (forward, backward, optimizer), unfused and fused" };
        var fused = new Option<bool>("--fused-kernels") { Description = "Run the cases with the fused ReLU + batch-norm (+ pooling) kernels on every thread, a one-pass Adam, channels-last, oneDNN AVX-512 convolutions" };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the JSON results", DefaultValueFactory = _ => "bench.json" };
        var command = new CliCommand("bench", "Measure training step, epoch overhead, evaluation, memory and data loading on synthetic data.", stopsGracefully: false)
        {
            quick, repeats, cases, full, threads, profile, fused, output,
        };
        command.SetAction(result =>
        {
            var options = new BenchmarkOptions
            {
                Quick = result.GetValue(quick),
                Repeats = result.GetValue(repeats),
                Cases = SplitCases(result.GetValue(cases)!).Select(BenchmarkOptions.ParseCase).ToArray(),
                FullMemoryRun = result.GetValue(full),
                Profile = result.GetValue(profile),
            };
            var measured = Benchmark.Run(cli.Session, options);
            stdout.WriteLine($"{measured.Machine}; {measured.Threads} threads, OpenMP wait {measured.OmpWaitPolicy}, allocator {System.Text.Json.JsonSerializer.Serialize(measured.Allocator).Trim('"')}");
            stdout.WriteLine($"Execution: {measured.Execution}");
            measured.WriteTable(stdout);
            string path = Path.GetFullPath(result.GetValue(output)!);
            IO.AtomicFile.WriteAllText(path, measured.ToJson() + "\n");
            stdout.WriteLine($"Wrote {path}");
            return ExitCodes.Success;
        });
        return command;
    }

    private static string[] SplitCases(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
