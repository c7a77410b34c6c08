namespace Strata.Storage;

public sealed partial class InMemoryKvEngine
{
    /// <summary>Records copies of keys and values; nothing is applied until <see cref="Write"/>.</summary>
    private sealed class Batch(InMemoryKvEngine engine) : IKvWriteBatch
    {
        private readonly List<BatchOperation> _operations = [];
        private bool _disposed;

        public InMemoryKvEngine Engine { get; } = engine;

        public IReadOnlyList<BatchOperation> Operations => _operations;

        public int Count
        {
            get
            {
                ThrowIfDisposed();
                return _operations.Count;
            }
        }

        public void Put(KvColumn column, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            ThrowIfDisposed();
            ValidateColumn(column);
            _operations.Add(new BatchOperation(BatchOperationKind.Put, column, key.ToArray(), value.ToArray()));
        }

        public void Delete(KvColumn column, ReadOnlySpan<byte> key)
        {
            ThrowIfDisposed();
            ValidateColumn(column);
            _operations.Add(new BatchOperation(BatchOperationKind.Delete, column, key.ToArray(), []));
        }

        public void DeleteRange(KvColumn column, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive)
        {
            ThrowIfDisposed();
            ValidateColumn(column);
            ValidateRange(lowerInclusive, upperExclusive);
            _operations.Add(new BatchOperation(BatchOperationKind.DeleteRange, column, lowerInclusive.ToArray(), upperExclusive.ToArray()));
        }

        public void Clear()
        {
            ThrowIfDisposed();
            _operations.Clear();
        }

        public void Dispose()
        {
            _disposed = true;
            _operations.Clear();
        }

        public void ThrowIfDisposed()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Engine._gate.ThrowIfUnusable();
        }
    }

    internal static void ValidateColumn(KvColumn column)
    {
        if ((uint)column > (uint)KvColumn.Local)
        {
            throw new ArgumentOutOfRangeException(nameof(column), column, "Unknown column.");
        }
    }

    /// <summary>
    /// DeleteRange needs lower &lt;= upper. Unlike <see cref="IKvReader.Scan"/>, an empty upper bound is not
    /// "unbounded" (RocksDB has no largest key to delete up to): use <see cref="OrderedKey.PrefixEnd"/>.
    /// </summary>
    internal static void ValidateRange(ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive)
    {
        if (lowerInclusive.SequenceCompareTo(upperExclusive) > 0)
        {
            throw new ArgumentException(
                $"DeleteRange needs lowerInclusive <= upperExclusive (an empty upper bound is not 'unbounded' here); got [{Convert.ToHexString(lowerInclusive)}, {Convert.ToHexString(upperExclusive)}).",
                nameof(upperExclusive));
        }
    }
}
