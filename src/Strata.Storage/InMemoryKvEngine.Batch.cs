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
            KvArguments.ThrowIfUnknownColumn(column);
            _operations.Add(new BatchOperation(BatchOperationKind.Put, column, key.ToArray(), value.ToArray()));
        }

        public void Delete(KvColumn column, ReadOnlySpan<byte> key)
        {
            ThrowIfDisposed();
            KvArguments.ThrowIfUnknownColumn(column);
            _operations.Add(new BatchOperation(BatchOperationKind.Delete, column, key.ToArray(), []));
        }

        public void DeleteRange(KvColumn column, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive)
        {
            ThrowIfDisposed();
            KvArguments.ThrowIfUnknownColumn(column);
            KvArguments.ThrowIfInvertedRange(lowerInclusive, upperExclusive);
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
}
