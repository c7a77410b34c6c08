using RocksDbSharp;

namespace Strata.Storage;

public sealed partial class RocksDbEngine
{
    /// <summary>
    /// A RocksDB snapshot plus read options pinned to it. Cursors opened from it copy its sequence number when they
    /// are created, so they stay consistent even if the snapshot is disposed before them.
    /// </summary>
    private sealed class SnapshotView : IKvSnapshot, INativeResource
    {
        private readonly RocksDbEngine _engine;
        private readonly nint _snapshot;
        private readonly nint _readOptions;
        private volatile bool _released;

        public SnapshotView(RocksDbEngine engine)
        {
            _engine = engine;
            _snapshot = Native.Instance.rocksdb_create_snapshot(engine._dbHandle);
            _readOptions = engine.CreateReadOptions(_snapshot);
        }

        public byte[]? Get(KvColumn column, ReadOnlySpan<byte> key)
        {
            _engine._gate.Enter();
            try
            {
                ThrowIfReleased();
                return _engine.GetWith(_readOptions, column, key);
            }
            finally
            {
                _engine._gate.Exit();
            }
        }

        public TResult? Read<TResult>(KvColumn column, ReadOnlySpan<byte> key, ValueDecoder<TResult> decode)
            where TResult : class
        {
            _engine._gate.Enter();
            try
            {
                ThrowIfReleased();
                return _engine.ReadWith(_readOptions, column, key, decode);
            }
            finally
            {
                _engine._gate.Exit();
            }
        }

        public IKvCursor Scan(KvColumn column, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive) =>
            _engine.OpenCursor(column, lowerInclusive, upperExclusive, this);

        /// <summary>The native snapshot, for a cursor being created inside the engine's gate.</summary>
        public nint AcquireHandle()
        {
            ThrowIfReleased();
            return _snapshot;
        }

        public void Dispose()
        {
            if (!_released)
            {
                _engine.Release(this);
            }
        }

        void INativeResource.ReleaseNative()
        {
            _released = true;
            Native.Instance.rocksdb_readoptions_destroy(_readOptions);
            Native.Instance.rocksdb_release_snapshot(_engine._dbHandle, _snapshot);
        }

        private void ThrowIfReleased() => ObjectDisposedException.ThrowIf(_released, this);
    }
}
