using System.Collections.Concurrent;
using Strata.Cluster.Meta;
using Strata.Namespace;
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
    private readonly List<NodeRecord> _members;
    private readonly HashSet<ulong> _joined = [];
    private readonly Func<ClusterNodeOptions, ClusterNodeOptions> _configure;

    public TestCluster(int nodes, int shards = 2, Func<ClusterNodeOptions, ClusterNodeOptions>? configure = null)
    {
        _configure = configure ?? (o => o);
        _members = [.. Enumerable.Range(1, nodes).Select(i => Record((ulong)i))];
        Founders = [.. _members];
        Shards = shards;
        foreach (NodeRecord member in Members)
        {
            _engines[member.Id] = new InMemoryKvEngine();
            Start(member.Id);
        }
    }

    /// <summary>Every node ever started: the founders and the nodes that joined.</summary>
    public IReadOnlyList<NodeRecord> Members => _members;

    /// <summary>The founding members (the initial cluster every founder starts with).</summary>
    public IReadOnlyList<NodeRecord> Founders { get; }

    private static NodeRecord Record(ulong id) => new()
    {
        Id = id,
        ApiAddress = $"127.0.0.1:{7100 + id}",
        RaftAddress = $"127.0.0.1:{7200 + id}",
    };

    public int Shards { get; }

    public InProcessNetwork Network { get; } = new();

    /// <summary>The running nodes. Thread-safe: client tasks pick nodes while a fault task kills and restarts them.</summary>
    public ConcurrentDictionary<ulong, ClusterNode> Nodes { get; } = new();

    public ClusterNode this[ulong id] => Nodes[id];

    public IEnumerable<ClusterNode> Running => Nodes.Values;

    /// <summary>A running node chosen by <paramref name="random"/> (seeded by the caller).</summary>
    public ClusterNode PickRunning(Random random)
    {
        while (true)
        {
            ulong[] ids = [.. Nodes.Keys.Order()];
            if (ids.Length > 0 && Nodes.TryGetValue(ids[random.Next(ids.Length)], out ClusterNode? node))
            {
                return node;
            }
        }
    }

    /// <summary>Whether <paramref name="node"/> is still running (not killed since it was picked).</summary>
    public bool IsRunning(ClusterNode node) => Nodes.TryGetValue(node.NodeId, out ClusterNode? current) && ReferenceEquals(current, node);

    /// <summary>Every member's id, running or not.</summary>
    public IEnumerable<ulong> MemberIds => Members.Select(m => m.Id);

    public void Start(ulong id)
    {
        ClusterNode? node = null;
        bool joined = _joined.Contains(id);
        ClusterNodeOptions options = _configure(new ClusterNodeOptions
        {
            NodeId = id,
            Joining = joined,
            InitialCluster = joined ? [.. _members] : Founders,
            InitialShards = Shards,
            TickInterval = TimeSpan.FromMilliseconds(10),
            RandomSeed = 77 + id,
        });
        var transport = Network.Connect(id, () => node?.Wake());
        Network.Up(id);
        node = ClusterNode.Start(options, _engines[id], transport);
        Nodes[id] = node;
    }

    /// <summary>
    /// Starts node <paramref name="id"/> on an empty engine as a joining node and adds it to the cluster through a
    /// running member (retrying while the meta shard has no leader); returns once the meta shard recorded it.
    /// </summary>
    public async Task JoinAsync(ulong id)
    {
        NodeRecord record = Record(id);
        _members.Add(record);
        _joined.Add(id);
        _engines[id] = new InMemoryKvEngine();
        Start(id);
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                NodeRecord added = await Running.First(n => n.NodeId != id && n.Map.FindNode(n.NodeId)?.State == NodeState.Active)
                    .AddNodeAsync(record.Clone());
                Assert.Equal(id, added.Id);
                return;
            }
            catch (Exception e) when (e is OutcomeUnknownException or ShardUnavailableException && attempt < 200)
            {
                await Task.Delay(20);
            }
        }
    }

    /// <summary>Asks the cluster (through a running active member) to drain <paramref name="id"/>.</summary>
    public async Task DecommissionAsync(ulong id)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                await Running.First(n => n.NodeId != id && n.Map.FindNode(n.NodeId)?.State == NodeState.Active).DecommissionAsync(id);
                return;
            }
            catch (Exception e) when (e is OutcomeUnknownException or ShardUnavailableException && attempt < 200)
            {
                await Task.Delay(20);
            }
        }
    }

    /// <summary>Waits (up to <paramref name="limit"/>) until <paramref name="condition"/> holds; false if it never did.</summary>
    public static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan limit)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > limit)
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }

    /// <summary>Stops <paramref name="id"/> abruptly: its traffic is dropped and unsynced writes are lost.</summary>
    public async Task KillAsync(ulong id)
    {
        Network.Down(id);
        Nodes.TryRemove(id, out ClusterNode? node);
        await node!.DisposeAsync();
        _engines[id].SimulateCrash();
    }

    /// <summary>Waits until every running node other than <paramref name="excluded"/> names one leader of
    /// <paramref name="shard"/> that is also not <paramref name="excluded"/> (e.g. the side of a partition that has a
    /// majority elected a new leader), and returns it.</summary>
    public async Task<ulong> NewLeaderAsync(ulong shard, ulong excluded)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            ulong[] seen = [.. Running.Where(n => n.NodeId != excluded && n.HostedShards.Contains(shard)).Select(n => n.LeaderOf(shard)).Distinct()];
            if (seen.Length == 1 && seen[0] != 0 && seen[0] != excluded && Nodes.ContainsKey(seen[0]))
            {
                return seen[0];
            }

            await Task.Delay(5, timeout.Token);
        }
    }

    /// <summary>Every object of <paramref name="bucket"/> (path, size, generation; directories left out), read linearizably through <paramref name="node"/>.</summary>
    public static async Task<IReadOnlyList<(string Path, ulong Size, ulong Generation)>> ListAsync(ClusterNode node, ulong shard, string bucket)
    {
        var all = new List<(string, ulong, ulong)>();
        string? token = null;
        do
        {
            string? page = token;
            ListPage listed = await node.ReadAsync(shard, reader =>
                reader.List(new ListRequest(bucket, Recursive: true, Limit: NamespaceLimits.MaxListLimit, ContinuationToken: page)));
            all.AddRange(listed.Entries.Where(e => e.Kind == EntryKind.Object).Select(e => (e.Path, e.Attributes.Size, e.Generation)));
            token = listed.NextToken;
        }
        while (token is not null);

        return all;
    }

    /// <summary>Runs <paramref name="read"/>, retrying while the shard has no leader (elections after faults); gives up
    /// after a generous number of attempts.</summary>
    public static async Task<T> RetryUnavailableAsync<T>(Func<Task<T>> read)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await read();
            }
            catch (ShardUnavailableException) when (attempt < 300)
            {
                await Task.Delay(20);
            }
        }
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

    /// <summary>Waits until every running node hosting <paramref name="shard"/> agrees on one leader of it and returns it.</summary>
    public async Task<ulong> LeaderAsync(ulong shard)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            ulong[] seen = [.. Running.Where(n => n.HostedShards.Contains(shard)).Select(n => n.LeaderOf(shard)).Distinct()];
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
