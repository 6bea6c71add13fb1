namespace CifarBatchNorm.Training;

/// <summary>What <see cref="Sequential.PredictImageFiles"/> says about one image file.</summary>
/// <param name="File">The image file, as given.</param>
/// <param name="ClassIndex">The most probable class.</param>
/// <param name="ClassName">Its name.</param>
/// <param name="Probability">Its probability.</param>
/// <param name="Probabilities">Every class's probability, indexed by class.</param>
public sealed record ImagePrediction(string File, int ClassIndex, string ClassName, float Probability, IReadOnlyList<float> Probabilities)
{
    /// <summary>The <paramref name="count"/> most probable classes, best first, as (index, name, probability).</summary>
    /// <param name="count">How many. The default value is 3.</param>
    /// <param name="classNames">The names, indexed by class (the ones given to <see cref="Sequential.PredictImageFiles"/>).</param>
    public IReadOnlyList<(int Index, string Name, float Probability)> Top(IReadOnlyList<string> classNames, int count = 3)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return Enumerable.Range(0, Probabilities.Count).OrderByDescending(c => Probabilities[c]).Take(count)
            .Select(c => (c, classNames[c], Probabilities[c])).ToList();
    }
}
