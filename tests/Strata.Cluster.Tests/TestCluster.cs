using Strata.Cluster.Meta;
using Strata.Namespace.Commands;
using Strata.Storage;

namespace Strata.Cluster.Tests;

/// <summary>
/// N cluster nodes in one process, each with its own in-memory engine and loop thread, over an
/// <see cref="InProcessNetwork"/>. Nodes can be killed (the loop stops, the network drops their traffic, and the
/// engine loses every write that was not synced, as in a power cut) and restarted over what survived.
/// </summary>
internal sealed class TestCluster : IAsyncDisposable
{
    private readonly Dictionary<ulong, InMemoryKvEngine> _engines = [];
    private readonly Func<ClusterNodeOptions, ClusterNodeOptions> _configure;

    public TestCluster(int nodes, int shards = 2, Func<ClusterNodeOptions, ClusterNodeOptions>? configure = null)
    {
        _configure = configure ?? (o => o);
        Members = [.. Enumerable.Range(1, nodes).Select(i => new NodeRecord
        {
            Id = (ulong)i,
            ApiAddress = $"127.0.0.1:{7100 + i}",
            RaftAddress = $"127.0.0.1:{7200 + i}",
        })];
        Shards = shards;
        foreach (NodeRecord member in Members)
        {
            _engines[member.Id] = new InMemoryKvEngine();
            Start(member.Id);
        }
    }

    public IReadOnlyList<NodeRecord> Members { get; }

    public int Shards { get; }

    public InProcessNetwork Network { get; } = new();

    public Dictionary<ulong, ClusterNode> Nodes { get; } = [];

    public ClusterNode this[ulong id] => Nodes[id];

    public IEnumerable<ClusterNode> Running => Nodes.Values;

    public void Start(ulong id)
    {
        ClusterNode? node = null;
        ClusterNodeOptions options = _configure(new ClusterNodeOptions
        {
            NodeId = id,
            InitialCluster = Members,
            InitialShards = Shards,
            TickInterval = TimeSpan.FromMilliseconds(10),
            RandomSeed = 77 + id,
        });
        var transport = Network.Connect(id, () => node?.Wake());
        Network.Up(id);
        node = ClusterNode.Start(options, _engines[id], transport);
        Nodes[id] = node;
    }

    /// <summary>Stops <paramref name="id"/> abruptly: its traffic is dropped and unsynced writes are lost.</summary>
    public async Task KillAsync(ulong id)
    {
        Network.Down(id);
        await Nodes[id].DisposeAsync();
        Nodes.Remove(id);
        _engines[id].SimulateCrash();
    }

    public async Task WaitReadyAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        foreach (ClusterNode node in Running)
        {
            await node.WaitUntilReadyAsync(timeout.Token);
        }
    }

    /// <summary>The shard that owns <paramref name="bucket"/> (by the same routing the server uses).</summary>
    public ulong ShardOf(string bucket) =>
        Running.First().Map.FindByRoutingKey(Api.ShardRouting.RoutingKey(bucket))!.ShardId;

    /// <summary>Waits until every running node agrees on one leader of <paramref name="shard"/> and returns it.</summary>
    public async Task<ulong> LeaderAsync(ulong shard)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            ulong[] seen = [.. Running.Select(n => n.LeaderOf(shard)).Distinct()];
            if (seen.Length == 1 && seen[0] != 0 && Nodes.ContainsKey(seen[0]))
            {
                return seen[0];
            }

            await Task.Delay(10, timeout.Token);
        }
    }

    /// <summary>Proposes through <paramref name="via"/>, retrying (same client id and sequence) while the outcome is unknown.</summary>
    public static async Task<CommandResult> ProposeWithRetryAsync(ClusterNode via, ulong shard, Command command)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await via.ProposeAsync(shard, command.Clone());
            }
            catch (Exception e) when (e is OutcomeUnknownException or ShardUnavailableException && attempt < 200)
            {
                await Task.Delay(20);
            }
        }
    }

    public static Command CreateBucket(string name) => new() { CreateBucket = new CreateBucket { Name = name } };

    public static Command Put(string bucket, string path, ulong size, ByteStringOrNull client = default, ulong sequence = 0)
    {
        var command = new Command
        {
            Put = new PutObject { Bucket = bucket, Path = path, Attributes = new ObjectAttributes { Size = size } },
        };
        if (client.Value is { } id)
        {
            command.ClientId = id;
            command.Sequence = sequence;
        }

        return command;
    }

    public static Task<EntryInfo> StatAsync(ClusterNode node, ulong shard, string bucket, string path) =>
        node.ReadAsync(shard, reader => reader.Stat(bucket, path));

    public async ValueTask DisposeAsync()
    {
        foreach (ClusterNode node in Nodes.Values)
        {
            await node.DisposeAsync();
        }

        Nodes.Clear();
        foreach (InMemoryKvEngine engine in _engines.Values)
        {
            engine.Dispose();
        }
    }
}

/// <summary>An optional 16-byte client id for commands that take part in exactly-once bookkeeping.</summary>
internal readonly record struct ByteStringOrNull(Google.Protobuf.ByteString? Value);
