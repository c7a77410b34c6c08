using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Strata.Storage;

/// <summary>
/// An isolated keyspace inside another engine: one node runs one <see cref="RocksDbEngine"/> but hosts many shard
/// replicas, and each replica's state machine gets a <see cref="KeyspaceEngine"/> over the node's engine, so it sees
/// only its own keys, in every column, as if it had an engine of its own.
/// </summary>
/// <remarks>
/// <para>
/// Layout: every key k of every column is stored in the inner engine as <see cref="Prefix"/> + k. The keyspace is the
/// half-open range [prefix, successor(prefix)) of each inner column, where successor(prefix) is the smallest key
/// greater than every key that starts with the prefix (<see cref="OrderedKey.PrefixEnd"/>). Keys keep their order
/// (prepending a common prefix preserves memcmp order), so scans and cursors behave exactly as on an engine of their
/// own. Reads return and cursors show unprefixed keys; a scan with an empty upper bound ends at the end of the
/// keyspace, never beyond it. The keyspace is a view: it adds no storage and no durability of its own, so the inner
/// engine's contract (atomic batches, <c>sync: true</c> means durable, a durability failure poisons the engine) is
/// the keyspace's contract.
/// </para>
/// <para>
/// Isolation holds against every other keyspace whose prefix is neither a prefix of this one nor has this one as a
/// prefix; <see cref="ForShard"/> prefixes all have the same length, which guarantees it. Keys written into the inner
/// engine without a keyspace are not isolated from it: a raw key that starts with this prefix belongs to the keyspace
/// (it is seen by its scans and removed by <see cref="DeleteAll"/>). So raw users of a shared column must keep their
/// keys out of the prefix ranges (for shard keyspaces: out of [0x53, 0x54)).
/// </para>
/// <para>
/// Hot path: a point read builds prefix + key in a stack buffer (for inner keys up to <see cref="StackKeyBytes"/>
/// bytes; longer ones use <see cref="System.Buffers.ArrayPool{T}.Shared"/>) and calls the inner engine's
/// <see cref="IKvReader.Read{TResult}"/>, so RocksDB still decodes from its pinned slice: the read allocates only
/// what the decoder returns. The decoder is given the unprefixed key. This relies on the inner engine calling the
/// decoder synchronously, on the calling thread, during the call, as <see cref="ValueDecoder{TResult}"/> promises.
/// </para>
/// <para>
/// Batches: <see cref="CreateBatch"/> wraps a batch of the inner engine; its keys are prefixed as they are recorded.
/// <see cref="Write"/> accepts only batches made by this keyspace or by another <see cref="KeyspaceEngine"/> with the
/// same inner engine and the same prefix (the same keyspace opened twice, e.g. by a replica's state machine and its
/// reader). A raw batch of the inner engine is refused (it would write unprefixed keys), and so is the batch of
/// another keyspace: its keys are already prefixed, so writing it would be safe for the engine, but it would let one
/// shard's code change another shard's keys, which is what this type exists to prevent.
/// </para>
/// <para>
/// Concurrency: as the inner engine's. Any number of threads may read, write, take snapshots and open cursors at the
/// same time; batches and cursors must not be shared between threads.
/// </para>
/// <para>
/// Lifetime: <see cref="Dispose"/> closes the keyspace, not the inner engine, which the node owns and disposes after
/// every keyspace over it. Disposing the keyspace waits for calls in flight through it, releases the cursors and
/// snapshots still open through it, and makes every later call on it or on its batches, cursors and snapshots throw
/// <see cref="ObjectDisposedException"/>. It removes no data: use <see cref="DeleteAll"/> for that.
/// </para>
/// </remarks>
[SkipLocalsInit]
public sealed partial class KeyspaceEngine : IKvEngine
{
    /// <summary>First byte of every <see cref="ForShard"/> prefix ('S').</summary>
    public const byte ShardTag = 0x53;

