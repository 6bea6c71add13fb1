using System.Globalization;
using System.Text;

namespace CifarBatchNorm.Training;

/// <summary>
/// What <c>Sequential.Fit</c> returns: one value per epoch for every logged quantity, as Keras's
/// <c>history.history</c> (<c>loss</c>, <c>accuracy</c>, <c>val_loss</c>, <c>val_accuracy</c>, plus
/// <c>learning_rate</c> and <c>seconds</c>).
/// </summary>
public sealed class History
{
    private readonly List<int> _epochs = [];
    private readonly Dictionary<string, List<double>> _values = new(StringComparer.Ordinal);

    /// <summary>The 1-based epoch numbers recorded.</summary>
    public IReadOnlyList<int> Epochs => _epochs;

    /// <summary>Every logged quantity by name, one value per epoch.</summary>
    public IReadOnlyDictionary<string, List<double>> Values => _values;

    /// <summary>Training loss per epoch.</summary>
    public IReadOnlyList<double> Loss => Get("loss");

    /// <summary>Training accuracy per epoch.</summary>
    public IReadOnlyList<double> Accuracy => Get("accuracy");

    /// <summary>Validation loss per epoch (empty without validation data).</summary>
    public IReadOnlyList<double> ValLoss => Get("val_loss");

    /// <summary>Validation accuracy per epoch (empty without validation data).</summary>
    public IReadOnlyList<double> ValAccuracy => Get("val_accuracy");

    /// <summary>The values of <paramref name="key"/>, or an empty list.</summary>
    public IReadOnlyList<double> Get(string key) => _values.TryGetValue(key, out var list) ? list : [];

    /// <summary>Appends one epoch's logs.</summary>
    public void Append(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        ArgumentNullException.ThrowIfNull(logs);
        _epochs.Add(epoch);
        foreach (var (key, value) in logs)
        {
            if (!_values.TryGetValue(key, out var list))
            {
                list = [];
                _values[key] = list;
            }

            list.Add(value);
        }
    }

    /// <summary>The history as <c>{"epoch": [...], "loss": [...], ...}</c>, keys in name order (what history.json holds).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<double>> ToColumns()
    {
        var columns = new SortedDictionary<string, IReadOnlyList<double>>(StringComparer.Ordinal)
        {
            ["epoch"] = _epochs.Select(e => (double)e).ToArray(),
        };
        foreach (var (key, values) in _values)
        {
            columns[key] = values.ToArray();
        }

        return columns;
    }

    /// <summary>Rebuilds a history from <see cref="ToColumns"/>.</summary>
    public static History FromColumns(IReadOnlyDictionary<string, IReadOnlyList<double>> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var history = new History();
        if (!columns.TryGetValue("epoch", out var epochs))
        {
            return history;
        }

        for (int i = 0; i < epochs.Count; i++)
        {
            var logs = columns.Where(kv => kv.Key != "epoch" && i < kv.Value.Count).ToDictionary(kv => kv.Key, kv => kv.Value[i], StringComparer.Ordinal);
            history.Append((int)epochs[i], logs);
        }

        return history;
    }

    /// <summary>CSV with a header <c>epoch,accuracy,loss,...</c> and one row per epoch, invariant culture.</summary>
    public string ToCsv()
    {
        var keys = _values.Keys.Order(StringComparer.Ordinal).ToArray();
        var sb = new StringBuilder();
        sb.Append("epoch");
        foreach (string key in keys)
        {
            sb.Append(',').Append(key);
        }

        sb.Append('\n');
        for (int i = 0; i < _epochs.Count; i++)
        {
            sb.Append(_epochs[i].ToString(CultureInfo.InvariantCulture));
            foreach (string key in keys)
            {
                var list = _values[key];
                sb.Append(',');
                if (i < list.Count)
                {
                    sb.Append(list[i].ToString("R", CultureInfo.InvariantCulture));
                }
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }
}
