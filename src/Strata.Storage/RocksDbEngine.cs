using System.Runtime.InteropServices;
using RocksDbSharp;

namespace Strata.Storage;

/// <summary>
/// <see cref="IKvEngine"/> over RocksDB (NuGet <c>RocksDB</c>, namespace RocksDbSharp): one database per node, one
/// column family per <see cref="KvColumn"/> ("data", "raftlog", "local"), created when missing.
/// </summary>
/// <remarks>
/// <para>
/// Duties of the caller: write everything that must survive a crash with <c>sync: true</c>. If RocksDB reports any
/// error on a write (for example a failed fsync of the write-ahead log), <see cref="Write"/> throws
/// <see cref="StorageFailureException"/> and the engine is poisoned: every later call throws too, and the process is
/// expected to stop and recover by reopening. The write is never retried: after a failed fsync the kernel may have
/// dropped the dirty pages, so "retry until it works" can acknowledge data that is gone.
/// </para>
/// <para>
/// Concurrency: all methods of the engine and of its snapshots may be called from any number of threads. Cursors and
/// batches belong to one thread at a time. <see cref="Dispose"/> waits for calls in flight, then closes every cursor
/// and snapshot still open (later use of them throws <see cref="ObjectDisposedException"/>) and closes the database.
/// Spans returned by a cursor point into native memory and are valid only until the cursor moves or is disposed.
/// </para>
/// <para>
/// The engine uses RocksDbSharp only to open the database; reads, writes, cursors and snapshots go straight to the
/// C API with raw handles so that every native object has a deterministic owner and lifetime (the wrapper's
/// ReadOptions, for instance, is freed only by a finalizer) and so that a point read allocates nothing but its
/// result array (it uses a pinned slice: no intermediate malloc+copy).
/// </para>
/// </remarks>
public sealed partial class RocksDbEngine : IKvEngine
{
    private static readonly string[] ColumnFamilyNames = ["data", "raftlog", "local"];

    private readonly EngineGate _gate = new(nameof(RocksDbEngine));
    private readonly RocksDb _db;
    private readonly nint _dbHandle;
    private readonly nint[] _columnHandles;
    private readonly nint _readOptions;
    private readonly nint _syncWriteOptions;
    private readonly nint _bufferedWriteOptions;
    private readonly bool _verifyChecksums;

    // Cursors and snapshots that still hold native objects; closed by Dispose before the database is.
    private readonly HashSet<INativeResource> _openResources = [];
    private readonly Lock _resourcesLock = new();

    private RocksDbEngine(RocksDb db, string directory, RocksDbEngineOptions options)
    {
        _db = db;
        _dbHandle = db.Handle;
        Directory = directory;
        Options = options;
        _verifyChecksums = options.VerifyChecksumsOnRead;
        _columnHandles = [.. ColumnFamilyNames.Select(name => db.GetColumnFamily(name).Handle)];
        _readOptions = CreateReadOptions(0);
        _syncWriteOptions = Native.Instance.rocksdb_writeoptions_create();
        Native.Instance.rocksdb_writeoptions_set_sync(_syncWriteOptions, 1);
        _bufferedWriteOptions = Native.Instance.rocksdb_writeoptions_create();
        Native.Instance.rocksdb_writeoptions_set_sync(_bufferedWriteOptions, 0);
    }

    /// <summary>The database directory.</summary>
    public string Directory { get; }

    /// <summary>The options the engine was opened with.</summary>
    public RocksDbEngineOptions Options { get; }

