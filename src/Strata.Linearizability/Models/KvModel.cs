namespace Strata.Linearizability.Models;

/// <summary>What a key-value operation asks for.</summary>
public enum KvOp
{
    /// <summary>Read the whole value of the key.</summary>
    Get,

    /// <summary>Replace the value of the key.</summary>
    Put,

    /// <summary>Concatenate to the value of the key.</summary>
    Append,
}

/// <summary>A request to the key-value map.</summary>
/// <param name="Kind">Get, put or append.</param>
/// <param name="Key">The key.</param>
/// <param name="Value">The value put or appended; unused for a get.</param>
public readonly record struct KvInput(KvOp Kind, string Key, string Value)
{
    /// <summary>A get of <paramref name="key"/>.</summary>
    public static KvInput Get(string key) => new(KvOp.Get, key, string.Empty);

    /// <summary>A put of <paramref name="value"/> at <paramref name="key"/>.</summary>
    public static KvInput Put(string key, string value) => new(KvOp.Put, key, value);

    /// <summary>An append of <paramref name="value"/> to <paramref name="key"/>.</summary>
    public static KvInput Append(string key, string value) => new(KvOp.Append, key, value);
}

/// <summary>
/// A map from string keys to string values, every key initially the empty string. Outputs are strings:
/// the value a get returned (null counts as the empty string); null for put and append. Keys are
/// independent, so a history is checked one key at a time; the state of a partition is that key's value.
/// </summary>
/// <remarks>Stateless and thread-safe; use <see cref="Instance"/>.</remarks>
public sealed class KvModel : IModel<string, KvInput, string>
{
    /// <summary>The shared instance.</summary>
    public static KvModel Instance { get; } = new();

    /// <inheritdoc/>
    public string Init() => string.Empty;

    /// <inheritdoc/>
    public (bool Ok, string Next) Step(string state, KvInput input, string? output, bool outcomeUnknown) => input.Kind switch
    {
        KvOp.Get => (outcomeUnknown || string.Equals(output ?? string.Empty, state, StringComparison.Ordinal), state),
        KvOp.Put => (true, input.Value),
        KvOp.Append => (true, string.Concat(state, input.Value)),
        _ => throw new ArgumentOutOfRangeException(nameof(input), input.Kind, "Unknown key-value operation."),
    };

    /// <summary>One partition per key, in order of first appearance.</summary>
    public IEnumerable<HistoryPartition> Partition(IReadOnlyList<Operation<KvInput, string>> history)
    {
        var byKey = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var order = new List<string>();
        for (var i = 0; i < history.Count; i++)
        {
            var key = history[i].Input.Key;
            if (!byKey.TryGetValue(key, out var indices))
            {
                indices = [];
                byKey.Add(key, indices);
                order.Add(key);
            }

            indices.Add(i);
        }

        foreach (var key in order)
        {
            yield return new HistoryPartition("key " + Quote(key), byKey[key]);
        }
    }

    /// <inheritdoc/>
    public IEqualityComparer<string> StateComparer => StringComparer.Ordinal;

    /// <inheritdoc/>
    public string Describe(KvInput input, string? output) => input.Kind switch
    {
        KvOp.Get => "get " + Quote(input.Key) + (output is null ? string.Empty : " -> " + Quote(output)),
        KvOp.Put => "put " + Quote(input.Key) + " " + Quote(input.Value),
        KvOp.Append => "append " + Quote(input.Key) + " " + Quote(input.Value),
        _ => input.Kind.ToString(),
    };

    /// <inheritdoc/>
    public string DescribeState(string state) => Quote(state);

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
