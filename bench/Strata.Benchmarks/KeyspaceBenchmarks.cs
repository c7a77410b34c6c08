using BenchmarkDotNet.Attributes;
using Strata.Storage;

namespace Strata.Benchmarks;

/// <summary>
/// The cost of a shard's <see cref="KeyspaceEngine"/> over the node's <see cref="RocksDbEngine"/>: the same stored
/// entries read directly (by their full, prefixed key) and through the keyspace (by the shard's key). The point-read
/// budget is zero bytes allocated beyond the decoded result, for keys up to 512 bytes.
/// </summary>
/// <remarks>
/// Setup loads 50,000 keys (100-byte values) into shard 1's keyspace of <see cref="KvColumn.Data"/> and reopens the
/// database, so reads go through SST files and the block cache as on a running node.
/// Run: <c>dotnet run -c Release --project bench/Strata.Benchmarks -- --filter '*KeyspaceBenchmarks*' --job short</c>.
/// </remarks>
[MemoryDiagnoser]
public class KeyspaceBenchmarks
{
    private const int KeyCount = 50_000;
    private const int ValueLength = 100;

    private static readonly object Found = new();

    // Decodes without allocating, so what the benchmark allocates is the read path's own cost.
    private static readonly ValueDecoder<object> Touch = static (key, value) => key.Length + value.Length > 0 ? Found : Found;

    private string _directory = "";
    private RocksDbEngine _engine = null!;
    private KeyspaceEngine _keyspace = null!;
    private byte[][] _keys = [];
    private byte[][] _innerKeys = [];
    private int[] _order = [];
    private int _next;

    /// <summary>Length of the shard's keys (the inner keys are 9 bytes longer).</summary>
    [Params(16, 512)]
    public int KeyLength { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"strata-bench-keyspace-{Environment.ProcessId}");
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        var random = new Random(20261126);
        var value = new byte[ValueLength];
        random.NextBytes(value);
        _keys = [.. Enumerable.Range(0, KeyCount).Select(i => Key(random, (ulong)i * 7919))];
        _innerKeys = [.. _keys.Select(k => (byte[])[.. KeyspaceEngine.ShardPrefix(1), .. k])];
        _order = [.. Enumerable.Range(0, KeyCount).OrderBy(_ => random.Next())];

        using (var loader = RocksDbEngine.Open(_directory))
        {
            using var keyspace = KeyspaceEngine.ForShard(loader, 1);
            using var batch = keyspace.CreateBatch();
            for (var i = 0; i < KeyCount; i++)
            {
                batch.Put(KvColumn.Data, _keys[i], value);
                if (batch.Count == 1000)
                {
                    keyspace.Write(batch, sync: false);
                    batch.Clear();
                }
            }

            keyspace.Write(batch, sync: true);
        }

        _engine = RocksDbEngine.Open(_directory);
        _keyspace = KeyspaceEngine.ForShard(_engine, 1);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _keyspace.Dispose();
        _engine.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>An 8-byte big-endian id followed by random padding up to <see cref="KeyLength"/>.</summary>
    private byte[] Key(Random random, ulong id)
    {
        var key = new byte[KeyLength];
        random.NextBytes(key);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(key, id);
        return key;
    }

    private int NextIndex() => _order[_next++ % KeyCount];

    [Benchmark(Baseline = true, Description = "Direct Read (prefixed key)")]
    public object? DirectRead() => _engine.Read(KvColumn.Data, _innerKeys[NextIndex()], Touch);

    [Benchmark(Description = "Keyspace Read")]
    public object? KeyspaceRead() => _keyspace.Read(KvColumn.Data, _keys[NextIndex()], Touch);

    [Benchmark(Description = "Direct Get")]
    public byte[]? DirectGet() => _engine.Get(KvColumn.Data, _innerKeys[NextIndex()]);

    [Benchmark(Description = "Keyspace Get")]
    public byte[]? KeyspaceGet() => _keyspace.Get(KvColumn.Data, _keys[NextIndex()]);

    [Benchmark(Description = "Direct Scan 100 keys")]
    public int DirectScan100()
    {
        var index = NextIndex();
        using var cursor = _engine.Scan(KvColumn.Data, _innerKeys[index], KeyspaceEnd);
        return Walk100(cursor);
    }

    [Benchmark(Description = "Keyspace Scan 100 keys")]
    public int KeyspaceScan100()
    {
        using var cursor = _keyspace.Scan(KvColumn.Data, _keys[NextIndex()], []);
        return Walk100(cursor);
    }

    private static readonly byte[] KeyspaceEnd = OrderedKey.PrefixEnd(KeyspaceEngine.ShardPrefix(1));

    private static int Walk100(IKvCursor cursor)
    {
        var total = 0;
        cursor.SeekToFirst();
        for (var i = 0; i < 100 && cursor.Valid; i++)
        {
            total += cursor.Key.Length + cursor.Value.Length;
            cursor.Next();
        }

        return total;
    }
}
