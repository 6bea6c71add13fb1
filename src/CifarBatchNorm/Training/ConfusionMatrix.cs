using System.Globalization;
using System.Text;
using CifarBatchNorm.Data;
using static TorchSharp.torch;

namespace CifarBatchNorm.Training;

/// <summary>
/// Counts of (true class, predicted class) over a labelled set, with per-class precision and recall: what
/// scikit-learn's <c>confusion_matrix</c> and <c>classification_report</c> give, computed from <c>Predict</c>.
/// Rows are true classes, columns predicted classes, both in label order.
/// </summary>
public sealed class ConfusionMatrix
{
    private readonly int[][] _counts;

    /// <summary>Creates a matrix from its counts.</summary>
    /// <param name="classNames">The class names, indexed by label.</param>
    /// <param name="counts">counts[true][predicted], one row and one column per class.</param>
    public ConfusionMatrix(IReadOnlyList<string> classNames, int[][] counts)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(counts);
        int k = classNames.Count;
        if (k < 1 || counts.Length != k || counts.Any(row => row is null || row.Length != k))
        {
            throw new ArgumentException($"A confusion matrix of {k} classes needs {k} rows of {k} counts.", nameof(counts));
        }

        if (counts.Any(row => row.Any(c => c < 0)))
        {
            throw new ArgumentException("Confusion counts cannot be negative.", nameof(counts));
        }

        ClassNames = classNames.ToArray();
        _counts = counts.Select(row => (int[])row.Clone()).ToArray();
    }

    /// <summary>The class names, indexed by label.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The counts, rows true classes and columns predicted classes (a copy).</summary>
    public int[][] Counts => _counts.Select(row => (int[])row.Clone()).ToArray();

    /// <summary>Images counted.</summary>
    public int Total => _counts.Sum(row => row.Sum());

    /// <summary>Images predicted as their own class.</summary>
    public int Correct => Enumerable.Range(0, _counts.Length).Sum(i => _counts[i][i]);

    /// <summary>Correct / Total; 0 for an empty matrix.</summary>
    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;

    /// <summary>Images of class <paramref name="actual"/> predicted as <paramref name="predicted"/>.</summary>
    public int this[int actual, int predicted] => _counts[actual][predicted];

    /// <summary>Precision, recall and counts of every class, in label order.</summary>
    public IReadOnlyList<ClassMetrics> PerClass => Enumerable.Range(0, _counts.Length).Select(ForClass).ToList();

    /// <summary>Counts the pairs of <paramref name="actual"/> and <paramref name="predicted"/> labels.</summary>
    /// <exception cref="ArgumentException">The spans differ in length or hold a label outside the classes.</exception>
    public static ConfusionMatrix FromLabels(ReadOnlySpan<int> actual, ReadOnlySpan<int> predicted, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        if (actual.Length != predicted.Length)
        {
            throw new ArgumentException($"{actual.Length} true labels but {predicted.Length} predictions; they must match.", nameof(predicted));
        }

        int k = classNames.Count;
        var counts = Enumerable.Range(0, k).Select(_ => new int[k]).ToArray();
        for (int i = 0; i < actual.Length; i++)
        {
            if ((uint)actual[i] >= (uint)k || (uint)predicted[i] >= (uint)k)
            {
                throw new ArgumentException($"Sample {i} has true label {actual[i]} and prediction {predicted[i]}; labels must be below {k}.", nameof(actual));
            }

            counts[actual[i]][predicted[i]]++;
        }

        return new ConfusionMatrix(classNames, counts);
    }

    /// <summary>The matrix of class <paramref name="probabilities"/> (N, classes), e.g. from <c>Predict</c>, against <paramref name="labels"/>.</summary>
    public static ConfusionMatrix FromProbabilities(Tensor probabilities, ReadOnlySpan<byte> labels, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(classNames);
        if (probabilities.dim() != 2 || probabilities.shape[1] != classNames.Count)
        {
            throw new ArgumentException(
                $"Expected probabilities of shape [N, {classNames.Count}], got [{string.Join(", ", probabilities.shape)}].", nameof(probabilities));
        }

        using var predicted = probabilities.argmax(1).to(ScalarType.Int32).cpu();
        var actual = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            actual[i] = labels[i];
        }

        return FromLabels(actual, predicted.data<int>().ToArray(), classNames);
    }

    /// <summary>Predicts every image of <paramref name="data"/> with <paramref name="model"/> (inference mode) and counts the outcomes.</summary>
    /// <param name="model">The model.</param>
    /// <param name="data">Labelled images; their class names name the rows.</param>
    /// <param name="batchSize">Images per forward pass. The default value is 256.</param>
    public static ConfusionMatrix Compute(Sequential model, ImageDataset data, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        // Batch by batch: only the predicted labels are kept, never the probabilities of the whole set.
        var labels = data.Labels;
        var actual = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            actual[i] = labels[i];
        }

        var predicted = new int[labels.Length];
        model.Predict(data, batchSize, (probabilities, start) =>
        {
            using var best = probabilities.argmax(1).to(ScalarType.Int32).cpu();
            best.data<int>().CopyTo(predicted, start);
        });
        return FromLabels(actual, predicted, data.ClassNames);
    }

    /// <summary>
    /// A plain-text table of every class's images, accuracy (recall) and precision, then the overall accuracy, e.g.
    /// <c>airplane   1,000   0.8120   0.7950</c>.
    /// </summary>
    public string FormatTable()
    {
        int nameWidth = Math.Max(5, ClassNames.Max(n => n.Length));
        var text = new StringBuilder();
        text.Append("class".PadRight(nameWidth)).Append("   images   accuracy   precision\n");
        foreach (var c in PerClass)
        {
            text.Append(c.Name.PadRight(nameWidth))
                .Append(c.Support.ToString("N0", CultureInfo.InvariantCulture).PadLeft(9))
                .Append(Format(c.Recall).PadLeft(11))
                .Append(Format(c.Precision).PadLeft(12))
                .Append('\n');
        }

        text.Append("all".PadRight(nameWidth))
            .Append(Total.ToString("N0", CultureInfo.InvariantCulture).PadLeft(9))
            .Append(Format(Accuracy).PadLeft(11))
            .Append('\n');
        return text.ToString();
    }

    private ClassMetrics ForClass(int c)
    {
        int support = _counts[c].Sum();
        int predicted = _counts.Sum(row => row[c]);
        int correct = _counts[c][c];
        double precision = predicted == 0 ? 0 : (double)correct / predicted;
        double recall = support == 0 ? 0 : (double)correct / support;
        double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        return new ClassMetrics(ClassNames[c], support, predicted, correct, precision, recall, f1);
    }

    private static string Format(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);
}
