using System.Text;

namespace Strata.Storage.Tests;

/// <summary>
/// What the contract suite cannot say about <see cref="KeyspaceEngine"/>: keyspaces sharing one inner engine are
/// isolated from each other in every operation, batches cross no keyspace boundary, decoders see unprefixed keys.
/// Run over both inner engines.
/// </summary>
public abstract class KeyspaceIsolationTests : IDisposable
{
    private static readonly KvColumn[] AllColumns = [KvColumn.Data, KvColumn.RaftLog, KvColumn.Local];

    private IKvEngine? _inner;

    /// <summary>The node's engine shared by the keyspaces of a test.</summary>
    protected IKvEngine Inner => _inner ??= CreateInner();

    /// <summary>A fresh, empty inner engine.</summary>
    protected abstract IKvEngine CreateInner();

    public virtual void Dispose()
    {
        _inner?.Dispose();
        GC.SuppressFinalize(this);
    }

    protected static byte[] K(string text) => Encoding.UTF8.GetBytes(text);

    protected static string S(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);

    protected static void Put(IKvEngine engine, KvColumn column, byte[] key, byte[] value, bool sync = false)
    {
        using var batch = engine.CreateBatch();
        batch.Put(column, key, value);
        engine.Write(batch, sync);
    }

    /// <summary>Every pair of a column through <paramref name="reader"/>, as "key=value" in hex, walking forward or backward.</summary>
    protected static List<string> Pairs(IKvReader reader, KvColumn column, bool backward = false)
    {
        var pairs = new List<string>();
        using var cursor = reader.Scan(column, [], []);
        if (backward)
        {
            for (cursor.SeekToLast(); cursor.Valid; cursor.Prev())
            {
                pairs.Add($"{Convert.ToHexString(cursor.Key)}={Convert.ToHexString(cursor.Value)}");
            }
        }
        else
        {
            for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
            {
                pairs.Add($"{Convert.ToHexString(cursor.Key)}={Convert.ToHexString(cursor.Value)}");
            }
        }

        return pairs;
    }

    /// <summary>Writes the same keys, with values naming the keyspace, into every column of every keyspace.</summary>
    private static void WriteSameKeys(IEnumerable<KeyspaceEngine> keyspaces, byte[][] keys)
    {
        foreach (var keyspace in keyspaces)
        {
            using var batch = keyspace.CreateBatch();
            foreach (var column in AllColumns)
            {
                foreach (var key in keys)
                {
                    batch.Put(column, key, ValueOf(keyspace, column, key));
                }
            }

            keyspace.Write(batch, sync: false);
        }
    }

    private static byte[] ValueOf(KeyspaceEngine keyspace, KvColumn column, byte[] key) => [.. keyspace.Prefix, (byte)column, .. key];

    private static readonly byte[][] EdgeKeys = [[], [0x00], [0x01, 0x02], [0x7F], [0xFF], [0xFF, 0xFF, 0xFF, 0xFF]];

