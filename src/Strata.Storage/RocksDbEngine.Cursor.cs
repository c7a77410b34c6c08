using System.Runtime.InteropServices;
using RocksDbSharp;

namespace Strata.Storage;

public sealed partial class RocksDbEngine
{
    private IKvCursor OpenCursor(KvColumn column, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive, SnapshotView? snapshot)
    {
        _gate.Enter();
        try
        {
            var cf = ColumnHandle(column);
            var snapshotHandle = snapshot?.AcquireHandle() ?? 0;
            var cursor = new Cursor(this, cf, snapshotHandle, lowerInclusive, upperExclusive);
            Register(cursor);
            return cursor;
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>
    /// A RocksDB iterator with <c>iterate_lower_bound</c>/<c>iterate_upper_bound</c>. It reads one implicit (or the
    /// given explicit) sequence number for its whole life, so it is a consistent view even while others write.
    /// </summary>
    /// <remarks>
    /// The C API keeps pointers, not copies, to the bound bytes and to the read options that hold them, and the
    /// iterator dereferences them on every step. So the cursor owns both: the bounds live in one native allocation
    /// and the read options are destroyed only after the iterator. The cursor also re-checks every position against
    /// its bounds and clamps seeks, so its behaviour does not depend on how a given RocksDB version treats seeks
    /// outside the bounds.
    /// </remarks>
    private sealed unsafe class Cursor : IKvCursor, INativeResource
    {
        private readonly RocksDbEngine _engine;
        private readonly nint _iterator;
        private readonly nint _readOptions;
        private readonly byte* _bounds;
        private readonly int _lowerLength;
        private readonly int _upperLength;
        private readonly bool _bounded;

        private volatile bool _released;
        private bool _valid;
        private byte* _key;
        private int _keyLength;
        private byte* _value;
        private int _valueLength;

        public Cursor(RocksDbEngine engine, nint columnFamily, nint snapshot, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive)
        {
            _engine = engine;
            _lowerLength = lowerInclusive.Length;
            _upperLength = upperExclusive.Length;
            _bounded = !upperExclusive.IsEmpty;
            _bounds = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, _lowerLength + _upperLength));
            lowerInclusive.CopyTo(new Span<byte>(_bounds, _lowerLength));
            upperExclusive.CopyTo(new Span<byte>(_bounds + _lowerLength, _upperLength));

            _readOptions = engine.CreateReadOptions(snapshot);
            if (_lowerLength > 0)
            {
                Native.Instance.rocksdb_readoptions_set_iterate_lower_bound(_readOptions, _bounds, (nuint)_lowerLength);
            }

            if (_bounded)
            {
                Native.Instance.rocksdb_readoptions_set_iterate_upper_bound(_readOptions, _bounds + _lowerLength, (nuint)_upperLength);
            }

            _iterator = Native.Instance.rocksdb_create_iterator_cf(engine._dbHandle, _readOptions, columnFamily);
        }

        private ReadOnlySpan<byte> Lower => new(_bounds, _lowerLength);

        private ReadOnlySpan<byte> Upper => new(_bounds + _lowerLength, _upperLength);

        public bool Valid
        {
            get
            {
                ThrowIfReleased();
                return _valid;
            }
        }

        public ReadOnlySpan<byte> Key
        {
            get
            {
                ThrowIfNotValid();
                return new ReadOnlySpan<byte>(_key, _keyLength);
            }
        }

        public ReadOnlySpan<byte> Value
        {
            get
            {
                ThrowIfNotValid();
                return new ReadOnlySpan<byte>(_value, _valueLength);
            }
        }

        public void SeekToFirst()
        {
            Enter();
            try
            {
                Native.Instance.rocksdb_iter_seek_to_first(_iterator);
                Capture();
            }
            finally
            {
                _engine._gate.Exit();
            }
        }

        public void SeekToLast()
        {
            Enter();
            try
            {
                Native.Instance.rocksdb_iter_seek_to_last(_iterator);
                Capture();
            }
            finally
            {
                _engine._gate.Exit();
            }
        }

        public void Seek(ReadOnlySpan<byte> key)
        {
            Enter();
            try
            {
                if (key.SequenceCompareTo(Lower) < 0)
                {
                    key = Lower;
                }

                fixed (byte* target = key)
                {
                    Native.Instance.rocksdb_iter_seek(_iterator, target, (nuint)key.Length);
                }

                Capture();
            }
            finally
            {
                _engine._gate.Exit();
            }
        }

        public void SeekForPrev(ReadOnlySpan<byte> key)
        {
            Enter();
            try
            {
                if (_bounded && key.SequenceCompareTo(Upper) >= 0)
                {
                    Native.Instance.rocksdb_iter_seek_to_last(_iterator);
                }
                else
                {
                    fixed (byte* target = key)
                    {
                        Native.Instance.rocksdb_iter_seek_for_prev(_iterator, target, (nuint)key.Length);
                    }
                }

                Capture();
            }
            finally
            {
                _engine._gate.Exit();
            }
        }

        public void Next()
        {
            EnterPositioned();
            try
            {
                Native.Instance.rocksdb_iter_next(_iterator);
                Capture();
            }
            finally
            {
                _engine._gate.Exit();
            }
        }

        public void Prev()
        {
            EnterPositioned();
            try
            {
                Native.Instance.rocksdb_iter_prev(_iterator);
                Capture();
            }
            finally
            {
                _engine._gate.Exit();
            }
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
            _valid = false;
            Native.Instance.rocksdb_iter_destroy(_iterator);
            Native.Instance.rocksdb_readoptions_destroy(_readOptions);
            NativeMemory.Free(_bounds);
        }

        /// <summary>Reads the iterator's position into the cache; surfaces iterator errors.</summary>
        private void Capture()
        {
            _valid = Native.Instance.rocksdb_iter_valid(_iterator) != 0;
            if (!_valid)
            {
                Native.Instance.rocksdb_iter_get_error(_iterator, out var error);
                if (error != 0)
                {
                    var message = TakeError(error);
                    throw IsCorruption(message)
                        ? new CorruptionException($"RocksDB reported corruption while iterating: {message}")
                        : new StorageFailureException($"RocksDB failed while iterating: {message}");
                }

                return;
            }

            _key = (byte*)Native.Instance.rocksdb_iter_key(_iterator, out var keyLength);
            _keyLength = checked((int)keyLength);
            var key = new ReadOnlySpan<byte>(_key, _keyLength);
            if (key.SequenceCompareTo(Lower) < 0 || (_bounded && key.SequenceCompareTo(Upper) >= 0))
            {
                _valid = false;
                return;
            }

            _value = (byte*)Native.Instance.rocksdb_iter_value(_iterator, out var valueLength);
            _valueLength = checked((int)valueLength);
        }

        private void Enter()
        {
            // Gate first: once admitted, the engine's Dispose waits for us before releasing this cursor.
            _engine._gate.Enter();
            if (_released)
            {
                _engine._gate.Exit();
                throw new ObjectDisposedException(nameof(RocksDbEngine) + " cursor");
            }

            _valid = false;
        }

        private void EnterPositioned()
        {
            ThrowIfNotValid();
            Enter();
        }

        private void ThrowIfReleased() => ObjectDisposedException.ThrowIf(_released, this);

        private void ThrowIfNotValid()
        {
            ThrowIfReleased();
            if (!_valid)
            {
                throw new InvalidOperationException("The cursor is not positioned on an entry: seek first.");
            }
        }
    }
}
