using RocksDbSharp;

namespace Strata.Storage;

public sealed partial class RocksDbEngine
{
    /// <summary>
    /// A native RocksDB write batch: keys and values are copied into it as they are recorded, so the caller's spans
    /// can be reused at once. Not thread-safe.
    /// </summary>
    private sealed unsafe class Batch : IKvWriteBatch
    {
        private nint _handle;

        public Batch(RocksDbEngine engine)
        {
            Engine = engine;
            _handle = Native.Instance.rocksdb_writebatch_create();
        }

        public RocksDbEngine Engine { get; }

        public nint Handle
        {
            get
            {
                ObjectDisposedException.ThrowIf(_handle == 0, this);
                return _handle;
            }
        }

        public int Count => Native.Instance.rocksdb_writebatch_count(Handle);

        public void Put(KvColumn column, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            var handle = Handle;
            Engine._gate.Enter();
            try
            {
                var cf = Engine.ColumnHandle(column);
                fixed (byte* k = key)
                fixed (byte* v = value)
                {
                    Native.Instance.rocksdb_writebatch_put_cf(handle, cf, k, (nuint)key.Length, v, (nuint)value.Length);
                }
            }
            finally
            {
                Engine._gate.Exit();
            }
        }

        public void Delete(KvColumn column, ReadOnlySpan<byte> key)
        {
            var handle = Handle;
            Engine._gate.Enter();
            try
            {
                var cf = Engine.ColumnHandle(column);
                fixed (byte* k = key)
                {
                    Native.Instance.rocksdb_writebatch_delete_cf(handle, cf, k, (nuint)key.Length);
                }
            }
            finally
            {
                Engine._gate.Exit();
            }
        }

        public void DeleteRange(KvColumn column, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive)
        {
            var handle = Handle;
            KvArguments.ThrowIfInvertedRange(lowerInclusive, upperExclusive);
            Engine._gate.Enter();
            try
            {
                var cf = Engine.ColumnHandle(column);
                fixed (byte* lower = lowerInclusive)
                fixed (byte* upper = upperExclusive)
                {
                    Native.Instance.rocksdb_writebatch_delete_range_cf(
                        handle, cf, lower, (nuint)lowerInclusive.Length, upper, (nuint)upperExclusive.Length);
                }
            }
            finally
            {
                Engine._gate.Exit();
            }
        }

        public void Clear() => Native.Instance.rocksdb_writebatch_clear(Handle);

        public void Dispose()
        {
            var handle = _handle;
            if (handle != 0)
            {
                _handle = 0;
                Native.Instance.rocksdb_writebatch_destroy(handle);
            }
        }
    }
}
