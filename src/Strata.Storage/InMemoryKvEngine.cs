using System.Collections.Immutable;

namespace Strata.Storage;

/// <summary>
/// The deterministic in-memory twin of <see cref="RocksDbEngine"/>, for tests and the simulator. It passes the same
/// contract suite and adds what a simulator needs: crash simulation (<see cref="SimulateCrash"/>) and injected
/// durability failures (<see cref="FailNextSync"/>).
/// </summary>
/// <remarks>
/// <para>
/// Every column is a persistent (immutable) sorted set in unsigned byte order. The engine's whole content is one
/// immutable <see cref="State"/> object swapped atomically by writers, so readers never lock, a batch becomes visible
/// all at once, and a snapshot is just a captured reference: taking one is O(1) and it is truly point-in-time.
/// </para>
/// <para>
/// Concurrency: any number of threads may read, write, take snapshots and open cursors at the same time. Writes are
/// serialized by a lock. Cursors, like every <see cref="IKvCursor"/>, must not be shared between threads.
/// </para>
/// <para>
/// Durability model (the RocksDB write-ahead-log model): a write with <c>sync: false</c> is visible at once but
/// volatile; a write with <c>sync: true</c> makes itself and every earlier write durable (an fsync of the log covers
/// everything written before it). <see cref="SimulateCrash"/> throws the volatile writes away.
/// </para>
/// </remarks>
public sealed partial class InMemoryKvEngine : IKvEngine
{
    private const int ColumnCount = 3;

    private readonly Lock _writeLock = new();
    private readonly EngineGate _gate = new(nameof(InMemoryKvEngine));

    // What readers see. Replaced (never mutated) under _writeLock.
    private volatile State _visible = State.Empty;

    // What survives a crash: the state as of the last synced write. Guarded by _writeLock.
    private State _durable = State.Empty;

    // Batches written with sync: false since the last synced write, in order. Guarded by _writeLock.
    private readonly List<BatchOperation[]> _unsynced = [];

    private bool _failNextSync;

    /// <inheritdoc />
    public byte[]? Get(KvColumn column, ReadOnlySpan<byte> key)
    {
        _gate.ThrowIfUnusable();
        return _visible.Get(column, key);
    }

    /// <inheritdoc />
    public IKvCursor Scan(KvColumn column, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive)
    {
        _gate.ThrowIfUnusable();
        return new Cursor(_gate, _visible.Column(column), lowerInclusive, upperExclusive);
    }

    /// <inheritdoc />
    public IKvWriteBatch CreateBatch()
    {
        _gate.ThrowIfUnusable();
        return new Batch(this);
    }

    /// <inheritdoc />
    public IKvSnapshot Snapshot()
    {
        _gate.ThrowIfUnusable();
        return new SnapshotView(_gate, _visible);
    }

