using System.Globalization;
using System.Text.Json;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Reporting;

/// <summary>
/// The plots of one training history (Keras's <c>History</c>): loss and accuracy per epoch, training against
/// validation, as PNG and SVG files with a single-file <c>report.html</c>, or as SVG text to show inline in a
/// notebook. Every <c>train</c> run of the command line writes them into its run folder.
/// </summary>
public static class HistoryReport
{
    /// <summary>The plots written (file names without extension): <c>loss</c> and <c>accuracy</c>, each training vs validation.</summary>
    public static IReadOnlyList<string> Plots { get; } = ["loss", "accuracy"];

    /// <summary>The file name of the HTML report.</summary>
    public const string HtmlFile = "report.html";

    /// <summary>
    /// Writes <c>loss.png/.svg</c>, <c>accuracy.png/.svg</c> and <c>report.html</c> (the plots inline and the
    /// per-epoch table) for <paramref name="history"/> into <paramref name="folderPath"/>.
    /// </summary>
    /// <param name="folderPath">The folder to write into; created when missing.</param>
    /// <param name="history">What <c>Fit</c> returned.</param>
    /// <param name="title">The report's title; name the dataset in it (it is also in every plot's title).</param>
    public static void Write(string folderPath, History history, string title)
    {
        ArgumentException.ThrowIfNullOrEmpty(folderPath);
        ArgumentNullException.ThrowIfNull(history);
        ArgumentException.ThrowIfNullOrEmpty(title);
        Directory.CreateDirectory(folderPath);
        var html = WritePlots(folderPath, history, title);
        html.Heading("Per epoch").Table(Headers(history), Rows(history));
        html.Save(Path.Combine(folderPath, HtmlFile));
    }

    /// <summary>
    /// Writes the report of a finished <c>train</c> run into its folder: the history plots, the confusion matrix of
    /// the final evaluation (<c>confusion_matrix.png/.svg</c>, vector cells) and <c>report.html</c> with the setup,
    /// the per-epoch table, the evaluation per class and the exact configuration.
    /// </summary>
    /// <param name="result">What <c>NotebookExperiment.Run</c> or <c>Resume</c> returned.</param>
    public static void Write(RunResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var config = result.Record.Config;
        string dataset = DatasetSelector.DisplayName(DatasetSelector.Parse(result.Record.Dataset));
        string title = F($"The notebook's model ({ModelPresets.VariantName(config.Variant)}) on {dataset}");
        var html = WritePlots(result.Folder, result.History, title);
        html.Paragraph(F($"{dataset}, {result.Record.TrainSamples:N0} training and {result.Record.TestSamples:N0} test images; ")
                + F($"{config.Epochs} epochs of batch {config.BatchSize}, optimizer {OptimizerFactory.Describe(config)}, BN momentum {config.BnMomentum}, seed {config.Seed}. ")
                + F($"Validation: {result.Record.Validation ?? "the test set"}. Machine: {result.Record.Machine}."))
            .Heading("Per epoch")
            .Table(Headers(result.History), Rows(result.History))
            .Heading("Evaluation on the test set")
            .Paragraph(F($"Test loss {result.Evaluation.Loss:0.0000}, test accuracy {result.Evaluation.Accuracy:0.0000} ({result.Evaluation.Samples:N0} images)."));
        if (result.Details is { } details)
        {
            Charts.Confusion(Path.Combine(result.Folder, "confusion_matrix"), $"Confusion matrix, test set, {dataset}", details.ClassNames,
                details.ConfusionMatrix.Select(row => (IReadOnlyList<int>)row).ToList());
            html.Table(["class", "images", "accuracy (recall)", "precision"],
                    details.Classes.Select(c => (IReadOnlyList<string>)[c.Name, F($"{c.Support:N0}"), F($"{c.Recall:0.0000}"), F($"{c.Precision:0.0000}")]))
                .Figure(Path.Combine(result.Folder, "confusion_matrix.svg"),
                    "Confusion matrix: rows are the true class, columns the predicted class; the shade is the row's fraction, the number the count.");
        }

        html.Heading("Exact configuration").Code(JsonSerializer.Serialize(config, RunFolder.Json));
        html.Save(Path.Combine(result.Folder, HtmlFile));
    }

