namespace Strata.Storage;

/// <summary>
/// Tuning of <see cref="RocksDbEngine"/>. The defaults suit a metadata store on SSD: small values, many point reads,
/// range scans over directories, a write-ahead log synced on every acknowledged write.
/// </summary>
public sealed record RocksDbEngineOptions
{
    /// <summary>Shared LRU block cache for all column families, in bytes. Default 256 MiB.</summary>
    public long BlockCacheBytes { get; init; } = 256L << 20;

    /// <summary>
    /// Memtable size per column family, in bytes, before it is flushed to an SST file. Default 64 MiB (RocksDB's own
    /// default; bigger means fewer, larger flushes and more memory).
    /// </summary>
    public long WriteBufferBytes { get; init; } = 64L << 20;

    /// <summary>
    /// When true, durable writes call fsync; when false (default) fdatasync, which is enough on Linux file systems
    /// for RocksDB's append-only log and avoids a metadata flush per write.
    /// </summary>
    public bool UseFsync { get; init; }

    /// <summary>
    /// Bits per key of the bloom filter on <see cref="KvColumn.Data"/> and <see cref="KvColumn.Local"/>, which makes
    /// point reads of absent keys skip SST files (10 bits: about 1% false positives). 0 disables it.
    /// <see cref="KvColumn.RaftLog"/> gets none: it is read by index ranges, and its keys are mostly present.
    /// </summary>
    public int BloomBitsPerKey { get; init; } = 10;

    /// <summary>
    /// Compress SST blocks of <see cref="KvColumn.Data"/> and <see cref="KvColumn.RaftLog"/> with LZ4 (cheap,
    /// decompresses fast; the native library bundles it). Default true. Memtables and the WAL are never compressed.
    /// </summary>
    public bool CompressWithLz4 { get; init; } = true;

    /// <summary>
    /// The most write-ahead log kept on disk, in bytes, before RocksDB flushes the column families that pin the oldest
    /// log file. Default 256 MiB: bounds the log replayed at start-up and the disk it takes. RocksDB's own default
    /// (0: four times all memtables, 2 GiB here) let a bulk load keep gigabytes of log behind one idle column family.
    /// </summary>
    public long MaxTotalWalBytes { get; init; } = 256L << 20;

    /// <summary>Threads for flushes and compactions. Default: the processor count, at least 2.</summary>
    public int BackgroundThreads { get; init; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary>Check the block checksums RocksDB keeps on every read from an SST file. Default true.</summary>
    public bool VerifyChecksumsOnRead { get; init; } = true;
}