    [Fact]
    public void Keyspaces_with_the_same_keys_see_only_their_own_values_in_every_column()
    {
        using var a = KeyspaceEngine.ForShard(Inner, 7);
        using var b = KeyspaceEngine.ForShard(Inner, 8);
        using var c = new KeyspaceEngine(Inner, [0x01]);
        WriteSameKeys([a, b, c], EdgeKeys);

        foreach (var keyspace in new[] { a, b, c })
        {
            using var snapshot = keyspace.Snapshot();
            foreach (var column in AllColumns)
            {
                var expected = EdgeKeys.Select(k => $"{Convert.ToHexString(k)}={Convert.ToHexString(ValueOf(keyspace, column, k))}").ToList();
                Assert.Equal(expected, Pairs(keyspace, column));
                Assert.Equal(expected, Pairs(snapshot, column));
                expected.Reverse();
                Assert.Equal(expected, Pairs(keyspace, column, backward: true));
                foreach (var key in EdgeKeys)
                {
                    Assert.Equal(ValueOf(keyspace, column, key), keyspace.Get(column, key));
                    Assert.Equal(ValueOf(keyspace, column, key), snapshot.Get(column, key));
                    Assert.Equal(Convert.ToHexString(ValueOf(keyspace, column, key)),
                        keyspace.Read(column, key, static (_, value) => Convert.ToHexString(value)));
                }
            }
        }

        // A delete in one keyspace leaves the same key of the others alone.
        using (var batch = a.CreateBatch())
        {
            batch.Delete(KvColumn.Data, [0x7F]);
            a.Write(batch, sync: false);
        }

        Assert.Null(a.Get(KvColumn.Data, [0x7F]));
        Assert.Equal(ValueOf(b, KvColumn.Data, [0x7F]), b.Get(KvColumn.Data, [0x7F]));
        Assert.Equal(ValueOf(c, KvColumn.Data, [0x7F]), c.Get(KvColumn.Data, [0x7F]));
        Assert.Equal(ValueOf(a, KvColumn.Local, [0x7F]), a.Get(KvColumn.Local, [0x7F]));
    }

