using CifarBatchNorm.Experiments;

namespace CifarBatchNorm.Tests.Experiments;

public sealed class StatisticsTests
{
    [Theory]
    [InlineData(0.975, 1, 12.706)]
    [InlineData(0.975, 2, 4.303)]
    [InlineData(0.975, 4, 2.776)]
    [InlineData(0.975, 9, 2.262)]
    [InlineData(0.95, 10, 1.812)]
    [InlineData(0.995, 30, 2.750)]
    public void Student_t_quantiles_match_the_table(double p, double dof, double expected) =>
        Assert.Equal(expected, Statistics.StudentTQuantile(p, dof), 3);

    [Fact]
    public void Confidence_interval_of_five_values_uses_t_with_four_degrees_of_freedom()
    {
        double[] values = [0.90, 0.91, 0.89, 0.92, 0.88];
        // mean 0.9, sample sd 0.0158114, t(0.975, 4) = 2.7764451
        Assert.Equal(2.7764451 * 0.0158114 / Math.Sqrt(5), Statistics.ConfidenceHalfWidth95(values), 5);
        Assert.True(double.IsNaN(Statistics.ConfidenceHalfWidth95([0.9])));
    }

    [Fact]
    public void Welch_test_matches_a_hand_computed_example()
    {
        // a: mean 20.0, var 2.5 (n 5); b: mean 22.0, var 10.0 (n 5); t = -2 / sqrt(0.5 + 2) = -1.2649;
        // dof = 2.5^2 / (0.5^2/4 + 2^2/4) = 5.8824; two-sided p = 0.2536 (scipy.stats.ttest_ind(equal_var=False)).
        double[] a = [18, 19, 20, 21, 22];
        double[] b = [18, 20, 22, 24, 26];
        Assert.Equal(0.2536, Statistics.WelchPValue(a, b), 3);
        Assert.Equal(1.0, Statistics.WelchPValue(a, a), 9);
        Assert.True(Statistics.WelchPValue([1, 2, 3], [11, 12, 13]) < 0.001);
    }
}
