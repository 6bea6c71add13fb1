using System.Text.Json.Serialization;

namespace CifarBatchNorm.Experiments;

/// <summary>Median, minimum and maximum of repeated measurements of one benchmark case.</summary>
/// <param name="Median">The median (the mean of the two middle values for an even count).</param>
/// <param name="Min">The smallest value.</param>
/// <param name="Max">The largest value.</param>
/// <param name="Count">How many measurements.</param>
internal sealed record TimingStats(
    [property: JsonPropertyName("median")] double Median,
    [property: JsonPropertyName("min")] double Min,
    [property: JsonPropertyName("max")] double Max,
    [property: JsonPropertyName("count")] int Count)
{
    /// <summary>Summarizes <paramref name="values"/>, which must not be empty.</summary>
    public static TimingStats From(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        double[] sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("At least one measurement is needed.", nameof(values));
        }

        int mid = sorted.Length / 2;
        double median = sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        return new TimingStats(median, sorted[0], sorted[^1], sorted.Length);
    }
}
