using System.Globalization;
using System.Text;

namespace CifarBatchNorm.Callbacks;

/// <summary>
/// Keras <c>CSVLogger</c>: appends one row per epoch (1-based epoch, then the logged quantities in name order)
/// to a CSV file, flushed after every epoch so a crash loses at most the current epoch.
/// </summary>
public sealed class CsvLogger : Callback, IDisposable
{
    private readonly string _path;
    private readonly char _separator;
    private readonly bool _append;
    private StreamWriter? _writer;
    private string[]? _keys;

    /// <summary>Creates the callback.</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="separator">Field separator. The default value is ','.</param>
    /// <param name="append">Append to an existing file instead of replacing it. The default value is <c>false</c>.</param>
    public CsvLogger(string path, char separator = ',', bool append = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _path = path;
        _separator = separator;
        _append = append;
    }

    /// <inheritdoc />
    public override void OnTrainBegin()
    {
        _writer?.Dispose();
        bool hasHeader = _append && File.Exists(_path) && new FileInfo(_path).Length > 0;
        _writer = new StreamWriter(_path, _append, new UTF8Encoding(false));
        _keys = hasHeader ? File.ReadLines(_path).First().Split(_separator).Skip(1).ToArray() : null;
    }

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        if (_writer is null)
        {
            return;
        }

        if (_keys is null)
        {
            _keys = logs.Keys.Order(StringComparer.Ordinal).ToArray();
            _writer.WriteLine("epoch" + _separator + string.Join(_separator, _keys));
        }

        var row = new StringBuilder(epoch.ToString(CultureInfo.InvariantCulture));
        foreach (string key in _keys)
        {
            row.Append(_separator);
            if (logs.TryGetValue(key, out double value))
            {
                row.Append(value.ToString("R", CultureInfo.InvariantCulture));
            }
        }

        _writer.WriteLine(row.ToString());
        _writer.Flush();
    }

    /// <inheritdoc />
    public override void OnTrainEnd(IReadOnlyDictionary<string, double> logs) => Dispose();

    /// <inheritdoc />
    public void Dispose()
    {
        _writer?.Dispose();
        _writer = null;
    }
}
