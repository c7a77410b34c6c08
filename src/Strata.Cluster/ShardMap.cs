using Strata.Cluster.Meta;

namespace Strata.Cluster;

/// <summary>
/// An immutable view of the meta shard's state as applied on this node: the cluster's nodes and the shard map
/// (range descriptors over the 64-bit routing-key space, sorted by start). Replaced, never mutated, when the meta
/// shard applies a change; safe to share between threads.
/// </summary>
/// <remarks>
/// A node's view can lag the meta shard's leader; every descriptor carries a generation, bumped by every change of
/// its range or replicas.
/// </remarks>
public sealed class ShardMap
{
    private readonly RangeDescriptor[] _byStart;

    /// <summary>The map before bootstrap: no nodes, no shards.</summary>
    public static ShardMap Empty { get; } = new(string.Empty, [], []);

    /// <summary>Builds a map; <paramref name="shards"/> must tile the routing-key space without gaps or overlaps.</summary>
    public ShardMap(string clusterId, IEnumerable<NodeRecord> nodes, IEnumerable<RangeDescriptor> shards,
        IEnumerable<ReplicaMove>? moves = null, uint replicationFactor = 0)
    {
        ClusterId = clusterId;
        Nodes = [.. nodes.OrderBy(n => n.Id)];
        _byStart = [.. shards.OrderBy(s => s.Start)];
        Moves = [.. (moves ?? []).OrderBy(m => m.ShardId)];
        ReplicationFactor = (int)Math.Max(1, replicationFactor);
        Validate(_byStart);
    }

    /// <summary>Replica moves in progress (at most one per shard), by shard id.</summary>
    public IReadOnlyList<ReplicaMove> Moves { get; }

    /// <summary>Replicas per shard the cluster keeps (capped by the number of active nodes).</summary>
    public int ReplicationFactor { get; }

    /// <summary>The nodes that may hold replicas (not being drained, not gone), by id.</summary>
    public IEnumerable<NodeRecord> ActiveNodes => Nodes.Where(n => n.State == NodeState.Active);

    /// <summary>The nodes that are still part of the cluster (active or being drained), by id.</summary>
    public IEnumerable<NodeRecord> LiveNodes => Nodes.Where(n => n.State != NodeState.Decommissioned);

    /// <summary>The move in progress for <paramref name="shardId"/>, or null.</summary>
    public ReplicaMove? MoveOf(ulong shardId) => Moves.FirstOrDefault(m => m.ShardId == shardId);

    /// <summary>The cluster's id ("" before bootstrap).</summary>
    public string ClusterId { get; }

    /// <summary>Every node, by id.</summary>
    public IReadOnlyList<NodeRecord> Nodes { get; }

    /// <summary>Every namespace shard, by the start of its range.</summary>
    public IReadOnlyList<RangeDescriptor> Shards => _byStart;

    /// <summary>Whether the meta shard has applied the cluster's bootstrap.</summary>
    public bool IsBootstrapped => _byStart.Length > 0;

    /// <summary>The shard owning <paramref name="routingKey"/>, or null before bootstrap.</summary>
    public RangeDescriptor? FindByRoutingKey(ulong routingKey)
    {
        int lo = 0;
        int hi = _byStart.Length - 1;
        RangeDescriptor? found = null;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_byStart[mid].Start <= routingKey)
            {
                found = _byStart[mid];
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found;
    }

    /// <summary>The descriptor of <paramref name="shardId"/>, or null when there is no such shard.</summary>
    public RangeDescriptor? FindShard(ulong shardId) => Array.Find(_byStart, s => s.ShardId == shardId);

    /// <summary>The node <paramref name="nodeId"/>, or null when it is not a member.</summary>
    public NodeRecord? FindNode(ulong nodeId) => Nodes.FirstOrDefault(n => n.Id == nodeId);

    /// <summary>
    /// The initial layout of a new cluster: <paramref name="shardCount"/> shards (ids 1..n; 0 is the meta shard)
    /// splitting the routing-key space into equal ranges, each replicated on <paramref name="replicationFactor"/>
    /// nodes chosen round-robin so replicas (and, with the preferred leaders, leadership) spread evenly.
    /// Deterministic: every founding node computes the same layout from the same flags.
    /// </summary>
    public static IReadOnlyList<RangeDescriptor> InitialLayout(int shardCount, IReadOnlyList<ulong> nodes, int replicationFactor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(replicationFactor, 1);
        if (nodes.Count == 0)
        {
            throw new ArgumentException("a cluster needs at least one node", nameof(nodes));
        }

        ulong[] sorted = [.. nodes.Order()];
        int replicas = Math.Min(replicationFactor, sorted.Length);
        var layout = new List<RangeDescriptor>(shardCount);
        UInt128 space = UInt128.One << 64;
        for (int i = 0; i < shardCount; i++)
        {
            var descriptor = new RangeDescriptor
            {
                ShardId = (ulong)i + 1,
                Start = (ulong)(space * (uint)i / (uint)shardCount),
                End = i == shardCount - 1 ? 0 : (ulong)(space * (uint)(i + 1) / (uint)shardCount),
                Generation = 1,
            };
            for (int r = 0; r < replicas; r++)
            {
                descriptor.Replicas.Add(sorted[(i + r) % sorted.Length]);
            }

            layout.Add(descriptor);
        }

        return layout;
    }

    /// <summary>The replicas of the meta shard: the first five nodes by id (or all of them when fewer).</summary>
    public static IReadOnlyList<ulong> MetaReplicas(IReadOnlyList<ulong> nodes) => [.. nodes.Order().Take(5)];

    private static void Validate(RangeDescriptor[] shards)
    {
        if (shards.Length == 0)
        {
            return;
        }

        if (shards[0].Start != 0)
        {
            throw new ArgumentException($"the shard map starts at {shards[0].Start}, not 0");
        }

        for (int i = 0; i < shards.Length; i++)
        {
            RangeDescriptor shard = shards[i];
            if (shard.ShardId == 0)
            {
                throw new ArgumentException("shard 0 is the meta shard; it owns no range");
            }

            ulong expectedEnd = i + 1 < shards.Length ? shards[i + 1].Start : 0;
            if (shard.End != expectedEnd || (shard.End != 0 && shard.End <= shard.Start))
            {
                throw new ArgumentException($"shard {shard.ShardId} ends at {shard.End}, expected {expectedEnd}: ranges must tile the key space");
            }
        }
    }
}

/// <summary>Words for a <see cref="NodeState"/> (messages, the API, the CLI).</summary>
public static class NodeStateText
{
    /// <summary>"active", "decommissioning" or "decommissioned".</summary>
    public static string Describe(this NodeState state) => state switch
    {
        NodeState.Active => "active",
        NodeState.Decommissioning => "decommissioning",
        NodeState.Decommissioned => "decommissioned",
        _ => state.ToString(),
    };
}