    /// <summary>Length of every <see cref="ForShard"/> prefix: the tag and the shard id as 8 bytes big-endian.</summary>
    public const int ShardPrefixLength = 9;

    /// <summary>
    /// Inner keys (prefix + key) up to this length are built on the stack; longer ones in a pooled array. Shard
    /// keyspaces thus build keys of up to 1015 bytes without touching the heap.
    /// </summary>
    public const int StackKeyBytes = 1024;

    private static readonly KvColumn[] Columns = [KvColumn.Data, KvColumn.RaftLog, KvColumn.Local];

    private readonly IKvEngine _inner;
    private readonly byte[] _prefix;

    // successor(_prefix): the exclusive end of the keyspace in every inner column. Never empty (checked at creation).
    private readonly byte[] _end;

    private readonly EngineGate _gate = new(nameof(KeyspaceEngine));

    // Cursors and snapshots opened through the keyspace and not yet disposed; released by Dispose.
    private readonly HashSet<InnerResource> _openResources = [];
    private readonly Lock _resourcesLock = new();

    /// <summary>
    /// A keyspace of <paramref name="inner"/> holding every key that starts with <paramref name="prefix"/> (copied).
    /// </summary>
    /// <exception cref="ArgumentException">The prefix is empty or all 0xFF bytes: such a keyspace would have no end
    /// (no key greater than all of its keys), so it could not be scanned to its end or deleted whole.</exception>
    public KeyspaceEngine(IKvEngine inner, ReadOnlySpan<byte> prefix)
    {
        ArgumentNullException.ThrowIfNull(inner);
        var end = OrderedKey.PrefixEnd(prefix);
        if (end.Length == 0)
        {
            throw new ArgumentException(
                $"A keyspace prefix must be non-empty and not all 0xFF bytes (it needs a successor); got '{Convert.ToHexString(prefix)}'.",
                nameof(prefix));
        }

        _inner = inner;
        _prefix = prefix.ToArray();
        _end = end;
    }

    /// <summary>
    /// The keyspace of shard <paramref name="shardId"/> in the node's engine <paramref name="inner"/>: prefix
    /// <see cref="ShardPrefix"/>(<paramref name="shardId"/>).
    /// </summary>
    public static KeyspaceEngine ForShard(IKvEngine inner, ulong shardId) => new(inner, ShardPrefix(shardId));

    /// <summary>
    /// The prefix of shard <paramref name="shardId"/>'s keyspace: <see cref="ShardTag"/> (0x53, 'S') followed by the
    /// shard id as 8 bytes big-endian, <see cref="ShardPrefixLength"/> bytes in all.
    /// </summary>
    /// <remarks>
    /// Why shard keyspaces never overlap: two different byte strings of the same length are never a prefix of one
    /// another, so no inner key can start with two different shard prefixes, and the keyspaces
    /// [prefix, successor(prefix)) are disjoint ranges. Big-endian ids make the keyspaces sort by shard id. The last
    /// byte of a prefix may be 0xFF (shard 0x1FF): its successor then carries into the previous byte (0x53 00..02),
    /// which is still the next shard's prefix. The tag is never 0xFF, so every shard keyspace has an end.
    /// </remarks>
    public static byte[] ShardPrefix(ulong shardId)
    {
        var prefix = new byte[ShardPrefixLength];
        prefix[0] = ShardTag;
        BinaryPrimitives.WriteUInt64BigEndian(prefix.AsSpan(1), shardId);
        return prefix;
    }

    /// <summary>
    /// Records in <paramref name="innerBatch"/> (a batch of the inner engine) the deletion of shard
    /// <paramref name="shardId"/>'s whole keyspace: one range delete per column. Lets a caller delete a shard's state in
    /// the same atomic write as other inner-engine changes (the replica's Raft log, when a replica is removed).
    /// </summary>
    public static void DeleteShard(IKvWriteBatch innerBatch, ulong shardId)
    {
        ArgumentNullException.ThrowIfNull(innerBatch);
        var prefix = ShardPrefix(shardId);
        var end = OrderedKey.PrefixEnd(prefix);
        foreach (var column in Columns)
        {
            innerBatch.DeleteRange(column, prefix, end);
        }
    }

