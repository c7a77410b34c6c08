namespace Strata.Storage;

public sealed partial class KeyspaceEngine
{
    /// <summary>
    /// A cursor of the inner engine opened over the prefixed bounds: every key it can stand on starts with the prefix,
    /// which <see cref="Key"/> strips. Seeks prefix their target and rely on the inner cursor's clamping to its bounds,
    /// which are inside the keyspace, so no seek can leave it.
    /// </summary>
    private sealed class Cursor(KeyspaceEngine keyspace, IKvCursor inner) : InnerResource(keyspace, inner, "cursor"), IKvCursor
    {
        // Valid, Key and Value read what the last move captured and never step the inner cursor, so a flag check is
        // enough (as for the inner engines); moves go through the gate because they call into the inner cursor.
        public bool Valid
        {
            get
            {
                ThrowIfReleased();
                return inner.Valid;
            }
        }

        public ReadOnlySpan<byte> Key
        {
            get
            {
                ThrowIfReleased();
                return inner.Key[Keyspace._prefix.Length..];
            }
        }

        public ReadOnlySpan<byte> Value
        {
            get
            {
                ThrowIfReleased();
                return inner.Value;
            }
        }

        public void SeekToFirst()
        {
            Enter();
            try
            {
                inner.SeekToFirst();
            }
            finally
            {
                Exit();
            }
        }

        public void SeekToLast()
        {
            Enter();
            try
            {
                inner.SeekToLast();
            }
            finally
            {
                Exit();
            }
        }

        public void Seek(ReadOnlySpan<byte> key)
        {
            Enter();
            try
            {
                using var target = new InnerKey(Keyspace._prefix, key, stackalloc byte[StackKeyBytes]);
                inner.Seek(target.Span);
            }
            finally
            {
                Exit();
            }
        }

        public void SeekForPrev(ReadOnlySpan<byte> key)
        {
            Enter();
            try
            {
                // prefix + key is below the keyspace's end whatever the key, so the inner clamp to the upper bound
                // (the caller's, or the keyspace's end) is all that is needed.
                using var target = new InnerKey(Keyspace._prefix, key, stackalloc byte[StackKeyBytes]);
                inner.SeekForPrev(target.Span);
            }
            finally
            {
                Exit();
            }
        }

        public void Next()
        {
            Enter();
            try
            {
                inner.Next();
            }
            finally
            {
                Exit();
            }
        }

        public void Prev()
        {
            Enter();
            try
            {
                inner.Prev();
            }
            finally
            {
                Exit();
            }
        }

        private void ThrowIfReleased()
        {
            if (Released || Keyspace._gate.IsClosed)
            {
                throw Disposed();
            }
        }
    }
}