    [Fact]
    public void A_full_scan_never_leaves_the_keyspace_whatever_its_neighbours_hold()
    {
        KeyspaceNeighbourhood.Plant(Inner);
        using var keyspace = KeyspaceEngine.ForShard(Inner, KeyspaceNeighbourhood.ShardId);

        // An empty keyspace between full neighbours: nothing, whichever way it is entered.
        foreach (var column in AllColumns)
        {
            Assert.Empty(Pairs(keyspace, column));
            Assert.Empty(Pairs(keyspace, column, backward: true));
            using var cursor = keyspace.Scan(column, [], []);
            cursor.Seek([]);
            Assert.False(cursor.Valid);
            cursor.SeekForPrev([0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
            Assert.False(cursor.Valid);
            Assert.Null(keyspace.Get(column, []));
        }

        WriteSameKeys([keyspace], EdgeKeys);
        foreach (var column in AllColumns)
        {
            var expected = EdgeKeys.Select(k => $"{Convert.ToHexString(k)}={Convert.ToHexString(ValueOf(keyspace, column, k))}").ToList();
            Assert.Equal(expected, Pairs(keyspace, column));
            using var cursor = keyspace.Scan(column, [], []);
            cursor.SeekToLast();
            Assert.Equal("FFFFFFFF", Convert.ToHexString(cursor.Key));
            cursor.Next();
            Assert.False(cursor.Valid);
            cursor.SeekForPrev([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
            Assert.Equal("FFFFFFFF", Convert.ToHexString(cursor.Key));
            cursor.Seek([0xFF, 0xFF, 0xFF, 0xFF, 0x00]);
            Assert.False(cursor.Valid);
            cursor.SeekToFirst();
            Assert.Equal("", Convert.ToHexString(cursor.Key));
            cursor.Prev();
            Assert.False(cursor.Valid);
            cursor.SeekForPrev([]);
            Assert.Equal("", Convert.ToHexString(cursor.Key));

            // Bounded scans: only the upper bound is the caller's; the lower one, empty, is the keyspace's start.
            using var bounded = keyspace.Scan(column, [], [0x01, 0x02]);
            bounded.SeekToLast();
            Assert.Equal("00", Convert.ToHexString(bounded.Key));
            bounded.SeekForPrev([0xFF]);
            Assert.Equal("00", Convert.ToHexString(bounded.Key));
        }

        Assert.Equal(KeyspaceNeighbourhood.Expected(), KeyspaceNeighbourhood.Outside(Inner, keyspace.Prefix));
    }

    [Fact]
    public void A_keyspace_whose_prefix_ends_in_ff_stops_where_the_successor_carries()
    {
        // Prefix 10 FF FF: its successor is 11. Neighbours: 10 FF FE .. (below) and 11, 11 00 (above).
        using var keyspace = new KeyspaceEngine(Inner, [0x10, 0xFF, 0xFF]);
        byte[][] raw = [[0x10, 0xFF, 0xFE, 0xFF], [0x10, 0xFF], [0x11], [0x11, 0x00], [0x10, 0xFF, 0xFF - 1]];
        foreach (var key in raw)
        {
            Put(Inner, KvColumn.Data, key, [0xEE]);
        }

        Put(keyspace, KvColumn.Data, [0xFF], [0x01]);
        Put(keyspace, KvColumn.Data, [], [0x02]);
        Assert.Equal(["=02", "FF=01"], Pairs(keyspace, KvColumn.Data));
        Assert.Equal(["FF=01", "=02"], Pairs(keyspace, KvColumn.Data, backward: true));

        using (var batch = keyspace.CreateBatch())
        {
            keyspace.DeleteAll(batch);
            keyspace.Write(batch, sync: false);
        }

        Assert.Empty(Pairs(keyspace, KvColumn.Data));
        foreach (var key in raw)
        {
            Assert.Equal([0xEE], Inner.Get(KvColumn.Data, key));
        }
    }

    [Fact]
    public void DeleteRange_and_DeleteAll_never_touch_a_neighbour()
    {
        KeyspaceNeighbourhood.Plant(Inner);
        using var keyspace = KeyspaceEngine.ForShard(Inner, KeyspaceNeighbourhood.ShardId);
        using var below = KeyspaceEngine.ForShard(Inner, KeyspaceNeighbourhood.ShardId - 1);
        WriteSameKeys([keyspace], EdgeKeys);

        // The widest range a caller can name: from the empty key to a long run of 0xFF.
        using (var batch = keyspace.CreateBatch())
        {
            batch.DeleteRange(KvColumn.Data, [], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
            keyspace.Write(batch, sync: true);
        }

        Assert.Empty(Pairs(keyspace, KvColumn.Data));
        Assert.Equal(EdgeKeys.Length, Pairs(keyspace, KvColumn.Local).Count);
        Assert.Equal(KeyspaceNeighbourhood.Expected(), KeyspaceNeighbourhood.Outside(Inner, keyspace.Prefix));

        // DeleteAll empties every column of the keyspace, and only of the keyspace, atomically with later puts.
        using (var batch = keyspace.CreateBatch())
        {
            keyspace.DeleteAll(batch);
            Assert.Equal(3, batch.Count);
            batch.Put(KvColumn.RaftLog, K("kept"), K("after"));
            Assert.Equal(EdgeKeys.Length, Pairs(keyspace, KvColumn.Local).Count);
            keyspace.Write(batch, sync: true);
        }

        Assert.Empty(Pairs(keyspace, KvColumn.Data));
        Assert.Empty(Pairs(keyspace, KvColumn.Local));
        Assert.Equal([$"{Convert.ToHexString(K("kept"))}={Convert.ToHexString(K("after"))}"], Pairs(keyspace, KvColumn.RaftLog));
        Assert.Equal(KeyspaceNeighbourhood.Expected(), KeyspaceNeighbourhood.Outside(Inner, keyspace.Prefix));
        Assert.Equal(6, Pairs(below, KvColumn.Data).Count);
    }

    [Fact]
    public void A_snapshot_through_the_keyspace_is_point_in_time()
    {
        using var keyspace = KeyspaceEngine.ForShard(Inner, 1);
        using var neighbour = KeyspaceEngine.ForShard(Inner, 2);
        Put(keyspace, KvColumn.Data, K("a"), K("1"));
        Put(keyspace, KvColumn.Data, K("b"), K("1"));
        using var snapshot = keyspace.Snapshot();

        Put(keyspace, KvColumn.Data, K("a"), K("2"));
        Put(keyspace, KvColumn.Data, K("c"), K("2"));
        Put(neighbour, KvColumn.Data, K("a"), K("n"));
        using (var batch = keyspace.CreateBatch())
        {
            keyspace.DeleteAll(batch);
            batch.Put(KvColumn.Local, K("z"), K("2"));
            keyspace.Write(batch, sync: false);
        }

        Assert.Equal(K("1"), snapshot.Get(KvColumn.Data, K("a")));
        Assert.Equal("a=1", snapshot.Read(KvColumn.Data, K("a"), static (key, value) => $"{S(key)}={S(value)}"));
        Assert.Null(snapshot.Get(KvColumn.Data, K("c")));
        Assert.Null(snapshot.Get(KvColumn.Local, K("z")));
        Assert.Equal(["a", "b"], Keys(snapshot, KvColumn.Data));
        Assert.Empty(Keys(snapshot, KvColumn.Local));

        Assert.Empty(Keys(keyspace, KvColumn.Data));
        Assert.Equal(["z"], Keys(keyspace, KvColumn.Local));
        Assert.Equal(K("n"), neighbour.Get(KvColumn.Data, K("a")));

        static List<string> Keys(IKvReader reader, KvColumn column)
        {
            var keys = new List<string>();
            using var cursor = reader.Scan(column, [], []);
            for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
            {
                keys.Add(S(cursor.Key));
            }

            return keys;
        }
    }

    [Fact]
    public void Write_refuses_batches_of_the_inner_engine_and_of_other_keyspaces_with_a_clear_message()
    {
        using var keyspace = KeyspaceEngine.ForShard(Inner, 1);
        using var other = KeyspaceEngine.ForShard(Inner, 2);
        using var foreignInner = CreateInner();
        using var elsewhere = KeyspaceEngine.ForShard(foreignInner, 1);

        using var raw = Inner.CreateBatch();
        raw.Put(KvColumn.Data, K("a"), K("raw"));
        var error = Assert.Throws<ArgumentException>(() => keyspace.Write(raw, sync: false));
        Assert.Contains("not created by this keyspace", error.Message, StringComparison.Ordinal);
        Assert.Equal("batch", error.ParamName);

        using var ofOther = other.CreateBatch();
        ofOther.Put(KvColumn.Data, K("a"), K("other"));
        error = Assert.Throws<ArgumentException>(() => keyspace.Write(ofOther, sync: false));
        Assert.Contains(Convert.ToHexString(other.Prefix), error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => keyspace.DeleteAll(ofOther));
        Assert.Throws<ArgumentException>(() => keyspace.DeleteAll(raw));

        using var ofElsewhere = elsewhere.CreateBatch();
        ofElsewhere.Put(KvColumn.Data, K("a"), K("elsewhere"));
        Assert.Throws<ArgumentException>(() => keyspace.Write(ofElsewhere, sync: false));

        // The inner engine refuses the keyspace's batches too: they are not its own batch type.
        using var wrapped = keyspace.CreateBatch();
        wrapped.Put(KvColumn.Data, K("a"), K("wrapped"));
        Assert.Throws<ArgumentException>(() => Inner.Write(wrapped, sync: false));

        Assert.Null(keyspace.Get(KvColumn.Data, K("a")));
        Assert.Null(other.Get(KvColumn.Data, K("a")));
        Assert.Null(Inner.Get(KvColumn.Data, K("a")));
        Assert.Null(elsewhere.Get(KvColumn.Data, K("a")));
    }

    [Fact]
    public void The_same_keyspace_opened_twice_shares_batches()
    {
        using var first = KeyspaceEngine.ForShard(Inner, 5);
        using var second = KeyspaceEngine.ForShard(Inner, 5);
        using var batch = first.CreateBatch();
        batch.Put(KvColumn.Data, K("k"), K("v"));
        second.Write(batch, sync: false);
        Assert.Equal(K("v"), first.Get(KvColumn.Data, K("k")));
        Assert.Equal(K("v"), Inner.Get(KvColumn.Data, [.. KeyspaceEngine.ShardPrefix(5), .. K("k")]));
    }

    [Fact]
    public void The_decoder_sees_the_unprefixed_key_through_engines_snapshots_and_nested_keyspaces()
    {
        using var shard = KeyspaceEngine.ForShard(Inner, 3);
        using var nested = new KeyspaceEngine(shard, K("sub/"));
        Put(shard, KvColumn.Data, K("key"), K("shard"));
        Put(nested, KvColumn.Data, K("key"), K("nested"));
        Assert.Equal(K("nested"), shard.Get(KvColumn.Data, K("sub/key")));

        static string Describe(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => $"{S(key)}={S(value)}";
        Assert.Equal("key=shard", shard.Read(KvColumn.Data, K("key"), Describe));
        Assert.Equal("key=nested", nested.Read(KvColumn.Data, K("key"), Describe));
        Assert.Equal("sub/key=nested", shard.Read(KvColumn.Data, K("sub/key"), Describe));
        using (var snapshot = nested.Snapshot())
        {
            Assert.Equal("key=nested", snapshot.Read(KvColumn.Data, K("key"), Describe));
        }

        // A decoder that reads again (same result type) through both keyspaces sees its own key each time.
        var inside = nested.Read(KvColumn.Data, K("key"), (key, value) =>
            $"{S(key)}=[{shard.Read(KvColumn.Data, K("key"), Describe)}, {nested.Read(KvColumn.Data, K("key"), Describe)}]");
        Assert.Equal("key=[key=shard, key=nested]", inside);

        // A decoder that throws leaves the keyspace reading correctly afterwards; a missing key never calls it.
        Assert.Throws<FormatException>(() => nested.Read<string>(KvColumn.Data, K("key"), static (_, _) => throw new FormatException()));
        Assert.Null(nested.Read(KvColumn.Data, K("absent"), static (_, _) => "called"));
        Assert.Equal("key=nested", nested.Read(KvColumn.Data, K("key"), Describe));
    }

    [Fact]
    public void Concurrent_readers_of_different_keyspaces_each_decode_their_own_keys()
    {
        const int Keyspaces = 4;
        const int Reads = 500;
        var keyspaces = Enumerable.Range(0, Keyspaces).Select(i => KeyspaceEngine.ForShard(Inner, (ulong)i)).ToList();
        try
        {
            for (var i = 0; i < Keyspaces; i++)
            {
                using var batch = keyspaces[i].CreateBatch();
                for (var k = 0; k < 10; k++)
                {
                    batch.Put(KvColumn.Data, K($"k{k}"), K($"s{i}"));
                }

                keyspaces[i].Write(batch, sync: false);
            }

            var mismatches = 0;
            var threads = keyspaces.Select((keyspace, i) => new Thread(() =>
            {
                for (var r = 0; r < Reads; r++)
                {
                    var name = $"k{r % 10}";
                    var decoded = keyspace.Read(KvColumn.Data, K(name), static (key, value) => $"{S(key)}={S(value)}");
                    if (decoded != $"{name}=s{i}")
                    {
                        Interlocked.Increment(ref mismatches);
                    }
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            Assert.Equal(0, mismatches);
        }
        finally
        {
            keyspaces.ForEach(k => k.Dispose());
        }
    }

    [Fact]
    public void Keys_longer_than_the_stack_buffer_work_everywhere()
    {
        using var keyspace = KeyspaceEngine.ForShard(Inner, 9);
        var random = new Random(11);
        var longKey = new byte[KeyspaceEngine.StackKeyBytes * 3];
        random.NextBytes(longKey);
        byte[] longer = [.. longKey, 0x01];
        Put(keyspace, KvColumn.Data, longKey, K("long"));
        Put(keyspace, KvColumn.Data, longer, K("longer"));

        Assert.Equal(K("long"), keyspace.Get(KvColumn.Data, longKey));
        Assert.Equal(longKey.Length, keyspace.Read(KvColumn.Data, longKey, static (key, _) => (object)key.Length));
        using (var cursor = keyspace.Scan(KvColumn.Data, longKey, longer))
        {
            cursor.SeekToFirst();
            Assert.Equal(longKey, cursor.Key.ToArray());
            cursor.Next();
            Assert.False(cursor.Valid);
            cursor.SeekForPrev(longer);
            Assert.Equal(longKey, cursor.Key.ToArray());
        }

        using (var cursor = keyspace.Scan(KvColumn.Data, [], []))
        {
            cursor.Seek(longer);
            Assert.Equal(longer, cursor.Key.ToArray());
        }

        using (var batch = keyspace.CreateBatch())
        {
            batch.DeleteRange(KvColumn.Data, longKey, longer);
            batch.Delete(KvColumn.Data, longer);
            keyspace.Write(batch, sync: false);
        }

        Assert.Empty(Pairs(keyspace, KvColumn.Data));
    }

    [Fact]
    public void Disposing_a_keyspace_leaves_the_inner_engine_and_the_data_alone()
    {
        var keyspace = KeyspaceEngine.ForShard(Inner, 4);
        Put(keyspace, KvColumn.Data, K("a"), K("1"), sync: true);
        var cursor = keyspace.Scan(KvColumn.Data, [], []);
        cursor.SeekToFirst();
        var snapshot = keyspace.Snapshot();
        keyspace.Dispose();

        Assert.Throws<ObjectDisposedException>(() => keyspace.Get(KvColumn.Data, K("a")));
        Assert.Throws<ObjectDisposedException>(() => keyspace.Read(KvColumn.Data, K("a"), static (_, _) => "x"));
        Assert.Throws<ObjectDisposedException>(() => cursor.Key.ToArray());
        Assert.Throws<ObjectDisposedException>(() => snapshot.Read(KvColumn.Data, K("a"), static (_, _) => "x"));
        cursor.Dispose();
        snapshot.Dispose();

        // The inner engine is still open, and the keyspace's data is still there for the next keyspace over it.
        using var reopened = KeyspaceEngine.ForShard(Inner, 4);
        Assert.Equal(K("1"), reopened.Get(KvColumn.Data, K("a")));
        Put(Inner, KvColumn.Data, K("raw"), K("ok"));
        Assert.Equal(K("ok"), Inner.Get(KvColumn.Data, K("raw")));
    }

    [Fact]
    public void Prefixes_must_have_a_successor_and_shard_prefixes_are_tag_plus_big_endian_id()
    {
        Assert.Throws<ArgumentException>(() => new KeyspaceEngine(Inner, []));
        Assert.Throws<ArgumentException>(() => new KeyspaceEngine(Inner, [0xFF]));
        Assert.Throws<ArgumentException>(() => new KeyspaceEngine(Inner, [0xFF, 0xFF, 0xFF]));
        Assert.Throws<ArgumentNullException>(() => new KeyspaceEngine(null!, [0x01]));

        Assert.Equal("530102030405060708", Convert.ToHexString(KeyspaceEngine.ShardPrefix(0x0102030405060708)));
        Assert.Equal("53FFFFFFFFFFFFFFFF", Convert.ToHexString(KeyspaceEngine.ShardPrefix(ulong.MaxValue)));
        using var last = KeyspaceEngine.ForShard(Inner, ulong.MaxValue);
        Assert.Equal(KeyspaceEngine.ShardPrefix(ulong.MaxValue), last.Prefix.ToArray());

        // Shard prefixes sort by shard id and none is a prefix of another.
        var random = new Random(3);
        var ids = Enumerable.Range(0, 200).Select(_ => (ulong)random.NextInt64()).Append(0UL).Append(ulong.MaxValue).Distinct().Order().ToList();
        var prefixes = ids.Select(KeyspaceEngine.ShardPrefix).ToList();
        for (var i = 1; i < prefixes.Count; i++)
        {
            Assert.True(KeyOrder.Compare(prefixes[i - 1], prefixes[i]) < 0);
            Assert.False(prefixes[i].AsSpan().StartsWith(prefixes[i - 1]));
        }
    }
}

public sealed class KeyspaceIsolationOverInMemoryTests : KeyspaceIsolationTests
{
    protected override IKvEngine CreateInner() => new InMemoryKvEngine();

    [Fact]
    public void A_crash_keeps_only_the_synced_writes_made_through_the_keyspace()
    {
        var inner = new InMemoryKvEngine();
        using var _ = inner;
        using var keyspace = KeyspaceEngine.ForShard(inner, 1);
        using var neighbour = KeyspaceEngine.ForShard(inner, 2);
        Put(keyspace, KvColumn.Data, K("a"), K("synced"), sync: true);
        Put(keyspace, KvColumn.Data, K("a"), K("unsynced"));
        Put(neighbour, KvColumn.Local, K("n"), K("unsynced"));
        Put(keyspace, KvColumn.RaftLog, K("b"), K("unsynced"));
        Assert.Equal(K("unsynced"), keyspace.Get(KvColumn.Data, K("a")));
        Assert.Equal(3, inner.UnsyncedBatchCount);

        inner.SimulateCrash(survivingUnsyncedBatches: 1);

        Assert.Equal(K("unsynced"), keyspace.Get(KvColumn.Data, K("a")));
        Assert.Null(neighbour.Get(KvColumn.Local, K("n")));
        Assert.Null(keyspace.Get(KvColumn.RaftLog, K("b")));

        Put(keyspace, KvColumn.Data, K("c"), K("unsynced"));
        inner.SimulateCrash();

        Assert.Equal(K("unsynced"), keyspace.Get(KvColumn.Data, K("a")));
        Assert.Null(keyspace.Get(KvColumn.Data, K("c")));
        Assert.Equal(["61=756E73796E636564"], Pairs(keyspace, KvColumn.Data));
    }

    [Fact]
    public void A_failed_sync_through_the_keyspace_poisons_the_inner_engine_and_is_reported_as_such()
    {
        using var inner = new InMemoryKvEngine();
        using var keyspace = KeyspaceEngine.ForShard(inner, 1);
        inner.FailNextSync();
        Assert.Throws<StorageFailureException>(() => Put(keyspace, KvColumn.Data, K("a"), K("1"), sync: true));
        Assert.Throws<StorageFailureException>(() => keyspace.Get(KvColumn.Data, K("a")));
        inner.SimulateCrash();
        Assert.Null(keyspace.Get(KvColumn.Data, K("a")));
    }
}

public sealed class KeyspaceIsolationOverRocksDbTests : KeyspaceIsolationTests
{
    private readonly TempDirectory _directory = new();
    private int _engines;

    protected override IKvEngine CreateInner() =>
        RocksDbEngine.Open(_directory.Sub($"db{Interlocked.Increment(ref _engines)}"), RocksDbEngineContractTests.SmallOptions);

    public override void Dispose()
    {
        try
        {
            base.Dispose();
        }
        finally
        {
            _directory.Dispose();
        }
    }

    [Fact]
    public void A_point_read_through_the_keyspace_allocates_nothing_but_the_decoded_result()
    {
        using var keyspace = KeyspaceEngine.ForShard(Inner, 1);
        var key = new byte[512];
        new Random(5).NextBytes(key);
        Put(keyspace, KvColumn.Data, key, new byte[100], sync: true);
        var found = new object();
        ValueDecoder<object> decode = (_, _) => found;

        // Warm up: JIT, type initializers, the thread's decoder frames.
        for (var i = 0; i < 100; i++)
        {
            Assert.Same(found, keyspace.Read(KvColumn.Data, key, decode));
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            keyspace.Read(KvColumn.Data, key, decode);
            keyspace.Read(KvColumn.Data, [0x01], decode);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