    /// <summary>
    /// One plot of <paramref name="history"/> as SVG text: <paramref name="metric"/> per epoch for training and,
    /// when recorded, validation (<c>val_</c> + metric). For notebooks: <c>display(HTML(HistoryReport.Svg(history, "loss")))</c>.
    /// </summary>
    /// <param name="history">What <c>Fit</c> returned.</param>
    /// <param name="metric"><c>loss</c>, <c>accuracy</c> or any other key of <see cref="History.Values"/> without <c>val_</c>.</param>
    /// <param name="title">The plot's title. The default value is <c>null</c>: "Training vs validation METRIC".</param>
    /// <exception cref="ArgumentException">The history has no values for <paramref name="metric"/>; the message lists the keys it has.</exception>
    public static string Svg(History history, string metric, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentException.ThrowIfNullOrEmpty(metric);
        return Charts.LinesSvg(title ?? $"Training vs validation {metric}", "epoch", metric, Series(history, metric));
    }

    /// <summary>
    /// One quantity of several histories on one plot, as SVG text: <paramref name="key"/> (for example
    /// <c>val_accuracy</c> or <c>loss</c>) per epoch, one line per run, in the order given (the first drawn on top).
    /// </summary>
    /// <param name="runs">Name and history of each run, e.g. <c>[new("bn", bnHistory), new("none", noneHistory)]</c>.</param>
    /// <param name="key">A key of <see cref="History.Values"/>: <c>loss</c>, <c>accuracy</c>, <c>val_loss</c>, <c>val_accuracy</c>, ...</param>
    /// <param name="title">The plot's title. The default value is <c>null</c>: the key.</param>
    /// <exception cref="ArgumentException">A history has no values for <paramref name="key"/>.</exception>
    public static string CompareSvg(IReadOnlyList<KeyValuePair<string, History>> runs, string key, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentException.ThrowIfNullOrEmpty(key);
        var series = runs.Select((run, i) =>
        {
            var values = run.Value.Get(key);
            if (values.Count == 0)
            {
                throw new ArgumentException(
                    $"The history of '{run.Key}' has no '{key}' values; it has {string.Join(", ", run.Value.Values.Keys.Select(k => $"'{k}'"))}.", nameof(key));
            }

            double[] epochs = run.Value.Epochs.Select(e => (double)e).ToArray();
            return new ChartSeries(run.Key, epochs[^values.Count..], [.. values], ColorIndex: i);
        }).ToList();
        return Charts.LinesSvg(title ?? key, "epoch", key, series);
    }

    private static HtmlReport WritePlots(string folder, History history, string title)
    {
        var html = new HtmlReport(title);
        foreach (string metric in Plots)
        {
            Charts.Lines(Path.Combine(folder, metric), $"{Capitalized(metric)}, training vs validation: {title}", "epoch", metric, Series(history, metric));
            html.Figure(Path.Combine(folder, metric + ".svg"),
                F($"{Capitalized(metric)} per epoch: training (thick line, filled markers) as Keras reports it, the running mean over each epoch; validation (thin line, open markers) after each epoch."));
        }

        return html;
    }

    private static List<ChartSeries> Series(History history, string metric)
    {
        var train = history.Get(metric);
        if (train.Count == 0)
        {
            throw new ArgumentException(
                $"The history has no '{metric}' values; it has {string.Join(", ", history.Values.Keys.Select(k => $"'{k}'"))}.", nameof(metric));
        }

        double[] epochs = history.Epochs.Select(e => (double)e).ToArray();
        var series = new List<ChartSeries> { new("training", epochs[^train.Count..], [.. train], ColorIndex: 0) };
        var validation = history.Get("val_" + metric);
        if (validation.Count > 0)
        {
            series.Add(new ChartSeries("validation", epochs[^validation.Count..], [.. validation], Secondary: true, ColorIndex: 1));
        }

        return series;
    }

    private static string[] Headers(History history) =>
        ["epoch", .. new[] { "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds" }.Where(k => history.Get(k).Count > 0)];

    private static IEnumerable<IReadOnlyList<string>> Rows(History history)
    {
        var keys = Headers(history).Skip(1).ToList();
        return history.Epochs.Select((epoch, i) => (IReadOnlyList<string>)
            [F($"{epoch}"), .. keys.Select(k => history.Get(k) is var v && i < v.Count ? Format(k, v[i]) : "")]);
    }

    private static string Format(string key, double value) => key switch
    {
        "seconds" => F($"{value:0.0}"),
        "learning_rate" => F($"{value:G4}"),
        _ => F($"{value:0.0000}"),
    };

    private static string Capitalized(string metric) => char.ToUpperInvariant(metric[0]) + metric[1..];

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
