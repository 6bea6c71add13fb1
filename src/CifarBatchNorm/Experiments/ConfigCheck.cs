using System.Globalization;

namespace CifarBatchNorm.Experiments;

/// <summary>
/// Validation of config properties with messages in the library's terms: the exception's <c>ParamName</c> is the
/// property (<c>TrainConfig.Epochs</c>) and the message names it, the value and what is allowed, so a front end can
/// put its own name for the setting (a command-line flag) in its place.
/// </summary>
internal static class ConfigCheck
{
    public static void InRange(string property, int value, IntRange range)
    {
        if (!range.Contains(value))
        {
            throw OutOfRange(property, value.ToString(CultureInfo.InvariantCulture), range.ToString());
        }
    }

    public static void InRange(string property, int? value, IntRange range)
    {
        if (value is int v)
        {
            InRange(property, v, range);
        }
    }

    public static void That(bool ok, string property, double value, string allowed)
    {
        if (!ok)
        {
            throw OutOfRange(property, value.ToString(CultureInfo.InvariantCulture), allowed);
        }
    }

    public static ArgumentException Invalid(string property, string message) => new($"{property} {message}", property);

    private static ArgumentException OutOfRange(string property, string value, string allowed) =>
        new($"{property} {value} is out of range: expected {allowed}.", property);
}
