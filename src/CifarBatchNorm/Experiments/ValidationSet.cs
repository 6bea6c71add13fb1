using System.Globalization;

namespace CifarBatchNorm.Experiments;

/// <summary>Which images a run validates on, in the words its outputs use.</summary>
internal static class ValidationSet
{
    /// <summary><c>the test set (10,000 images)</c>.</summary>
    public static string TestSet(int samples) => $"the test set ({Count(samples)} images)";

    /// <summary>
    /// <c>last 10% of the training set (5,000 images; training on the first 45,000)</c> for a split, else
    /// <see cref="TestSet"/>.
    /// </summary>
    public static string Describe(double validationSplit, int trainSamples, int testSamples)
    {
        if (validationSplit == 0)
        {
            return TestSet(testSamples);
        }

        int trainOn = Training.Sequential.ValidationSplitAt(trainSamples, validationSplit);
        string percent = (validationSplit * 100).ToString("0.##", CultureInfo.InvariantCulture);
        return $"last {percent}% of the training set ({Count(trainSamples - trainOn)} images; training on the first {Count(trainOn)})";
    }

    /// <summary>Images validated on.</summary>
    public static int Samples(double validationSplit, int trainSamples, int testSamples) =>
        validationSplit == 0 ? testSamples : trainSamples - Training.Sequential.ValidationSplitAt(trainSamples, validationSplit);

    private static string Count(int n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