    /// <summary>
    /// Opens (creating if missing) the database in <paramref name="directory"/>, with its three column families.
    /// </summary>
    /// <exception cref="CorruptionException">RocksDB found corruption while opening (e.g. in the MANIFEST).</exception>
    /// <exception cref="StorageFailureException">RocksDB could not open the database (I/O error, lock held by another
    /// process, incompatible options...).</exception>
    public static RocksDbEngine Open(string directory, RocksDbEngineOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        options ??= new RocksDbEngineOptions();
        var fullPath = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(fullPath);

        var cache = Cache.CreateLru(checked((ulong)options.BlockCacheBytes));
        var dbOptions = new DbOptions()
            .SetCreateIfMissing(true)
            .SetCreateMissingColumnFamilies(true)
            .SetUseFsync(options.UseFsync ? 1 : 0)
            .IncreaseParallelism(options.BackgroundThreads)
            // Smooth write-back of SST files instead of one big flush at the end of each file.
            .SetBytesPerSync(1 << 20)
            .SetParanoidChecks(true)
            // Every write Strata acknowledges is synced, so only the record being written when the process died can be
            // incomplete. A bad record anywhere else is corruption, and the open must fail: RocksDB's default
            // (point in time) would replay up to it and silently drop every acknowledged write after it.
            .SetWalRecoveryMode(Recovery.TolerateCorruptedTailRecords)
            .SetKeepLogFileNum(5)
            .SetMaxLogFileSize(16 << 20)
            // A WAL file lives until every column family with data in it has flushed. The small families (local
            // state, default) take a write now and then and would otherwise pin every WAL file since — gigabytes on a
            // bulk load, all replayed on the next start. Past this total, RocksDB flushes the families holding the
            // oldest file so it can be deleted.
            .SetMaxTotalWalSize(checked((ulong)options.MaxTotalWalBytes));

        // Unsynced writes stay in RocksDB's WAL buffer until the next synced write takes them along (they are the
        // state machine's apply batches, re-applied from the Raft log after any crash). So the WAL file never holds
        // unsynced bytes but those of the synced write in flight, never acknowledged: a power cut that persists pages
        // out of order can only damage that last write, which TolerateCorruptedTailRecords may drop.
        Native.Instance.rocksdb_options_set_manual_wal_flush(dbOptions.Handle, 1);
        var families = new ColumnFamilies(ColumnFamilyOptions(options, cache, bloom: false, compress: false))
        {
            { ColumnFamilyNames[(int)KvColumn.Data], ColumnFamilyOptions(options, cache, bloom: true, compress: options.CompressWithLz4) },
            { ColumnFamilyNames[(int)KvColumn.RaftLog], ColumnFamilyOptions(options, cache, bloom: false, compress: options.CompressWithLz4) },
            { ColumnFamilyNames[(int)KvColumn.Local], ColumnFamilyOptions(options, cache, bloom: true, compress: false) },
        };

        RocksDb db;
        try
        {
            db = RocksDb.Open(dbOptions, fullPath, families);
        }
        catch (RocksDbException e)
        {
            throw IsCorruption(e.Message)
                ? new CorruptionException($"RocksDB at '{fullPath}' is corrupt: {e.Message}")
                : new StorageFailureException($"Cannot open RocksDB at '{fullPath}': {e.Message}", e);
        }

        // Keep the cache alive as long as the database: the table options reference it natively.
        GC.KeepAlive(cache);
        return new RocksDbEngine(db, fullPath, options);
    }

    private static ColumnFamilyOptions ColumnFamilyOptions(RocksDbEngineOptions options, Cache cache, bool bloom, bool compress)
    {
        // Index and filter blocks live in the block cache, cut into partitions of about 4 KiB under a small top-level
        // block pinned with the table. Whole per-file filters (megabytes once a file holds millions of keys) were evicted
        // by data blocks and read back, checksum and all, by every point read that followed: a bulk load slowed from
        // 25,000 to 4,000 creates/s at 3 million objects, every create's existence check reloading a filter.
        var table = new BlockBasedTableOptions()
            .SetBlockCache(cache)
            .SetBlockSize(16 << 10)
            .SetFormatVersion(5)
            .SetCacheIndexAndFilterBlocks(true)
            .SetPinL0FilterAndIndexBlocksInCache(true)
            .SetIndexType(BlockBasedTableIndexType.TwoLevelIndex);
        Native.Instance.rocksdb_block_based_options_set_metadata_block_size(table.Handle, 4 << 10);
        Native.Instance.rocksdb_block_based_options_set_pin_top_level_index_and_filter(table.Handle, 1);
        if (bloom && options.BloomBitsPerKey > 0)
        {
            // A full (not block-based) filter, partitioned: one probe of one small partition per SST file for a point read.
            table.SetFilterPolicy(BloomFilterPolicy.Create(options.BloomBitsPerKey, use_block_based_builder: false));
            Native.Instance.rocksdb_block_based_options_set_partition_filters(table.Handle, 1);
        }

        var cf = new ColumnFamilyOptions()
            .SetBlockBasedTableFactory(table)
            .SetWriteBufferSize(checked((ulong)options.WriteBufferBytes))
            .SetLevelCompactionDynamicLevelBytes(true)
            .SetCompression(compress ? Compression.Lz4 : Compression.No);
        return cf;
    }