    /// <summary>The bytes prepended to every key of the keyspace in the inner engine.</summary>
    public ReadOnlySpan<byte> Prefix => _prefix;

    /// <inheritdoc />
    public byte[]? Get(KvColumn column, ReadOnlySpan<byte> key)
    {
        _gate.Enter();
        try
        {
            return GetFrom(_inner, column, key);
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <inheritdoc />
    /// <remarks><paramref name="decode"/> receives the key without the keyspace prefix.</remarks>
    public TResult? Read<TResult>(KvColumn column, ReadOnlySpan<byte> key, ValueDecoder<TResult> decode)
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(decode);
        _gate.Enter();
        try
        {
            return ReadFrom(_inner, column, key, decode);
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <inheritdoc />
    /// <remarks>An empty <paramref name="upperExclusive"/> means the end of the keyspace, never beyond.</remarks>
    public IKvCursor Scan(KvColumn column, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive)
    {
        _gate.Enter();
        try
        {
            return ScanFrom(_inner, column, lowerInclusive, upperExclusive);
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <inheritdoc />
    /// <remarks>The batch wraps a batch of the inner engine; disposing it disposes that one.</remarks>
    public IKvWriteBatch CreateBatch()
    {
        _gate.Enter();
        try
        {
            return new Batch(this, _inner.CreateBatch());
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The batch was not created by this keyspace or by a
    /// <see cref="KeyspaceEngine"/> with the same inner engine and prefix.</exception>
    /// <exception cref="StorageFailureException">The inner engine failed the write and is now poisoned.</exception>
    public void Write(IKvWriteBatch batch, bool sync)
    {
        var own = OwnBatch(batch);
        own.ThrowIfUnusable();
        _gate.Enter();
        try
        {
            _inner.Write(own.Inner, sync);
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <inheritdoc />
    /// <remarks>A prefixed view of a snapshot of the inner engine, taken now: point-in-time for this keyspace.</remarks>
    public IKvSnapshot Snapshot()
    {
        _gate.Enter();
        try
        {
            var inner = _inner.Snapshot();
            var snapshot = new SnapshotView(this, inner);
            Register(snapshot);
            return snapshot;
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>
    /// Records in <paramref name="batch"/> the removal of the whole keyspace, in every column: one range delete per
    /// column over [prefix, successor(prefix)) of the inner engine. Nothing changes until the batch is written;
    /// operations recorded after it in the same batch (the puts of a snapshot being installed) survive it.
    /// </summary>
    /// <remarks>Used when a replica is removed from the node or its state is replaced by a snapshot. Neighbouring
    /// keyspaces are untouched: their keys do not start with this prefix, so they lie outside every range deleted.</remarks>
    /// <exception cref="ArgumentException">The batch is not one <see cref="Write"/> would accept.</exception>
    public void DeleteAll(IKvWriteBatch batch) => OwnBatch(batch).RecordDeleteAll();

    /// <summary>
    /// Closes the keyspace (not the inner engine): waits for calls in flight through it, releases its open cursors
    /// and snapshots; every later call on it or its batches, cursors and snapshots throws
    /// <see cref="ObjectDisposedException"/>. Idempotent and safe to call from any thread. The keys stay stored.
    /// </summary>
    public void Dispose()
    {
        if (!_gate.Close())
        {
            return;
        }

        lock (_resourcesLock)
        {
            foreach (var resource in _openResources)
            {
                resource.ReleaseInner();
            }

            _openResources.Clear();
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{nameof(KeyspaceEngine)} {Convert.ToHexString(_prefix)} over {_inner.GetType().Name}";

    private byte[]? GetFrom(IKvReader reader, KvColumn column, ReadOnlySpan<byte> key)
    {
        using var innerKey = new InnerKey(_prefix, key, stackalloc byte[StackKeyBytes]);
        return reader.Get(column, innerKey.Span);
    }

    private TResult? ReadFrom<TResult>(IKvReader reader, KvColumn column, ReadOnlySpan<byte> key, ValueDecoder<TResult> decode)
        where TResult : class
    {
        using var innerKey = new InnerKey(_prefix, key, stackalloc byte[StackKeyBytes]);
        DecoderFrames.Push(decode, _prefix.Length);
        try
        {
            return reader.Read(column, innerKey.Span, KeyStripping<TResult>.Decoder);
        }
        finally
        {
            DecoderFrames.Pop();
        }
    }

    private Cursor ScanFrom(IKvReader reader, KvColumn column, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive)
    {
        using var lower = new InnerKey(_prefix, lowerInclusive, stackalloc byte[StackKeyBytes]);

        // An empty upper bound is the end of the keyspace: "_end followed by nothing".
        using var upper = upperExclusive.IsEmpty
            ? new InnerKey(_end, [], stackalloc byte[StackKeyBytes])
            : new InnerKey(_prefix, upperExclusive, stackalloc byte[StackKeyBytes]);
        var cursor = new Cursor(this, reader.Scan(column, lower.Span, upper.Span));
        Register(cursor);
        return cursor;
    }

    /// <summary>The batch as this keyspace's own, or an exception saying why it is not.</summary>
    private Batch OwnBatch(IKvWriteBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch is Batch own
            && (ReferenceEquals(own.Keyspace, this)
                || (ReferenceEquals(own.Keyspace._inner, _inner) && own.Keyspace._prefix.AsSpan().SequenceEqual(_prefix))))
        {
            return own;
        }

        var origin = batch is Batch other ? $"the keyspace {Convert.ToHexString(other.Keyspace._prefix)} over {other.Keyspace._inner.GetType().Name}" : batch.GetType().FullName;
        throw new ArgumentException(
            $"The batch was not created by this keyspace ({this}) but by {origin}. A keyspace writes only batches made by a " +
            "KeyspaceEngine with the same inner engine and prefix: a raw batch would write unprefixed keys, another keyspace's batch that keyspace's keys.",
            nameof(batch));
    }

    private void Register(InnerResource resource)
    {
        lock (_resourcesLock)
        {
            _openResources.Add(resource);
        }
    }

    /// <summary>Releases a resource's inner object once, whoever (its owner or the keyspace's Dispose) comes first.</summary>
    private void Release(InnerResource resource)
    {
        lock (_resourcesLock)
        {
            if (_openResources.Remove(resource))
            {
                resource.ReleaseInner();
            }
        }
    }

    /// <summary>
    /// A cursor or snapshot of the inner engine held by a wrapper: released exactly once (by its owner or by the
    /// keyspace's Dispose, whichever comes first), and every call into it admitted through the keyspace's gate.
    /// </summary>
    private abstract class InnerResource(KeyspaceEngine keyspace, IDisposable inner, string kind) : IDisposable
    {
        private volatile bool _released;

        protected KeyspaceEngine Keyspace => keyspace;

        protected bool Released => _released;

        public void Dispose()
        {
            if (!_released)
            {
                keyspace.Release(this);
            }
        }

        internal void ReleaseInner()
        {
            _released = true;
            inner.Dispose();
        }

        /// <summary>Admits one call through the keyspace's gate, so the keyspace's Dispose waits for it; pair with <see cref="Exit"/>.</summary>
        protected void Enter()
        {
            keyspace._gate.Enter();
            if (_released)
            {
                keyspace._gate.Exit();
                throw Disposed();
            }
        }

        protected void Exit() => keyspace._gate.Exit();

        protected ObjectDisposedException Disposed() => new(nameof(KeyspaceEngine) + " " + kind);
    }
}
