namespace Strata.Storage;

public sealed partial class KeyspaceEngine
{
    /// <summary>
    /// A batch of the inner engine that prefixes keys as they are recorded (the inner batch copies them, so the
    /// caller's buffers may be reused at once). Count and Clear pass through. Not thread-safe.
    /// </summary>
    private sealed class Batch(KeyspaceEngine keyspace, IKvWriteBatch inner) : IKvWriteBatch
    {
        private bool _disposed;

        public KeyspaceEngine Keyspace { get; } = keyspace;

        public IKvWriteBatch Inner { get; } = inner;

        public int Count
        {
            get
            {
                ThrowIfUnusable();
                return Inner.Count;
            }
        }

        public void Put(KvColumn column, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            ThrowIfUnusable();
            using var innerKey = new InnerKey(Keyspace._prefix, key, stackalloc byte[StackKeyBytes]);
            Inner.Put(column, innerKey.Span, value);
        }

        public void Delete(KvColumn column, ReadOnlySpan<byte> key)
        {
            ThrowIfUnusable();
            using var innerKey = new InnerKey(Keyspace._prefix, key, stackalloc byte[StackKeyBytes]);
            Inner.Delete(column, innerKey.Span);
        }

        public void DeleteRange(KvColumn column, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive)
        {
            ThrowIfUnusable();

            // Checked on the caller's keys so the message shows them. As for any engine, an empty upper bound is not
            // "to the end" here; DeleteAll removes the whole keyspace.
            KvArguments.ThrowIfInvertedRange(lowerInclusive, upperExclusive);
            using var lower = new InnerKey(Keyspace._prefix, lowerInclusive, stackalloc byte[StackKeyBytes]);
            using var upper = new InnerKey(Keyspace._prefix, upperExclusive, stackalloc byte[StackKeyBytes]);
            Inner.DeleteRange(column, lower.Span, upper.Span);
        }

        public void Clear()
        {
            ThrowIfUnusable();
            Inner.Clear();
        }

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                Inner.Dispose();
            }
        }

        /// <summary>One range delete per column over the whole keyspace, [prefix, successor(prefix)).</summary>
        public void RecordDeleteAll()
        {
            ThrowIfUnusable();
            foreach (var column in Columns)
            {
                Inner.DeleteRange(column, Keyspace._prefix, Keyspace._end);
            }
        }

        public void ThrowIfUnusable()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Keyspace._gate.ThrowIfUnusable();
        }
    }
}
