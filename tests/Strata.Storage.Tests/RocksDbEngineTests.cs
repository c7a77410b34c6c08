using System.Text;
using RocksDbSharp;

namespace Strata.Storage.Tests;

/// <summary>What only the real engine can show: files on disk, reopening, native corruption detection.</summary>
public sealed class RocksDbEngineTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private string DbPath => _directory.Sub("db");

    private RocksDbEngine Open(RocksDbEngineOptions? options = null) =>
        RocksDbEngine.Open(DbPath, options ?? RocksDbEngineContractTests.SmallOptions);

    public void Dispose() => _directory.Dispose();

    private static void Write(IKvEngine engine, KvColumn column, string key, string value, bool sync)
    {
        using var batch = engine.CreateBatch();
        batch.Put(column, Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value));
        engine.Write(batch, sync);
    }

    private static string? Read(IKvReader reader, KvColumn column, string key) =>
        reader.Get(column, Encoding.UTF8.GetBytes(key)) is { } value ? Encoding.UTF8.GetString(value) : null;

    [Fact]
    public void The_options_file_shows_partitioned_filters_and_indexes_and_the_log_limit()
    {
        // These settings keep point reads fast and the log bounded at millions of keys (see RocksDbEngine.Open); the
        // options file RocksDB writes says what it really runs with.
        using (Open(new RocksDbEngineOptions { MaxTotalWalBytes = 256L << 20 }))
        {
        }

        string text = File.ReadAllText(new DirectoryInfo(DbPath).EnumerateFiles("OPTIONS-*").OrderBy(f => f.Name, StringComparer.Ordinal).Last().FullName);
        Assert.Contains("max_total_wal_size=268435456", text, StringComparison.Ordinal);
        string data = text[text.IndexOf("[TableOptions/BlockBasedTable \"data\"]", StringComparison.Ordinal)..];
        data = data[..data.IndexOf("\n[", 1, StringComparison.Ordinal)];
        foreach (string setting in new[] { "index_type=kTwoLevelIndexSearch", "partition_filters=true", "metadata_block_size=4096", "pin_top_level_index_and_filter=true", "cache_index_and_filter_blocks=true" })
        {
            Assert.Contains(setting, data, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void One_write_to_an_idle_column_does_not_pin_the_write_ahead_log_past_its_limit()
    {
        // 4 MiB memtables: the data column flushes every 4 MiB, but the local column, which takes a small write with
        // each batch (as the applied index does), never fills its memtable; without a total limit every log file
        // since its first write stays (RocksDB's own bound: four times all memtables, 128 MiB here).
        var options = RocksDbEngineContractTests.SmallOptions with { MaxTotalWalBytes = 8 << 20 };
        string value = new('v', 64 << 10);
        const int Writes = 1_536; // 96 MiB
        using (var engine = Open(options))
        {
            for (int i = 0; i < Writes; i++)
            {
                using var batch = engine.CreateBatch();
                batch.Put(KvColumn.Data, Encoding.UTF8.GetBytes($"key-{i:D5}"), Encoding.UTF8.GetBytes(value));
                batch.Put(KvColumn.Local, "applied"u8, Encoding.UTF8.GetBytes($"{i}"));
                engine.Write(batch, sync: true);
            }

            // Obsolete log files are deleted by RocksDB's background work after the flush they wait for.
            long logBytes = WriteAheadLogBytes();
            for (int attempt = 0; attempt < 100 && logBytes >= 24 << 20; attempt++)
            {
                Thread.Sleep(100);
                logBytes = WriteAheadLogBytes();
            }

            Assert.True(logBytes < 24 << 20, $"{logBytes:N0} bytes of write-ahead log kept after 96 MiB written with an 8 MiB limit");
        }

        using var reopened = Open(options);
        Assert.Equal($"{Writes - 1}", Read(reopened, KvColumn.Local, "applied"));
        Assert.Equal(value, Read(reopened, KvColumn.Data, $"key-{Writes - 1:D5}"));
        Assert.Equal(value, Read(reopened, KvColumn.Data, "key-00000"));
    }

    private long WriteAheadLogBytes() =>
        new DirectoryInfo(DbPath).EnumerateFiles("*.log").Sum(f => f.Length);

    [Fact]
    public void Reopening_after_dispose_keeps_the_data_of_every_column()
    {
        using (var engine = Open())
        {
            Write(engine, KvColumn.Data, "a", "data-a", sync: true);
            Write(engine, KvColumn.RaftLog, "a", "log-a", sync: true);
            Write(engine, KvColumn.Local, "a", "local-a", sync: true);
            // Unsynced writes are in the log file too; a clean close (not a crash) keeps them.
            Write(engine, KvColumn.Data, "b", "data-b", sync: false);
            using var batch = engine.CreateBatch();
            batch.Delete(KvColumn.RaftLog, "a"u8);
            engine.Write(batch, sync: true);
        }

        using (var engine = Open())
        {
            Assert.Equal("data-a", Read(engine, KvColumn.Data, "a"));
            Assert.Null(Read(engine, KvColumn.RaftLog, "a"));
            Assert.Equal("local-a", Read(engine, KvColumn.Local, "a"));
            Assert.Equal("data-b", Read(engine, KvColumn.Data, "b"));
        }
    }

    [Fact]
    public void Open_creates_one_column_family_per_column()
    {
        using (Open())
        {
        }

        var families = RocksDb.ListColumnFamilies(new DbOptions(), DbPath).ToList();
        Assert.Contains("data", families);
        Assert.Contains("raftlog", families);
        Assert.Contains("local", families);
    }

    [Fact]
    public void Column_families_are_independent_across_reopen_and_range_deletes()
    {
        using (var engine = Open())
        {
            foreach (var column in new[] { KvColumn.Data, KvColumn.RaftLog, KvColumn.Local })
            {
                for (var i = 0; i < 10; i++)
                {
                    Write(engine, column, $"k{i}", $"{column}-{i}", sync: false);
                }
            }

            using var batch = engine.CreateBatch();
            batch.DeleteRange(KvColumn.RaftLog, "k0"u8, "k5"u8);
            engine.Write(batch, sync: true);
        }

        using (var engine = Open())
        {
            Assert.Equal("Data-3", Read(engine, KvColumn.Data, "k3"));
            Assert.Null(Read(engine, KvColumn.RaftLog, "k3"));
            Assert.Equal("RaftLog-7", Read(engine, KvColumn.RaftLog, "k7"));
            Assert.Equal("Local-3", Read(engine, KvColumn.Local, "k3"));
        }
    }

    [Fact]
    public void Opening_a_database_already_open_fails_with_StorageFailureException()
    {
        using var engine = Open();
        var error = Assert.Throws<StorageFailureException>(() => Open());
        Assert.Contains(DbPath, error.Message);
    }

    [Fact]
    public void A_damaged_sealed_value_is_reported_as_CorruptionException_naming_the_key()
    {
        using var engine = Open();
        var key = "dir/7/object"u8.ToArray();
        using (var batch = engine.CreateBatch())
        {
            batch.Put(KvColumn.Data, key, RecordCodec.Seal(key, "metadata"u8));
            engine.Write(batch, sync: true);
        }

        var stored = engine.Get(KvColumn.Data, key)!;
        Assert.Equal("metadata"u8.ToArray(), RecordCodec.Open(key, stored).ToArray());

        stored[^3] ^= 0x10;
        using (var batch = engine.CreateBatch())
        {
            batch.Put(KvColumn.Data, key, stored);
            engine.Write(batch, sync: true);
        }

        var damaged = engine.Get(KvColumn.Data, key)!;
        var error = Assert.Throws<CorruptionException>(() => RecordCodec.Open(key, damaged).ToArray());
        Assert.Contains(Convert.ToHexString(key), error.Message);
    }

    [Fact]
    public void A_flipped_byte_in_an_sst_file_is_detected_by_RocksDB_on_read()
    {
        // Uncompressed so that the value's bytes can be found in the file.
        var options = RocksDbEngineContractTests.SmallOptions with { CompressWithLz4 = false };
        var value = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("STRATA-SST-PAYLOAD-", 20)));
        using (var engine = Open(options))
        {
            using var batch = engine.CreateBatch();
            batch.Put(KvColumn.Data, "victim"u8, value);
            engine.Write(batch, sync: true);
        }

        // Reopening replays the write-ahead log into an SST file (RocksDB flushes recovered data).
        Open(options).Dispose();
        var damagedFiles = 0;
        foreach (var file in Directory.GetFiles(DbPath, "*.sst"))
        {
            var bytes = File.ReadAllBytes(file);
            var at = bytes.AsSpan().IndexOf(value);
            if (at >= 0)
            {
                bytes[at + (value.Length / 2)] ^= 0x01;
                File.WriteAllBytes(file, bytes);
                damagedFiles++;
            }
        }

        Assert.Equal(1, damagedFiles);
        using var reopened = Open(options);
        var error = Assert.Throws<CorruptionException>(() => reopened.Get(KvColumn.Data, "victim"u8));
        Assert.Contains(Convert.ToHexString("victim"u8), error.Message);
        using var cursor = reopened.Scan(KvColumn.Data, [], []);
        Assert.Throws<CorruptionException>(() => cursor.SeekToFirst());
    }

    [Fact]
    public void A_flipped_byte_in_the_middle_of_the_write_ahead_log_refuses_the_open_instead_of_dropping_later_writes()
    {
        // Every write is synced (as the Raft log's are): all of them were acknowledged. A corrupt record in the middle of
        // the log must not be taken for a torn tail — replaying up to it and dropping the acknowledged writes after it
        // would silently lose them (and a Raft voter would forget entries it acknowledged).
        var options = RocksDbEngineContractTests.SmallOptions with { CompressWithLz4 = false };
        byte[] Value(int i) => Encoding.ASCII.GetBytes($"STRATA-WAL-RECORD-{i:D4}-" + new string('x', 64));
        using (var engine = Open(options))
        {
            for (int i = 0; i < 200; i++)
            {
                using var batch = engine.CreateBatch();
                batch.Put(KvColumn.RaftLog, Encoding.ASCII.GetBytes($"entry-{i:D4}"), Value(i));
                engine.Write(batch, sync: true);
            }
        }

        string[] logs = Directory.GetFiles(DbPath, "*.log");
        int damaged = 0;
        foreach (string file in logs)
        {
            byte[] bytes = File.ReadAllBytes(file);
            int at = bytes.AsSpan().IndexOf(Value(100));
            if (at >= 0)
            {
                bytes[at + 10] ^= 0x20;
                File.WriteAllBytes(file, bytes);
                damaged++;
            }
        }

        Assert.Equal(1, damaged);
        var error = Assert.Throws<CorruptionException>(() => Open(options).Dispose());
        Assert.Contains("orrupt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_torn_last_record_of_the_write_ahead_log_is_dropped_and_every_earlier_write_kept()
    {
        // A crash in the middle of writing the last batch leaves a partial record at the end of the log: that write was
        // never acknowledged (its fsync did not return), so recovery drops it and keeps everything before.
        var options = RocksDbEngineContractTests.SmallOptions with { CompressWithLz4 = false };
        using (var engine = Open(options))
        {
            for (int i = 0; i < 50; i++)
            {
                Write(engine, KvColumn.RaftLog, $"entry-{i:D4}", $"value-{i}" + new string('y', 64), sync: true);
            }
        }

        string log = Assert.Single(Directory.GetFiles(DbPath, "*.log"), f => new FileInfo(f).Length > 0);
        byte[] bytes = File.ReadAllBytes(log);
        int last = bytes.AsSpan().LastIndexOf("entry-0049"u8);
        Assert.True(last > 0);
        using (var stream = new FileStream(log, FileMode.Open, FileAccess.Write))
        {
            stream.SetLength(last + 4); // cut inside the last record
        }

        using var reopened = Open(options);
        Assert.Null(Read(reopened, KvColumn.RaftLog, "entry-0049"));
        for (int i = 0; i < 49; i++)
        {
            Assert.Equal($"value-{i}" + new string('y', 64), Read(reopened, KvColumn.RaftLog, $"entry-{i:D4}"));
        }
    }

    [Fact]
    public void A_failed_write_poisons_the_engine_and_reopening_recovers_the_durable_state()
    {
        using (var engine = Open())
        {
            Write(engine, KvColumn.Data, "before", "1", sync: true);
            using var batch = engine.CreateBatch();
            batch.Put(KvColumn.Data, "lost"u8, "2"u8);
            engine.InjectedWriteErrorForTests = "IO error: fsync: Input/output error";

            var error = Assert.Throws<StorageFailureException>(() => engine.Write(batch, sync: true));
            Assert.Contains("Input/output error", error.Message);

            // Every later call refuses, reads included: nothing is served after a durability failure.
            Assert.Throws<StorageFailureException>(() => engine.Write(batch, sync: true));
            Assert.Throws<StorageFailureException>(() => engine.Get(KvColumn.Data, "before"u8));
            Assert.Throws<StorageFailureException>(() => engine.Scan(KvColumn.Data, [], []));
            Assert.Throws<StorageFailureException>(() => engine.Snapshot());
            Assert.Throws<StorageFailureException>(() => engine.CreateBatch());
            Assert.Throws<StorageFailureException>(() => batch.Put(KvColumn.Data, "x"u8, "y"u8));
        }

        using var reopened = Open();
        Assert.Equal("1", Read(reopened, KvColumn.Data, "before"));
        Assert.Null(Read(reopened, KvColumn.Data, "lost"));
    }

    [Fact]
    public void Dispose_releases_open_cursors_and_snapshots_so_the_directory_can_be_reopened()
    {
        var engine = Open();
        Write(engine, KvColumn.Data, "a", "1", sync: true);
        var snapshot = engine.Snapshot();
        var cursor = snapshot.Scan(KvColumn.Data, [], []);
        cursor.SeekToFirst();
        engine.Dispose();
        Assert.Throws<ObjectDisposedException>(() => cursor.Next());

        using var reopened = Open();
        Assert.Equal("1", Read(reopened, KvColumn.Data, "a"));
        cursor.Dispose();
        snapshot.Dispose();
    }

    [Fact]
    public void The_engine_reports_its_directory_and_options()
    {
        using var engine = Open();
        Assert.Equal(Path.GetFullPath(DbPath), engine.Directory);
        Assert.Same(RocksDbEngineContractTests.SmallOptions, engine.Options);
    }
}
