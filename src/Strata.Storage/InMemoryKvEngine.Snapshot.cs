namespace Strata.Storage;

public sealed partial class InMemoryKvEngine
{
    /// <summary>A captured immutable state: O(1) to take, truly point-in-time, no resources held.</summary>
    private sealed class SnapshotView(EngineGate gate, State state) : IKvSnapshot
    {
        private bool _disposed;

        public byte[]? Get(KvColumn column, ReadOnlySpan<byte> key)
        {
            ThrowIfUnusable();
            return state.Get(column, key);
        }

        public IKvCursor Scan(KvColumn column, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive)
        {
            ThrowIfUnusable();
            return new Cursor(gate, state.Column(column), lowerInclusive, upperExclusive);
        }

        public void Dispose() => _disposed = true;

        private void ThrowIfUnusable()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            gate.ThrowIfUnusable();
        }
    }
}
