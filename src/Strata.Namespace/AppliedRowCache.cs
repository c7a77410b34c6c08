namespace Strata.Namespace;

/// <summary>
/// Committed Data-column values the apply loop read or wrote recently: bucket records and the directories on
/// hot paths are read by nearly every command, and this spares those engine reads.
/// </summary>
/// <remarks>
/// Coherent because the state machine is the only writer of its keys: it fills the cache only from its own
/// reads and refreshes it with every batch it writes, after the write. Used only by the single apply loop
/// (never by concurrent readers, whose fills could race a write). Bounded: when full it starts over, which
/// changes speed, never results.
/// </remarks>
internal sealed class AppliedRowCache(int capacity)
{
    private readonly Dictionary<byte[], byte[]?> _rows = new(ByteEquality.Instance);

    public bool TryGet(byte[] key, out byte[]? value) => _rows.TryGetValue(key, out value);

    public void Set(byte[] key, byte[]? value)
    {
        if (_rows.Count >= capacity && !_rows.ContainsKey(key))
        {
            _rows.Clear();
        }

        _rows[key] = value;
    }

    public void Clear() => _rows.Clear();

    private sealed class ByteEquality : IEqualityComparer<byte[]>
    {
        public static readonly ByteEquality Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(obj);
            return hash.ToHashCode();
        }
    }
}
