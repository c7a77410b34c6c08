namespace Strata.Storage;

public sealed partial class KeyspaceEngine
{
    /// <summary>
    /// A snapshot of the inner engine read through the keyspace's prefix: point-in-time because the inner one is.
    /// Cursors opened from it belong to the keyspace (like the inner engines' cursors, they outlive the snapshot).
    /// </summary>
    private sealed class SnapshotView(KeyspaceEngine keyspace, IKvSnapshot inner) : IKvSnapshot, IInnerResource
    {
        private volatile bool _released;

        public byte[]? Get(KvColumn column, ReadOnlySpan<byte> key)
        {
            Enter();
            try
            {
                return keyspace.GetFrom(inner, column, key);
            }
            finally
            {
                keyspace._gate.Exit();
            }
        }

        public TResult? Read<TResult>(KvColumn column, ReadOnlySpan<byte> key, ValueDecoder<TResult> decode)
            where TResult : class
        {
            ArgumentNullException.ThrowIfNull(decode);
            Enter();
            try
            {
                return keyspace.ReadFrom(inner, column, key, decode);
            }
            finally
            {
                keyspace._gate.Exit();
            }
        }

        public IKvCursor Scan(KvColumn column, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive)
        {
            Enter();
            try
            {
                return keyspace.ScanFrom(inner, column, lowerInclusive, upperExclusive);
            }
            finally
            {
                keyspace._gate.Exit();
            }
        }

        public void Dispose()
        {
            if (!_released)
            {
                keyspace.Release(this);
            }
        }

        void IInnerResource.ReleaseInner()
        {
            _released = true;
            inner.Dispose();
        }

        private void Enter()
        {
            keyspace._gate.Enter();
            if (_released)
            {
                keyspace._gate.Exit();
                throw new ObjectDisposedException(nameof(KeyspaceEngine) + " snapshot");
            }
        }
    }
}
