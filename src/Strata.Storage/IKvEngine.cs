namespace Strata.Storage;

/// <summary>
/// The column families every node's engine has. One engine (one RocksDB) per node holds all of them.
/// </summary>
public enum KvColumn
{
    /// <summary>Replicated namespace data of every shard (MVCC data keys, indexes, applied state).</summary>
    Data = 0,

    /// <summary>Raft log entries and hard state of every group hosted on the node.</summary>
    RaftLog = 1,

    /// <summary>Node-local state that is never replicated (node identity, local counters).</summary>
    Local = 2,
}

/// <summary>
/// Point reads and ordered range scans over one consistent view of the engine.
/// </summary>
/// <remarks>
/// Keys compare as unsigned bytes, lexicographically (memcmp order), in every implementation.
/// Returned arrays belong to the caller. Implementations are safe for concurrent readers.
/// </remarks>
public interface IKvReader
{
    /// <summary>The value stored at <paramref name="key"/>, or null when there is none.</summary>
    byte[]? Get(KvColumn column, ReadOnlySpan<byte> key);

    /// <summary>
    /// Decodes the value stored at <paramref name="key"/> in place with <paramref name="decode"/> (given the key and
    /// the value, valid only during the call) and returns what it returns, or null when there is no value. Engines
    /// that can lend their own buffer (RocksDB's pinned slices) copy nothing: the hot point read allocates only the
    /// decoded result.
    /// </summary>
    TResult? Read<TResult>(KvColumn column, ReadOnlySpan<byte> key, ValueDecoder<TResult> decode)
        where TResult : class
    {
        byte[]? value = Get(column, key);
        return value is null ? null : decode(key, value);
    }

    /// <summary>
    /// A cursor over the keys k with <paramref name="lowerInclusive"/> &lt;= k &lt; <paramref name="upperExclusive"/>.
    /// An empty <paramref name="upperExclusive"/> means "no upper bound". The cursor starts unpositioned:
    /// call <see cref="IKvCursor.SeekToFirst"/>, <see cref="IKvCursor.SeekToLast"/>, <see cref="IKvCursor.Seek"/>
    /// or <see cref="IKvCursor.SeekForPrev"/> first.
    /// </summary>
    IKvCursor Scan(KvColumn column, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive);
}

/// <summary>Turns a stored value into a result; <paramref name="value"/> is valid only during the call.</summary>
public delegate TResult ValueDecoder<out TResult>(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

/// <summary>
/// A positioned, bidirectional cursor over a key range. Not thread-safe; dispose it when done.
/// </summary>
public interface IKvCursor : IDisposable
{
    /// <summary>True while the cursor stands on an entry inside its range.</summary>
    bool Valid { get; }

    /// <summary>The current key. Only meaningful while <see cref="Valid"/>; valid until the cursor moves.</summary>
    ReadOnlySpan<byte> Key { get; }

    /// <summary>The current value. Only meaningful while <see cref="Valid"/>; valid until the cursor moves.</summary>
    ReadOnlySpan<byte> Value { get; }

    /// <summary>Moves to the smallest key of the range.</summary>
    void SeekToFirst();

    /// <summary>Moves to the largest key of the range.</summary>
    void SeekToLast();

    /// <summary>Moves to the smallest key &gt;= <paramref name="key"/> (clamped to the range).</summary>
    void Seek(ReadOnlySpan<byte> key);

    /// <summary>Moves to the largest key &lt;= <paramref name="key"/> (clamped to the range).</summary>
    void SeekForPrev(ReadOnlySpan<byte> key);

    /// <summary>Moves to the next larger key.</summary>
    void Next();

    /// <summary>Moves to the next smaller key.</summary>
    void Prev();
}

/// <summary>A point-in-time view: reads through it never see writes made after it was taken.</summary>
public interface IKvSnapshot : IKvReader, IDisposable;

/// <summary>
/// An atomic group of writes. Nothing in it is visible until <see cref="IKvEngine.Write"/> and then all of it is.
/// Not thread-safe.
/// </summary>
public interface IKvWriteBatch : IDisposable
{
    /// <summary>Number of operations recorded.</summary>
    int Count { get; }

    /// <summary>Stores <paramref name="value"/> at <paramref name="key"/>, replacing what was there.</summary>
    void Put(KvColumn column, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

    /// <summary>Removes <paramref name="key"/> if present.</summary>
    void Delete(KvColumn column, ReadOnlySpan<byte> key);

    /// <summary>Removes every key k with <paramref name="lowerInclusive"/> &lt;= k &lt; <paramref name="upperExclusive"/>.</summary>
    void DeleteRange(KvColumn column, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive);

    /// <summary>Forgets every recorded operation so the batch can be reused.</summary>
    void Clear();
}

/// <summary>
/// The node's ordered key-value engine: RocksDB in production, an in-memory twin in tests and in the simulator.
/// Both pass the same contract suite (tests/Strata.Storage.Tests).
/// </summary>
/// <remarks>
/// Duties of the caller: every write that must survive a crash goes through <see cref="Write"/> with
/// <c>sync: true</c>; the engine returns only after the write is durable. If making a write durable fails,
/// the engine throws <see cref="StorageFailureException"/> and must not be used again: the process is
/// expected to stop (never retry an fsync). Reads and writes may be called concurrently.
/// </remarks>
public interface IKvEngine : IKvReader, IDisposable
{
    /// <summary>A new empty batch for this engine.</summary>
    IKvWriteBatch CreateBatch();

    /// <summary>Applies <paramref name="batch"/> atomically; with <paramref name="sync"/> it is durable on return.</summary>
    void Write(IKvWriteBatch batch, bool sync);

    /// <summary>A consistent point-in-time view of every column.</summary>
    IKvSnapshot Snapshot();
}
