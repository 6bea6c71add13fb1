using System.Text.Json.Nodes;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Interop;

/// <summary>The arguments of one layer in a Keras config: each read is marked, so an argument nobody read is reported.</summary>
internal sealed class ConfigArguments(JsonObject config, string source, string owner)
{
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    /// <summary>Whether the argument is present.</summary>
    public bool Has(string key) => config.ContainsKey(key);

    /// <summary>Reads an argument (marking it used); with <paramref name="mustBeNull"/>, a non-null value is an error.</summary>
    public JsonNode? Take(string key, bool mustBeNull = false)
    {
        _used.Add(key);
        var value = config[key];
        if (mustBeNull && value is not null)
        {
            throw Unsupported(key, value.ToJsonString());
        }

        return value;
    }

    /// <summary>An integer argument.</summary>
    public int Int(string key, int? defaultValue = null) => Take(key) switch
    {
        JsonValue v when v.TryGetValue(out int i) => i,
        null when defaultValue is int d => d,
        var other => throw Unsupported(key, other?.ToJsonString() ?? "missing"),
    };

    /// <summary>A number argument.</summary>
    public double Double(string key, double defaultValue) => Take(key) switch
    {
        JsonValue v when v.TryGetValue(out double x) => x,
        null => defaultValue,
        var other => throw Unsupported(key, other.ToJsonString()),
    };

    /// <summary>A boolean argument.</summary>
    public bool Bool(string key, bool defaultValue) => Take(key) switch
    {
        JsonValue v when v.TryGetValue(out bool b) => b,
        null => defaultValue,
        var other => throw Unsupported(key, other.ToJsonString()),
    };

    /// <summary>A size given as an int or a square pair (<c>[3, 3]</c>).</summary>
    public int Square(string key, int? defaultValue = null)
    {
        var node = Take(key);
        if (node is null && defaultValue is int d)
        {
            return d;
        }

        if (node is JsonValue v && v.TryGetValue(out int single))
        {
            return single;
        }

        if (node is JsonArray { Count: 2 } pair && pair[0] is JsonValue a && pair[1] is JsonValue b
            && a.TryGetValue(out int first) && b.TryGetValue(out int second) && first == second)
        {
            return first;
        }

        throw Unsupported(key, node?.ToJsonString() ?? "missing");
    }

    /// <summary>An activation name.</summary>
    public ActivationFunction Activation(string key)
    {
        var node = Take(key);
        string? name = node is JsonValue v && v.TryGetValue(out string? s) ? s : null;
        try
        {
            return node is null ? ActivationFunction.Linear : Activations.Parse(name ?? throw Unsupported(key, node.ToJsonString()));
        }
        catch (ArgumentException)
        {
            throw Unsupported(key, name ?? string.Empty);
        }
    }

    /// <summary><c>same</c> or <c>valid</c>.</summary>
    public ConvPadding Padding() => Take("padding")?.GetValue<string>() switch
    {
        "same" => ConvPadding.Same,
        "valid" or null => ConvPadding.Valid,
        var other => throw Unsupported("padding", other),
    };

    /// <summary>Checks that an argument has one of the values this library implements (an int stands for a square pair).</summary>
    public void Expect(string key, params object?[] allowed)
    {
        var node = Take(key);
        if (node is null && allowed.Contains(null))
        {
            return;
        }

        foreach (object? value in allowed)
        {
            bool match = value switch
            {
                string s => node is JsonValue v && v.TryGetValue(out string? x) && x == s,
                bool b => node is JsonValue v && v.TryGetValue(out bool x) && x == b,
                int i => (node is JsonValue v && v.TryGetValue(out int x) && x == i)
                    || (node is JsonArray arr && arr.All(e => e is JsonValue ev && ev.TryGetValue(out int y) && y == i)),
                _ => false,
            };
            if (match)
            {
                return;
            }
        }

        throw Unsupported(key, node?.ToJsonString() ?? "missing");
    }

    /// <summary>The error for an argument value this library does not implement.</summary>
    public ModelFileException Unsupported(string key, object? value) =>
        new($"{source}: {owner} has {key} = {value}, which this library does not support.");

    /// <summary>Throws for the first argument nobody read.</summary>
    public void CheckAllUsed()
    {
        string? unknown = config.Select(kv => kv.Key).FirstOrDefault(k => !_used.Contains(k));
        if (unknown is not null)
        {
            throw new ModelFileException($"{source}: {owner} has an argument '{unknown}' that this library does not know.");
        }
    }
}
