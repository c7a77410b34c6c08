using Strata.Storage;

namespace Strata.Namespace;

/// <summary>
/// Writes of the Data column that are not yet in the engine, layered over what is: reads see this set's
/// writes first, then its parent's. Apply collects each command's writes in its own set over the set of
/// the commands before it in the same batch, so a refused command is dropped whole and a committed one
/// is folded into its parent.
/// </summary>
/// <remarks>Not thread-safe: owned by the single apply loop.</remarks>
public sealed class WriteSet
{
    private readonly IKvReader? _engine;
    private readonly AppliedRowCache? _cache;
    private readonly WriteSet? _parent;
    private readonly SortedDictionary<byte[], byte[]?> _writes = new(KeyOrder.Comparer);

    /// <summary>A set directly over the engine.</summary>
    public WriteSet(IKvReader engine) => _engine = engine;

    /// <summary>A set directly over the engine, reading committed rows through the apply loop's cache.</summary>
    internal WriteSet(IKvReader engine, AppliedRowCache cache)
    {
        _engine = engine;
        _cache = cache;
    }

    /// <summary>A set over another set (nested: a command inside a batch).</summary>
    public WriteSet(WriteSet parent) => _parent = parent;

    /// <summary>Number of keys written (puts and deletes).</summary>
    public int Count => _writes.Count;

    public byte[]? Get(byte[] key)
    {
        if (_writes.TryGetValue(key, out byte[]? value))
        {
            return value;
        }

        if (_parent is not null)
        {
            return _parent.Get(key);
        }

        if (_cache is null)
        {
            return _engine!.Get(KvColumn.Data, key);
        }

        if (_cache.TryGet(key, out byte[]? cached))
        {
            return cached;
        }

        byte[]? stored = _engine!.Get(KvColumn.Data, key);
        _cache.Set(key, stored);
        return stored;
    }

    /// <summary>Records this set's writes in the cache (after they were written to the engine).</summary>
    internal void WriteTo(AppliedRowCache cache)
    {
        foreach (KeyValuePair<byte[], byte[]?> pair in _writes)
        {
            cache.Set(pair.Key, pair.Value);
        }
    }

    public void Put(byte[] key, byte[] value) => _writes[key] = value;

    public void Delete(byte[] key) => _writes[key] = null;

    /// <summary>
    /// Keys and values in [lower, upper) as they would be after this set is written, in key order.
    /// Forward only; enumerate it before writing to this set again.
    /// </summary>
    public IEnumerable<KeyValuePair<byte[], byte[]>> Scan(byte[] lower, byte[] upper)
    {
        IEnumerable<KeyValuePair<byte[], byte[]?>> below = _parent is not null
            ? _parent.ScanRaw(lower, upper)
            : EngineScan(_engine!, lower, upper);
        foreach (KeyValuePair<byte[], byte[]?> pair in Merge(below, Local(lower, upper)))
        {
            if (pair.Value is not null)
            {
                yield return new KeyValuePair<byte[], byte[]>(pair.Key, pair.Value);
            }
        }
    }

    /// <summary>Folds this set's writes into its parent set.</summary>
    public void CommitToParent()
    {
        if (_parent is null)
        {
            throw new InvalidOperationException("only a nested write set commits to a parent");
        }

        foreach (KeyValuePair<byte[], byte[]?> pair in _writes)
        {
            _parent._writes[pair.Key] = pair.Value;
        }

        _writes.Clear();
    }

    /// <summary>Records this set's writes into an engine batch (Data column).</summary>
    public void WriteTo(IKvWriteBatch batch)
    {
        foreach (KeyValuePair<byte[], byte[]?> pair in _writes)
        {
            if (pair.Value is null)
            {
                batch.Delete(KvColumn.Data, pair.Key);
            }
            else
            {
                batch.Put(KvColumn.Data, pair.Key, pair.Value);
            }
        }
    }

    public void Clear() => _writes.Clear();

    private IEnumerable<KeyValuePair<byte[], byte[]?>> ScanRaw(byte[] lower, byte[] upper)
    {
        IEnumerable<KeyValuePair<byte[], byte[]?>> below = _parent is not null
            ? _parent.ScanRaw(lower, upper)
            : EngineScan(_engine!, lower, upper);
        return Merge(below, Local(lower, upper));
    }

    private IEnumerable<KeyValuePair<byte[], byte[]?>> Local(byte[] lower, byte[] upper)
    {
        foreach (KeyValuePair<byte[], byte[]?> pair in _writes)
        {
            if (KeyOrder.Compare(pair.Key, lower) < 0)
            {
                continue;
            }

            if (upper.Length > 0 && KeyOrder.Compare(pair.Key, upper) >= 0)
            {
                yield break;
            }

            yield return pair;
        }
    }

    private static IEnumerable<KeyValuePair<byte[], byte[]?>> EngineScan(IKvReader engine, byte[] lower, byte[] upper)
    {
        using IKvCursor cursor = engine.Scan(KvColumn.Data, lower, upper);
        for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
        {
            yield return new KeyValuePair<byte[], byte[]?>(cursor.Key.ToArray(), cursor.Value.ToArray());
        }
    }

    /// <summary>Merges two key-ordered sequences; on equal keys the overlay wins.</summary>
    private static IEnumerable<KeyValuePair<byte[], byte[]?>> Merge(
        IEnumerable<KeyValuePair<byte[], byte[]?>> below, IEnumerable<KeyValuePair<byte[], byte[]?>> overlay)
    {
        using IEnumerator<KeyValuePair<byte[], byte[]?>> b = below.GetEnumerator();
        using IEnumerator<KeyValuePair<byte[], byte[]?>> o = overlay.GetEnumerator();
        bool hasB = b.MoveNext();
        bool hasO = o.MoveNext();
        while (hasB || hasO)
        {
            int order = !hasB ? 1 : !hasO ? -1 : KeyOrder.Compare(b.Current.Key, o.Current.Key);
            if (order < 0)
            {
                yield return b.Current;
                hasB = b.MoveNext();
            }
            else
            {
                yield return o.Current;
                if (order == 0)
                {
                    hasB = b.MoveNext();
                }

                hasO = o.MoveNext();
            }
        }
    }
}
