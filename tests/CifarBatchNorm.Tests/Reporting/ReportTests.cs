using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Reporting;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Reporting;

/// <summary>
/// The reports from hand-made results (no training): the single-file HTML report is well-formed XHTML holding every
/// plot inline, the tables and the config; titles name the dataset; file names and titles agree; the final-accuracy
/// plot is intervals, not bars.
/// </summary>
public sealed partial class ReportTests
{
    private static readonly XNamespace Xhtml = "http://www.w3.org/1999/xhtml";
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static CompareResult Compare()
    {
        var config = new CompareConfig
        {
            Variants = [NormalizationVariant.Bn, NormalizationVariant.None, NormalizationVariant.Renorm],
            Seeds = 3,
            Training = new TrainConfig { Dataset = DatasetKind.Auto, Epochs = 3, BatchSize = 64 },
        };
        var rows = new List<EpochResult>();
        string[] variants = ["bn", "none", "renorm"];
        for (int v = 0; v < variants.Length; v++)
        {
            for (int seed = 1; seed <= 3; seed++)
            {
                for (int epoch = 1; epoch <= 3; epoch++)
                {
                    double accuracy = 0.6 + 0.1 * epoch + 0.01 * v + 0.002 * seed;
                    rows.Add(new EpochResult(variants[v], seed, epoch, 1.0 / epoch, accuracy, 1.2 / epoch, accuracy - 0.05, 2.0));
                }
            }
        }

        return new CompareResult(config, "Using Fashion-MNIST from /usr/share/datasets/fashion-mnist (requested).", "test machine",
            rows, CompareRunner.Summarize(config, rows)) { DatasetName = "Fashion-MNIST" };
    }

    private static AnalyzeResult Analyze()
    {
        var config = new AnalyzeConfig { Training = new TrainConfig { Dataset = DatasetKind.Synthetic, Epochs = 1 } };
        var landscape = new Dictionary<string, IReadOnlyList<LandscapePoint>>
        {
            ["bn"] = [new(10, 0.5, 0.4, 0.6, 1, 2, 3, 1), new(20, 0.3, 0.25, 0.4, 1, 2, 3, 1)],
            ["none"] = [new(10, 50, 5, 500, 10, 20, 30, 1), new(20, 30, 3, 300, 10, 20, 30, 1)],
        };
        var drift = new Dictionary<string, IReadOnlyList<DriftPoint>>
        {
            ["bn"] = [new(10, 0, "conv2d", -1, 0, 1), new(10, 1, "conv2d_1", -2, 0, 2), new(20, 0, "conv2d", -1, 0, 1), new(20, 1, "conv2d_1", -2, 0, 2)],
            ["none"] = [new(10, 0, "conv2d", -3, 0, 3), new(10, 1, "conv2d_1", -4, 0, 4), new(20, 0, "conv2d", -3, 0, 3), new(20, 1, "conv2d_1", -4, 0, 4)],
        };
        return new AnalyzeResult(config, "Using the synthetic CIFAR-10-shaped set, seed 42 (requested).", "test machine", landscape, drift)
        {
            DatasetName = "synthetic",
        };
    }

    /// <summary>Parses <paramref name="path"/> strictly as XML (XHTML) and returns it.</summary>
    private static XDocument ParseXhtml(string path)
    {
        var document = XDocument.Load(path, LoadOptions.None);
        Assert.Equal(Xhtml + "html", document.Root!.Name);
        Assert.Equal("html", document.DocumentType?.Name);
        return document;
    }

