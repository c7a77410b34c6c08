using BenchmarkDotNet.Attributes;
using Strata.Storage;

namespace Strata.Benchmarks;

/// <summary>
/// The physical limits of one node's storage: raw <see cref="RocksDbEngine"/> point reads, a short range scan, and
/// single-key writes with and without fsync. Everything above the storage layer is compared against these numbers.
/// </summary>
/// <remarks>
/// Setup loads 100,000 keys (16-byte big-endian-ish keys, 100-byte values) into <see cref="KvColumn.Data"/> and
/// reopens the database, so reads hit SST files through the block cache (warm after the first iterations), as on
/// a node that has been running for a while, rather than the memtable.
/// Run: <c>dotnet run -c Release --project bench/Strata.Benchmarks -- --filter '*StorageBenchmarks*' --job short</c>.
/// </remarks>
[MemoryDiagnoser]
public class StorageBenchmarks
{
    private const int KeyCount = 100_000;
    private const int ValueLength = 100;

    private string _directory = "";
    private RocksDbEngine _engine = null!;
    private byte[][] _keys = [];
    private int[] _order = [];
    private int _next;
    private byte[] _value = [];
    private IKvWriteBatch _batch = null!;
    private ulong _writeCounter;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"strata-bench-storage-{Environment.ProcessId}");
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        var random = new Random(20261126);
        _value = new byte[ValueLength];
        random.NextBytes(_value);
        _keys = [.. Enumerable.Range(0, KeyCount).Select(i => Key(0x01, (ulong)i * 7919))];
        _order = [.. Enumerable.Range(0, KeyCount).OrderBy(_ => random.Next())];

        using (var loader = RocksDbEngine.Open(_directory))
        {
            using var batch = loader.CreateBatch();
            for (var i = 0; i < KeyCount; i++)
            {
                batch.Put(KvColumn.Data, _keys[i], _value);
                if (batch.Count == 1000)
                {
                    loader.Write(batch, sync: false);
                    batch.Clear();
                }
            }

            loader.Write(batch, sync: true);
        }

        // Reopening replays the log into SST files: reads below go through the table reader and block cache.
        _engine = RocksDbEngine.Open(_directory);
        _batch = _engine.CreateBatch();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _batch.Dispose();
        _engine.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>16-byte key: a kind byte, 8 bytes of id, 7 bytes of padding, like a directory-entry key.</summary>
    private static byte[] Key(byte kind, ulong id)
    {
        var key = new byte[16];
        key[0] = kind;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(1), id);
        return key;
    }

    private byte[] NextExistingKey() => _keys[_order[_next++ % KeyCount]];

    [Benchmark(Description = "RocksDB Get (existing key, 100k keys)")]
    public byte[]? GetExisting() => _engine.Get(KvColumn.Data, NextExistingKey());

    [Benchmark(Description = "RocksDB Get (missing key, bloom filter)")]
    public byte[]? GetMissing()
    {
        var key = NextExistingKey();
        key[15] = 0x01; // same prefix, absent key
        var value = _engine.Get(KvColumn.Data, key);
        key[15] = 0x00;
        return value;
    }

    [Benchmark(Description = "RocksDB Scan 100 keys")]
    public int Scan100()
    {
        var key = NextExistingKey();
        using var cursor = _engine.Scan(KvColumn.Data, key, []);
        var total = 0;
        cursor.SeekToFirst();
        for (var i = 0; i < 100 && cursor.Valid; i++)
        {
            total += cursor.Value.Length;
            cursor.Next();
        }

        return total;
    }

    [Benchmark(Description = "RocksDB Put, sync=false")]
    public void PutNoSync() => Put(sync: false);

    [Benchmark(Description = "RocksDB Put, sync=true (fdatasync)")]
    public void PutSync() => Put(sync: true);

    private void Put(bool sync)
    {
        Span<byte> key = stackalloc byte[16];
        key[0] = 0x02;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(key[1..], _writeCounter++);
        _batch.Clear();
        _batch.Put(KvColumn.Data, key, _value);
        _engine.Write(_batch, sync);
    }
}
