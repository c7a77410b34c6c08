namespace Strata.Storage.Tests;

/// <summary>
/// Keys around shard 0x01FF's keyspace in a node's engine: the neighbouring shard keyspaces below (0x01FE) and above
/// (0x0200, where the successor of the 0xFF-ending prefix carries) and raw keys just outside the keyspace, in every
/// column. The contract fixtures plant them before each test and check them untouched after it, so every contract
/// test also shows that the keyspace neither sees nor changes its neighbours.
/// </summary>
internal static class KeyspaceNeighbourhood
{
    /// <summary>The keyspace under test: its prefix ends in 0xFF (53 0000000000000001 FF).</summary>
    public const ulong ShardId = 0x01FF;

    /// <summary>Every (column, inner key, value) planted around the keyspace.</summary>
    public static IReadOnlyList<(KvColumn Column, byte[] Key, byte[] Value)> Planted { get; } = Build();

    private static List<(KvColumn, byte[], byte[])> Build()
    {
        byte[][] suffixes = [[], [0x00], [0x10], [0x50], [0xFF], [0xFF, 0xFF, 0xFF]];
        var below = KeyspaceEngine.ShardPrefix(ShardId - 1);
        var above = KeyspaceEngine.ShardPrefix(ShardId + 1);
        List<byte[]> rawKeys =
        [
            [],
            [0x00],
            [0x52, 0xFF, 0xFF],
            [KeyspaceEngine.ShardTag],
            [0x54],
            [0xFF, 0xFF],
            .. suffixes.Select(s => (byte[])[.. below, .. s]),
            .. suffixes.Select(s => (byte[])[.. above, .. s]),

            // Longer than the keyspace prefix but not starting with it: differs in the byte before the 0xFF.
            [KeyspaceEngine.ShardTag, 0, 0, 0, 0, 0, 0, 0x00, 0xFF, 0x10],
            [KeyspaceEngine.ShardTag, 0, 0, 0, 0, 0, 0, 0x02, 0xFF],

            // Shorter than the prefix and a prefix of it: sorts just before the keyspace.
            [KeyspaceEngine.ShardTag, 0, 0, 0, 0, 0, 0, 0x01],
        ];
        var planted = new List<(KvColumn, byte[], byte[])>();
        foreach (var column in new[] { KvColumn.Data, KvColumn.RaftLog, KvColumn.Local })
        {
            foreach (var key in rawKeys)
            {
                planted.Add((column, key, [0xEE, (byte)column, .. key]));
            }
        }

        return planted;
    }

    public static void Plant(IKvEngine inner)
    {
        using var batch = inner.CreateBatch();
        foreach (var (column, key, value) in Planted)
        {
            batch.Put(column, key, value);
        }

        inner.Write(batch, sync: true);
    }

    /// <summary>Every pair of <paramref name="inner"/> outside the keyspace with <paramref name="prefix"/>, as text.</summary>
    public static List<string> Outside(IKvReader inner, ReadOnlySpan<byte> prefix)
    {
        var outside = new List<string>();
        foreach (var column in new[] { KvColumn.Data, KvColumn.RaftLog, KvColumn.Local })
        {
            using var cursor = inner.Scan(column, [], []);
            for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
            {
                if (!cursor.Key.StartsWith(prefix))
                {
                    outside.Add($"{column}:{Convert.ToHexString(cursor.Key)}={Convert.ToHexString(cursor.Value)}");
                }
            }
        }

        return outside;
    }

    public static List<string> Expected() =>
        [.. Planted.OrderBy(p => p.Column).ThenBy(p => p.Key, KeyOrder.Comparer)
            .Select(p => $"{p.Column}:{Convert.ToHexString(p.Key)}={Convert.ToHexString(p.Value)}")];
}

/// <summary>
/// The engine contract run against <see cref="KeyspaceEngine"/>: each test gets shard 0x01FF's keyspace of a fresh
/// inner engine that already holds the <see cref="KeyspaceNeighbourhood"/>, checked untouched when the test ends.
/// </summary>
public abstract class KeyspaceEngineContract : KvEngineContract
{
    private readonly List<IKvEngine> _inners = [];

    /// <summary>A fresh, empty inner engine.</summary>
    protected abstract IKvEngine CreateInner();

    /// <summary>The keyspace under test over <paramref name="inner"/>.</summary>
    protected virtual KeyspaceEngine CreateKeyspace(IKvEngine inner) => KeyspaceEngine.ForShard(inner, KeyspaceNeighbourhood.ShardId);

    protected override IKvEngine CreateEngine()
    {
        var inner = CreateInner();
        lock (_inners)
        {
            _inners.Add(inner);
        }

        KeyspaceNeighbourhood.Plant(inner);
        return CreateKeyspace(inner);
    }

    public override void Dispose()
    {
        base.Dispose();
        try
        {
            foreach (var inner in _inners)
            {
                // Whatever the test did through the keyspace (including disposing it), the neighbours are intact.
                Assert.Equal(KeyspaceNeighbourhood.Expected(), KeyspaceNeighbourhood.Outside(inner, KeyspaceEngine.ShardPrefix(KeyspaceNeighbourhood.ShardId)));
            }
        }
        finally
        {
            _inners.ForEach(inner => inner.Dispose());
        }
    }
}

public sealed class KeyspaceOverInMemoryContractTests : KeyspaceEngineContract
{
    protected override IKvEngine CreateInner() => new InMemoryKvEngine();
}

public sealed class KeyspaceOverRocksDbContractTests : KeyspaceEngineContract
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
}

/// <summary>
/// A keyspace inside a keyspace (prefix 0x00 0xFF inside shard 0x01FF's): prefixes compose, and the decoder frames
/// of nested reads unwind in the right order.
/// </summary>
public sealed class NestedKeyspaceContractTests : KeyspaceEngineContract
{
    private readonly List<KeyspaceEngine> _outer = [];

    protected override IKvEngine CreateInner() => new InMemoryKvEngine();

    protected override KeyspaceEngine CreateKeyspace(IKvEngine inner)
    {
        var shard = base.CreateKeyspace(inner);
        lock (_outer)
        {
            _outer.Add(shard);
        }

        return new KeyspaceEngine(shard, [0x00, 0xFF]);
    }

    public override void Dispose()
    {
        try
        {
            base.Dispose();
        }
        finally
        {
            _outer.ForEach(shard => shard.Dispose());
        }
    }
}
