using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Training;

public sealed class ConfusionMatrixTests
{
    private static readonly string[] Names = ["cat", "dog", "ship"];

    // Ten samples counted by hand: rows true class, columns prediction.
    //            cat dog ship
    //   cat       3   1   0     support 4
    //   dog       0   2   0     support 2
    //   ship      1   1   2     support 4
    //   predicted 4   4   2     correct 7 of 10
    private static readonly int[] Actual = [0, 0, 0, 1, 1, 2, 2, 2, 2, 0];
    private static readonly int[] Predicted = [0, 1, 0, 1, 1, 2, 0, 2, 1, 0];

    [Fact]
    public void Counts_precision_and_recall_match_the_hand_computed_matrix()
    {
        var matrix = ConfusionMatrix.FromLabels(Actual, Predicted, Names);

        Assert.Equal([[3, 1, 0], [0, 2, 0], [1, 1, 2]], matrix.Counts);
        Assert.Equal(10, matrix.Total);
        Assert.Equal(7, matrix.Correct);
        Assert.Equal(0.7, matrix.Accuracy, 12);
        var perClass = matrix.PerClass;
        Assert.Equal(new ClassMetrics("cat", 4, 4, 3, 0.75, 0.75, 0.75), perClass[0]);
        Assert.Equal(("dog", 2, 4, 2, 0.5, 1.0), (perClass[1].Name, perClass[1].Support, perClass[1].Predicted, perClass[1].Correct, perClass[1].Precision, perClass[1].Recall));
        Assert.Equal(2.0 / 3, perClass[1].F1, 12);
        Assert.Equal(("ship", 4, 2, 2, 1.0, 0.5), (perClass[2].Name, perClass[2].Support, perClass[2].Predicted, perClass[2].Correct, perClass[2].Precision, perClass[2].Recall));
    }

    [Fact]
    public void A_class_never_predicted_has_precision_zero_and_a_class_without_images_recall_zero()
    {
        var matrix = ConfusionMatrix.FromLabels([0, 0, 1], [0, 1, 1], Names);

        Assert.Equal((0.0, 0.0, 0.0), (matrix.PerClass[2].Precision, matrix.PerClass[2].Recall, matrix.PerClass[2].F1));
    }

    [Fact]
    public void From_probabilities_counts_the_arg_max_of_each_row()
    {
        using var scope = NewDisposeScope();
        var probabilities = tensor(new float[]
        {
            0.7f, 0.2f, 0.1f,
            0.1f, 0.3f, 0.6f,
            0.2f, 0.5f, 0.3f,
        }).view(3, 3);

        var matrix = ConfusionMatrix.FromProbabilities(probabilities, new byte[] { 0, 1, 1 }, Names);

        Assert.Equal([[1, 0, 0], [0, 1, 1], [0, 0, 0]], matrix.Counts);
    }

    [Fact]
    public void The_table_lists_every_class_with_its_images_accuracy_and_precision()
    {
        string table = ConfusionMatrix.FromLabels(Actual, Predicted, Names).FormatTable();

        string[] lines = table.TrimEnd('\n').Split('\n');
        Assert.Equal("class   images   accuracy   precision", lines[0]);
        Assert.Equal("cat          4     0.7500      0.7500", lines[1]);
        Assert.Equal("dog          2     1.0000      0.5000", lines[2]);
        Assert.Equal("ship         4     0.5000      1.0000", lines[3]);
        Assert.Equal("all         10     0.7000", lines[4]);
    }

    [Fact]
    public void Mismatched_or_out_of_range_labels_are_rejected_with_the_sample()
    {
        Assert.Throws<ArgumentException>(() => ConfusionMatrix.FromLabels([0, 1], [0], Names));
        var e = Assert.Throws<ArgumentException>(() => ConfusionMatrix.FromLabels([0, 3], [0, 1], Names));
        Assert.Contains("Sample 1 has true label 3", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new ConfusionMatrix(Names, [[1, 2], [3, 4]]));
    }
}
