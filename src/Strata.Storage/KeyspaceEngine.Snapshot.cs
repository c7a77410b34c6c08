namespace Strata.Storage;

public sealed partial class KeyspaceEngine
{
    /// <summary>
    /// A snapshot of the inner engine read through the keyspace's prefix: point-in-time because the inner one is.
    /// Cursors opened from it belong to the keyspace (like the inner engines' cursors, they outlive the snapshot).
    /// </summary>
    private sealed class SnapshotView(KeyspaceEngine keyspace, IKvSnapshot inner) : InnerResource(keyspace, inner, "snapshot"), IKvSnapshot
    {
        public byte[]? Get(KvColumn column, ReadOnlySpan<byte> key)
        {
            Enter();
            try
            {
                return Keyspace.GetFrom(inner, column, key);
            }
            finally
            {
                Exit();
            }
        }

        public TResult? Read<TResult>(KvColumn column, ReadOnlySpan<byte> key, ValueDecoder<TResult> decode)
            where TResult : class
        {
            ArgumentNullException.ThrowIfNull(decode);
            Enter();
            try
            {
                return Keyspace.ReadFrom(inner, column, key, decode);
            }
            finally
            {
                Exit();
            }
        }

        public IKvCursor Scan(KvColumn column, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive)
        {
            Enter();
            try
            {
                return Keyspace.ScanFrom(inner, column, lowerInclusive, upperExclusive);
            }
            finally
            {
                Exit();
            }
        }
    }
}
