using Strata.Cluster.Meta;

namespace Strata.Cluster;

/// <summary>Settings of one cluster node.</summary>
public sealed record ClusterNodeOptions
{
    /// <summary>This node's id (never 0); unique in the cluster and stable across restarts.</summary>
    public ulong NodeId { get; init; } = 1;

    /// <summary>The cluster's name; nodes of different clusters refuse each other.</summary>
    public string ClusterId { get; init; } = "strata";

    /// <summary>
    /// The founding nodes (this one included), used only when the node starts on an empty data directory: every
    /// founding node computes the same initial layout from it. Ignored on restart (the state is in the log), except
    /// that its members are the peers the node talks to. Must contain this node.
    /// </summary>
    public IReadOnlyList<NodeRecord> InitialCluster { get; init; } = [];

    /// <summary>
    /// True for a node joining an existing cluster (<c>strata start --join</c>): on an empty engine it founds nothing
    /// and creates only an empty replica of the meta shard, which the meta shard's leader fills once the node has
    /// been added (<see cref="ClusterNode.AddNodeAsync"/>). <see cref="InitialCluster"/> then lists the nodes known
    /// when joining (this one included), which the transport dials until the map arrives.
    /// </summary>
    public bool Joining { get; init; }

    /// <summary>
    /// Spread leadership: a node leading at least two more namespace shards than another voter of one of them hands
    /// that shard's leadership over (one transfer per node every two election timeouts; see
    /// <c>ClusterNode.Leadership.cs</c>). Without it, leadership stays where failovers and joins left it.
    /// </summary>
    public bool BalanceLeadership { get; init; } = true;

    /// <summary>Namespace shards of a new cluster, splitting the routing-key space evenly.</summary>
    public int InitialShards { get; init; } = 4;

    /// <summary>Replicas per shard (capped by the number of nodes).</summary>
    public int ReplicationFactor { get; init; } = 3;

    /// <summary>Length of one Raft tick. Election timeout = <see cref="ElectionTicks"/> ticks (randomized up to twice).</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Election timeout in ticks. The leader lease lasts this minus <see cref="LeaseDriftMarginTicks"/> ticks.</summary>
    public int ElectionTicks { get; init; } = 10;

    /// <summary>Ticks subtracted from the election timeout to form the lease (clock-rate drift margin).</summary>
    public int LeaseDriftMarginTicks { get; init; } = 2;

    /// <summary>How long a caller waits for its proposal to apply before the outcome is reported unknown.</summary>
    public TimeSpan ProposalTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a read waits for its read index before it fails as unavailable.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Compact a shard's log once this many applied entries follow its snapshot.</summary>
    public ulong CompactionThreshold { get; init; } = 20_000;

    /// <summary>How often each shard's leader proposes garbage collection; zero disables it.</summary>
    public TimeSpan GarbageCollectionInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>MVCC versions older than this are garbage-collected.</summary>
    public TimeSpan MvccRetention { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Client sessions idle this long are forgotten.</summary>
    public TimeSpan SessionTtl { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Seed of the randomized election timeouts (mixed with node and group ids).</summary>
    public ulong RandomSeed { get; init; } = 0x5EED;

    /// <summary>The founding members: <see cref="InitialCluster"/>, or this node alone when it is empty.</summary>
    public IReadOnlyList<NodeRecord> Members => InitialCluster.Count > 0 ? InitialCluster : [new NodeRecord { Id = NodeId }];

    internal void Validate()
    {
        if (NodeId == 0)
        {
            throw new ArgumentException("the node id must not be 0");
        }

        if (InitialCluster.Count > 0 && InitialCluster.All(n => n.Id != NodeId))
        {
            throw new ArgumentException($"the initial cluster does not contain this node ({NodeId})");
        }

        if (InitialCluster.Select(n => n.Id).Distinct().Count() != InitialCluster.Count || InitialCluster.Any(n => n.Id == 0))
        {
            throw new ArgumentException("the initial cluster names a node twice, or node 0");
        }

        if (InitialShards < 1 || ReplicationFactor < 1 || ElectionTicks < 4 || LeaseDriftMarginTicks < 1
            || LeaseDriftMarginTicks >= ElectionTicks - 1 || TickInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("need InitialShards >= 1, ReplicationFactor >= 1, ElectionTicks >= 4, 1 <= LeaseDriftMarginTicks < ElectionTicks - 1, TickInterval > 0");
        }
    }
}
