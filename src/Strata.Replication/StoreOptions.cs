using Strata.Consensus;

namespace Strata.Replication;

/// <summary>Parameters of a <see cref="Store"/> and of the Raft replicas it creates.</summary>
public sealed record StoreOptions
{
    /// <summary>This node's id; never 0. Also the replica id of every replica the store hosts.</summary>
    public required ulong NodeId { get; init; }

    /// <summary>The other nodes of the cluster, watched for liveness (a store sends each a beat when it has nothing
    /// else to send, and suspects one it has not heard from in <see cref="PeerTimeoutTicks"/>).</summary>
    public IReadOnlyList<ulong> Peers { get; init; } = [];

    /// <summary>Election timeout of every replica, in ticks.</summary>
    public int ElectionTick { get; init; } = 10;

    /// <summary>Heartbeat interval of every leader, in ticks.</summary>
    public int HeartbeatTick { get; init; } = 1;

    /// <summary>Seed of the replicas' randomized election timeouts (mixed with the group and node ids).</summary>
    public ulong RandomSeed { get; init; }

    /// <summary>How ReadIndex requests are confirmed.</summary>
    public ReadOnlyOption ReadOnlyOption { get; init; } = ReadOnlyOption.Safe;

    /// <summary>Maximum bytes of entries in one append message.</summary>
    public ulong MaxSizePerMessage { get; init; } = 1 << 20;

    /// <summary>
    /// Bytes of one transport frame to one node. A step's messages to a node that encode to more travel in as many
    /// frames as it takes (halved until each fits); one message larger than this travels alone. Keep it
    /// well below the transport's frame limit (64 MiB): a catch-up burst to a lagging follower (up to 256 messages of
    /// <see cref="MaxSizePerMessage"/> per group) coalesced into one frame exceeded that limit and was dropped, again
    /// and again, so the follower never caught up.
    /// </summary>
    public int MaxFrameBytes { get; init; } = 8 << 20;

    /// <summary>A group that woke up stays awake (ticked) at least this many ticks before it may quiesce again, so its
    /// leader heartbeats long enough for every follower to learn the leader and the commit index.</summary>
    public int MinAwakeTicks { get; init; } = 3;

    /// <summary>A store sends an empty frame (a liveness beat) to a peer it sent nothing to for this many ticks.</summary>
    public int LivenessIntervalTicks { get; init; } = 2;

    /// <summary>A peer not heard from for this many ticks is suspected down: followers whose leader is there wake up
    /// (and may campaign), and no group with a replica there quiesces.</summary>
    public int PeerTimeoutTicks { get; init; } = 10;

    /// <summary>Compact a group's log once this many applied entries follow its snapshot (0 = never compact).</summary>
    public ulong CompactionThreshold { get; init; } = 1024;

    /// <summary>Clock for the metrics (write durations); the simulator passes its own.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Recent entries each group keeps in memory.</summary>
    public int MaxCachedEntriesPerGroup { get; init; } = DurableRaftLog.DefaultMaxCachedEntries;

    internal void Validate()
    {
        if (NodeId == 0)
        {
            throw new ArgumentException("NodeId must not be 0");
        }

        if (Peers.Contains(NodeId) || Peers.Contains(0UL))
        {
            throw new ArgumentException("Peers must not contain this node or 0");
        }

        if (MinAwakeTicks < 1 || LivenessIntervalTicks < 1 || PeerTimeoutTicks <= LivenessIntervalTicks)
        {
            throw new ArgumentException("need MinAwakeTicks >= 1 and 1 <= LivenessIntervalTicks < PeerTimeoutTicks");
        }
    }
}