    [Fact]
    public void Compare_html_report_is_well_formed_and_holds_every_plot_the_table_and_the_config()
    {
        using var temp = new TempDirectory();
        var result = Compare();

        CompareReport.Write(temp.Path, result);

        var html = ParseXhtml(temp.Combine("report.html"));
        var figures = html.Descendants(Xhtml + "figure").ToList();
        Assert.Equal(CompareReport.Plots, figures.Select(f => (string?)f.Attribute("id")));
        Assert.All(figures, f => Assert.Single(f.Elements(Svg + "svg")));
        Assert.DoesNotContain(html.Descendants(), e => e.Name.LocalName == "img");   // nothing to fetch: one file
        var rows = html.Descendants(Xhtml + "tbody").Single().Elements(Xhtml + "tr").ToList();
        Assert.Equal(["bn", "none", "renorm"], rows.Select(r => r.Elements(Xhtml + "td").First().Value));
        Assert.Contains("\"seeds\": 3", html.Descendants(Xhtml + "code").Single().Value, StringComparison.Ordinal);
        Assert.Contains("Fashion-MNIST", html.Descendants(Xhtml + "title").First().Value, StringComparison.Ordinal);

        // Inline SVGs share the page's id space: every id is unique and every reference points to an id of its own figure.
        var ids = html.Descendants().Select(e => (string?)e.Attribute("id")).OfType<string>().ToList();
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        foreach (var figure in figures)
        {
            var own = figure.Descendants().Select(e => (string?)e.Attribute("id")).OfType<string>().ToHashSet(StringComparer.Ordinal);
            var references = figure.Descendants().SelectMany(e => e.Attributes()).SelectMany(a => UrlReference().Matches(a.Value)).Select(m => m.Groups[1].Value);
            Assert.All(references, r => Assert.Contains(r, own));
        }

        Assert.Contains("[report.html](report.html)", File.ReadAllText(temp.Combine("report.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void Analysis_html_report_is_well_formed_and_holds_every_plot_with_drift_titles_matching_file_names()
    {
        using var temp = new TempDirectory();

        AnalysisReport.Write(temp.Path, Analyze());

        var html = ParseXhtml(temp.Combine("analysis.html"));
        var plots = Directory.GetFiles(temp.Path, "*.svg").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["beta_smoothness", "drift_relu0", "drift_relu1", "gradient_predictiveness", "loss_landscape"], plots);
        Assert.Equal(plots, html.Descendants(Xhtml + "figure").Select(f => (string?)f.Attribute("id")).Order(StringComparer.Ordinal));
        Assert.All(html.Descendants(Xhtml + "figure"), f => Assert.Single(f.Elements(Svg + "svg")));

        // drift_reluN is titled "ReLU N", in the chart, the HTML caption and the markdown.
        for (int r = 0; r < 2; r++)
        {
            Assert.Contains($"ReLU {r},", File.ReadAllText(temp.Combine($"drift_relu{r}.svg")), StringComparison.Ordinal);
            var figure = html.Descendants(Xhtml + "figure").Single(f => (string?)f.Attribute("id") == $"drift_relu{r}");
            Assert.Contains($"ReLU {r}:", figure.Element(Xhtml + "figcaption")!.Value, StringComparison.Ordinal);
            Assert.Contains($"![ReLU {r}](drift_relu{r}.png)", File.ReadAllText(temp.Combine("analysis.md")), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_chart_names_its_dataset_in_its_title()
    {
        using var temp = new TempDirectory();
        CompareReport.Write(temp.Combine("compare"), Compare());
        AnalysisReport.Write(temp.Combine("analyze"), Analyze());

        foreach (string svg in Directory.GetFiles(temp.Combine("compare"), "*.svg"))
        {
            Assert.True(File.ReadAllText(svg).Contains("Fashion-MNIST", StringComparison.Ordinal), $"{Path.GetFileName(svg)} does not name Fashion-MNIST");
        }

        foreach (string svg in Directory.GetFiles(temp.Combine("analyze"), "*.svg"))
        {
            Assert.True(File.ReadAllText(svg).Contains(", synthetic", StringComparison.Ordinal), $"{Path.GetFileName(svg)} does not name the synthetic set");
        }
    }

    [Fact]
    public void Final_accuracy_is_points_with_intervals_with_an_x_label_and_the_landscape_is_on_a_log_scale()
    {
        using var temp = new TempDirectory();
        CompareReport.Write(temp.Combine("compare"), Compare());
        AnalysisReport.Write(temp.Combine("analyze"), Analyze());

        string final = File.ReadAllText(temp.Combine("compare", "final_accuracy.svg"));
        Assert.Contains("normalization variant", final, StringComparison.Ordinal);
        Assert.Contains("95% CI", final, StringComparison.Ordinal);
        Assert.Contains("(log scale)", File.ReadAllText(temp.Combine("analyze", "loss_landscape.svg")), StringComparison.Ordinal);
        string report = File.ReadAllText(temp.Combine("compare", "report.md"));
        Assert.Contains("| n | final test accuracy | test acc. at best val. epoch |", report, StringComparison.Ordinal);   // mean ± 95% CI half-width
        Assert.Contains("bn (n=3)", final, StringComparison.Ordinal);
        Assert.Contains("Fashion-MNIST, i.i.d. batches of 64", final, StringComparison.Ordinal);
        Assert.Contains("clipped to [0, 1]", final, StringComparison.Ordinal);
        Assert.DoesNotContain("WARNING", final, StringComparison.Ordinal);
        Assert.Contains("the test set (used as validation, as in the notebook)", File.ReadAllText(temp.Combine("compare", "val_accuracy.svg")), StringComparison.Ordinal);
    }

    [Fact]
    public void Fewer_than_three_seeds_are_flagged_in_the_plot_and_the_table()
    {
        using var temp = new TempDirectory();
        var two = Compare();
        two = two with { Config = two.Config with { Seeds = 2 }, Epochs = two.Epochs.Where(e => e.Seed <= 2).ToList() };
        two = two with { Summaries = CompareRunner.Summarize(two.Config, two.Epochs) };

        CompareReport.Write(temp.Path, two);

        Assert.Contains("WARNING: n = 2 &lt; 3", File.ReadAllText(temp.Combine("final_accuracy.svg")), StringComparison.Ordinal);
        Assert.Contains("| bn | 0.001 | 64 | 2 (n < 3!) |", File.ReadAllText(temp.Combine("report.md")), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"url\(#([^)]+)\)")]
    private static partial Regex UrlReference();
}

/// <summary>The comparison report's "time per step" section, fed by a benchmark file in the folder.</summary>
public sealed class StepTimeReportTests
{
    [Fact]
    public void A_variant_step_benchmark_in_the_folder_turns_steps_to_the_loss_target_into_seconds()
    {
        using var temp = new TempDirectory();
        var config = new CompareConfig
        {
            Variants = [NormalizationVariant.Bn, NormalizationVariant.None, NormalizationVariant.BnMomentum09],
            Seeds = 1,
            Training = new TrainConfig { Dataset = DatasetKind.Synthetic, Epochs = 1 },
        };
        var rows = new List<EpochResult> { new("bn", 1, 1, 0.5, 0.8, 0.6, 0.7, 2), new("none", 1, 1, 0.6, 0.7, 0.7, 0.6, 2), new("bn-m09", 1, 1, 0.5, 0.8, 0.6, 0.7, 2) };
        var summaries = CompareRunner.Summarize(config, rows).Select(s => s.Variant == "none" ? s : s with { StepsToLossTargetMean = 400, SeedsReachingLossTarget = 1 }).ToList();
        var result = new CompareResult(config, "synthetic", "test machine", rows, summaries) { DatasetName = "synthetic" };
        var bench = new BenchmarkResult
        {
            Machine = "bench machine", Threads = 2, Allocator = CifarBatchNorm.Runtime.NativeAllocator.Jemalloc, Repeats = 5, BatchSize = 256,
            VariantStep28x28x1Ms = new Dictionary<string, TimingStats> { ["bn"] = TimingStats.From([30, 32.5, 35]), ["none"] = TimingStats.From([20, 21, 22]) },
        };
        File.WriteAllText(temp.Combine(CompareReport.BenchFile), JsonSerializer.Serialize(bench));

        CompareReport.Write(temp.Path, result);

        string report = File.ReadAllText(temp.Combine("report.md"));
        Assert.Contains("### Time per step", report, StringComparison.Ordinal);
        Assert.Contains("| bn | 32.50 (30.00-35.00) | 400 (1/1) | 13.0 |", report, StringComparison.Ordinal);          // 400 steps x 32.5 ms
        Assert.Contains("| none | 21.00 (20.00-22.00) | not reached (0/1) | - |", report, StringComparison.Ordinal);
        Assert.Contains("| bn-m09 | 32.50 (30.00-35.00) (bn's) | 400 (1/1) | 13.0 |", report, StringComparison.Ordinal);
        Assert.Contains("bench machine, 2 thread(s), jemalloc", report, StringComparison.Ordinal);
    }

    [Fact]
    public void A_damaged_benchmark_file_is_named_with_the_fix()
    {
        using var temp = new TempDirectory();
        var config = new CompareConfig { Variants = [NormalizationVariant.Bn], Seeds = 1, Training = new TrainConfig { Dataset = DatasetKind.Synthetic, Epochs = 1 } };
        var rows = new List<EpochResult> { new("bn", 1, 1, 0.5, 0.8, 0.6, 0.7, 2) };
        File.WriteAllText(temp.Combine(CompareReport.BenchFile), "{ not json");

        var e = Assert.Throws<InvalidDataException>(() => CompareReport.Write(temp.Path, new CompareResult(config, "synthetic", "m", rows, CompareRunner.Summarize(config, rows))));

        Assert.Contains("bench.json is not a benchmark's JSON", e.Message, StringComparison.Ordinal);
        Assert.Contains("the benchmark's variant-step case", e.Message, StringComparison.Ordinal);
    }
}