    /// <inheritdoc />
    public byte[]? Get(KvColumn column, ReadOnlySpan<byte> key)
    {
        _gate.Enter();
        try
        {
            return GetWith(_readOptions, column, key);
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <inheritdoc />
    public TResult? Read<TResult>(KvColumn column, ReadOnlySpan<byte> key, ValueDecoder<TResult> decode)
        where TResult : class
    {
        _gate.Enter();
        try
        {
            return ReadWith(_readOptions, column, key, decode);
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <inheritdoc />
    public IKvCursor Scan(KvColumn column, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive) =>
        OpenCursor(column, lowerInclusive, upperExclusive, snapshot: null);

    /// <inheritdoc />
    public IKvWriteBatch CreateBatch()
    {
        _gate.ThrowIfUnusable();
        return new Batch(this);
    }

    /// <inheritdoc />
    public IKvSnapshot Snapshot()
    {
        _gate.Enter();
        try
        {
            var snapshot = new SnapshotView(this);
            Register(snapshot);
            return snapshot;
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <inheritdoc />
    /// <exception cref="StorageFailureException">RocksDB failed the write; the engine is now poisoned.</exception>
    public void Write(IKvWriteBatch batch, bool sync)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch is not Batch own || !ReferenceEquals(own.Engine, this))
        {
            throw new ArgumentException("The batch was not created by this engine.", nameof(batch));
        }

        _gate.Enter();
        try
        {
            var handle = own.Handle;
            nint error;
            if (InjectedWriteErrorForTests is { } injected)
            {
                InjectedWriteErrorForTests = null;
                throw _gate.Poison($"RocksDB write failed ({(sync ? "sync" : "no sync")}, {own.Count} operations): {injected}", null);
            }

            if (Native.Instance.rocksdb_writebatch_count(handle) == 0)
            {
                if (!sync)
                {
                    return;
                }

                // Nothing to write, but the caller wants everything written so far durable: sync the WAL.
                Native.Instance.rocksdb_flush_wal(_dbHandle, 1, out error);
            }
            else
            {
                Native.Instance.rocksdb_write(_dbHandle, sync ? _syncWriteOptions : _bufferedWriteOptions, handle, out error);
            }

            if (error != 0)
            {
                throw _gate.Poison($"RocksDB write failed ({(sync ? "sync" : "no sync")}, {own.Count} operations): {TakeError(error)}", null);
            }
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>
    /// Test seam: when set, the next <see cref="Write"/> fails as if RocksDB had returned this error (it is not
    /// applied) — the only way to exercise the poisoning path without a failing disk.
    /// </summary>
    internal string? InjectedWriteErrorForTests { get; set; }

    /// <summary>
    /// Closes the database after the calls in flight finish; closes the cursors and snapshots still open.
    /// Idempotent and safe to call from any thread.
    /// </summary>
    public void Dispose()
    {
        if (!_gate.Close())
        {
            return;
        }

        lock (_resourcesLock)
        {
            foreach (var resource in _openResources)
            {
                resource.ReleaseNative();
            }

            _openResources.Clear();
        }

        // A clean close keeps the buffered (unsynced) writes too, as without a manual WAL flush. After a failure there
        // is nothing more to make durable (and RocksDB refuses): the error is not the caller's to handle on dispose.
        if (_gate.Failure is null)
        {
            Native.Instance.rocksdb_flush_wal(_dbHandle, 1, out nint error);
            if (error != 0)
            {
                _ = TakeError(error);
            }
        }
        Native.Instance.rocksdb_readoptions_destroy(_readOptions);
        Native.Instance.rocksdb_writeoptions_destroy(_syncWriteOptions);
        Native.Instance.rocksdb_writeoptions_destroy(_bufferedWriteOptions);
        _db.Dispose();
    }

    private nint ColumnHandle(KvColumn column)
    {
        KvArguments.ThrowIfUnknownColumn(column);
        return _columnHandles[(int)column];
    }

    private nint CreateReadOptions(nint snapshot)
    {
        var readOptions = Native.Instance.rocksdb_readoptions_create();
        Native.Instance.rocksdb_readoptions_set_verify_checksums(readOptions, (byte)(_verifyChecksums ? 1 : 0));
        if (snapshot != 0)
        {
            Native.Instance.rocksdb_readoptions_set_snapshot(readOptions, snapshot);
        }

        return readOptions;
    }

    /// <summary>A point read through a pinned slice: the value is copied once, from RocksDB's block into the result.</summary>
    private byte[]? GetWith(nint readOptions, KvColumn column, ReadOnlySpan<byte> key) =>
        ReadWith(readOptions, column, key, static (_, value) => value.ToArray());

    /// <summary>Looks the key up as a pinned slice and decodes the value straight from RocksDB's buffer.</summary>
    private unsafe TResult? ReadWith<TResult>(nint readOptions, KvColumn column, ReadOnlySpan<byte> key, ValueDecoder<TResult> decode)
        where TResult : class
    {
        var cf = ColumnHandle(column);
        nint slice;
        nint error;
        fixed (byte* keyPointer = key)
        {
            slice = Native.Instance.rocksdb_get_pinned_cf(_dbHandle, readOptions, cf, keyPointer, (nuint)key.Length, out error);
        }

        if (error != 0)
        {
            throw ReadFailure(TakeError(error), column, key);
        }

        if (slice == 0)
        {
            return null;
        }

        try
        {
            var value = Native.Instance.rocksdb_pinnableslice_value(slice, out var length);
            return decode(key, new ReadOnlySpan<byte>((void*)value, checked((int)length)));
        }
        finally
        {
            Native.Instance.rocksdb_pinnableslice_destroy(slice);
        }
    }

    private void Register(INativeResource resource)
    {
        lock (_resourcesLock)
        {
            _openResources.Add(resource);
        }
    }

    /// <summary>Releases a resource's native objects once, whoever (its owner or the engine's Dispose) comes first.</summary>
    private void Release(INativeResource resource)
    {
        lock (_resourcesLock)
        {
            if (_openResources.Remove(resource))
            {
                resource.ReleaseNative();
            }
        }
    }

    private static string TakeError(nint error)
    {
        var message = Marshal.PtrToStringUTF8(error) ?? "(no message)";
        Native.Instance.rocksdb_free(error);
        return message;
    }

    private static bool IsCorruption(string message) => message.StartsWith("Corruption", StringComparison.Ordinal);

    /// <summary>Read errors are not durability failures: corruption is reported as such, anything else as I/O failure.</summary>
    private static Exception ReadFailure(string message, KvColumn column, ReadOnlySpan<byte> key)
    {
        var where = $"reading {column} key {Convert.ToHexString(key)}";
        return IsCorruption(message)
            ? new CorruptionException($"RocksDB reported corruption {where}: {message}")
            : new StorageFailureException($"RocksDB failed {where}: {message}");
    }

    /// <summary>A native object owned by a cursor or snapshot, released exactly once.</summary>
    private interface INativeResource
    {
        void ReleaseNative();
    }
}