    /// <inheritdoc />
    public void Write(IKvWriteBatch batch, bool sync)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch is not Batch own || !ReferenceEquals(own.Engine, this))
        {
            throw new ArgumentException("The batch was not created by this engine.", nameof(batch));
        }

        own.ThrowIfDisposed();
        _gate.Enter();
        try
        {
            lock (_writeLock)
            {
                var operations = own.Operations.ToArray();
                var next = _visible.Apply(operations);
                if (sync && _failNextSync)
                {
                    // The write reached the "page cache" but its fsync failed: it is visible to nobody (the engine is
                    // poisoned) and survives a crash only like an unsynced batch would.
                    _failNextSync = false;
                    _unsynced.Add(operations);
                    _visible = next;
                    throw _gate.Poison("Injected fsync failure (InMemoryKvEngine.FailNextSync).", null);
                }

                _visible = next;
                if (sync)
                {
                    _durable = next;
                    _unsynced.Clear();
                }
                else if (operations.Length > 0)
                {
                    _unsynced.Add(operations);
                }
            }
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>
    /// Closes the engine: later calls on it, and on its snapshots, cursors and batches, throw
    /// <see cref="ObjectDisposedException"/>. Idempotent.
    /// </summary>
    public void Dispose() => _gate.Close();

    /// <summary>One recorded batch operation; <see cref="Kind"/> says which fields matter.</summary>
    internal readonly record struct BatchOperation(BatchOperationKind Kind, KvColumn Column, byte[] Key, byte[] ValueOrUpper);

    internal enum BatchOperationKind
    {
        Put,
        Delete,
        DeleteRange,
    }

    /// <summary>A stored pair. Ordered (and equal) by key only, so a set of them is a sorted map.</summary>
    internal sealed class Pair(byte[] key, byte[] value)
    {
        public byte[] Key { get; } = key;

        public byte[] Value { get; } = value;
    }

    private sealed class PairComparer : IComparer<Pair>
    {
        public static readonly PairComparer Instance = new();

        public int Compare(Pair? x, Pair? y) => KeyOrder.Comparer.Compare(x?.Key, y?.Key);
    }

    /// <summary>The immutable content of every column at one moment.</summary>
    internal sealed class State
    {
        public static readonly State Empty = new(
            [.. Enumerable.Repeat(ImmutableSortedSet.Create<Pair>(PairComparer.Instance), ColumnCount)]);

        private readonly ImmutableSortedSet<Pair>[] _columns;

        private State(ImmutableSortedSet<Pair>[] columns) => _columns = columns;

        public ImmutableSortedSet<Pair> Column(KvColumn column) => _columns[ColumnIndex(column)];

        public byte[]? Get(KvColumn column, ReadOnlySpan<byte> key) =>
            Column(column).TryGetValue(Probe(key), out var pair) ? pair.Value.ToArray() : null;

        public State Apply(IReadOnlyList<BatchOperation> operations)
        {
            if (operations.Count == 0)
            {
                return this;
            }

            var columns = (ImmutableSortedSet<Pair>[])_columns.Clone();
            foreach (var operation in operations)
            {
                ref var set = ref columns[ColumnIndex(operation.Column)];
                switch (operation.Kind)
                {
                    case BatchOperationKind.Put:
                        var pair = new Pair(operation.Key, operation.ValueOrUpper);
                        set = set.Remove(pair).Add(pair);
                        break;
                    case BatchOperationKind.Delete:
                        set = set.Remove(new Pair(operation.Key, []));
                        break;
                    case BatchOperationKind.DeleteRange:
                        var from = LowerBound(set, operation.Key);
                        var to = LowerBound(set, operation.ValueOrUpper);
                        if (from < to)
                        {
                            var doomed = new List<Pair>(to - from);
                            for (var i = from; i < to; i++)
                            {
                                doomed.Add(set[i]);
                            }

                            set = set.Except(doomed);
                        }

                        break;
                    default:
                        throw new InvalidOperationException($"Unknown batch operation {operation.Kind}.");
                }
            }

            return new State(columns);
        }

        private static int ColumnIndex(KvColumn column)
        {
            KvArguments.ThrowIfUnknownColumn(column);
            return (int)column;
        }
    }

    /// <summary>Index of the first pair whose key is &gt;= <paramref name="key"/> (Count when none). O(log n).</summary>
    internal static int LowerBound(ImmutableSortedSet<Pair> set, ReadOnlySpan<byte> key)
    {
        var index = set.IndexOf(Probe(key));
        return index >= 0 ? index : ~index;
    }

    /// <summary>Index of the first pair whose key is &gt; <paramref name="key"/> (Count when none). O(log n).</summary>
    internal static int UpperBound(ImmutableSortedSet<Pair> set, ReadOnlySpan<byte> key)
    {
        var index = set.IndexOf(Probe(key));
        return index >= 0 ? index + 1 : ~index;
    }

    /// <summary>A key-only pair to search with (pairs compare by key).</summary>
    private static Pair Probe(ReadOnlySpan<byte> key) => new(key.ToArray(), []);
}
