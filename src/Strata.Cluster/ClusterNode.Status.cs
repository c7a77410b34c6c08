using Strata.Consensus;
using Strata.Replication;

namespace Strata.Cluster;

/// <summary>One hosted replica as the node sees it.</summary>
/// <param name="ShardId">The shard (0 = meta).</param>
/// <param name="Role">Leader, follower, candidate...</param>
/// <param name="Leader">The leader's node id (0 = unknown).</param>
/// <param name="Term">Current term.</param>
/// <param name="Committed">Commit index.</param>
/// <param name="Applied">Applied index.</param>
/// <param name="Voters">The voters of the current configuration.</param>
/// <param name="HoldsLease">Whether this replica leads with a valid lease now.</param>
/// <param name="Quiesced">Whether the group is quiesced (idle, not ticked).</param>
/// <param name="FollowerMatch">On the leader: each follower's match index (replication lag = Committed - match).</param>
public sealed record ReplicaStatus(ulong ShardId, string Role, ulong Leader, ulong Term, ulong Committed, ulong Applied,
    IReadOnlyList<ulong> Voters, bool HoldsLease, bool Quiesced, IReadOnlyDictionary<ulong, ulong> FollowerMatch)
{
    /// <summary>Index of the replica's latest log snapshot: entries up to it are compacted away, so a follower behind
    /// it can only catch up by receiving a snapshot.</summary>
    public ulong SnapshotIndex { get; init; }
}

/// <summary>The node as it sees itself: its replicas and which peers it suspects down.</summary>
public sealed record NodeStatus(ulong NodeId, IReadOnlyList<ReplicaStatus> Replicas, IReadOnlyList<ulong> SuspectedPeers,
    long LeaseReads, long ReadIndexReads, long Ticks);

public sealed partial class ClusterNode
{
    /// <summary>A consistent picture of this node's replicas, taken on the loop.</summary>
    public async Task<NodeStatus> StatusAsync(CancellationToken cancellationToken = default)
    {
        var work = new StatusWork();
        Post(work);
        return await work.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Asks this node's replica of <paramref name="shardId"/> to hand leadership to <paramref name="target"/>
    /// (which must be an up-to-date voter). Completes when the request is handed to Raft; watch
    /// <see cref="LeaderOf"/> for the outcome.
    /// </summary>
    public Task TransferLeadershipAsync(ulong shardId, ulong target, CancellationToken cancellationToken = default)
    {
        var work = new ActionWork(node => _ = node._store.Find(shardId) is null
            ? throw new NotLeaderException(shardId, node.Map.FindShard(shardId)?.Replicas.FirstOrDefault() ?? 0,
                $"node {node.NodeId} hosts no replica of shard {shardId}")
            : node._store.TransferLeader(shardId, target));
        Post(work);
        return work.Completion.Task.WaitAsync(cancellationToken);
    }

    private NodeStatus BuildStatus()
    {
        var replicas = new List<ReplicaStatus>();
        foreach (Replica replica in _store.Replicas.OrderBy(r => r.GroupId))
        {
            var match = new Dictionary<ulong, ulong>();
            if (replica.Role == StateRole.Leader)
            {
                foreach (ulong voter in replica.ConfState.Voters.Concat(replica.ConfState.Learners))
                {
                    if (voter != NodeId && replica.MatchOf(voter) is { } m)
                    {
                        match[voter] = m;
                    }
                }
            }

            replicas.Add(new ReplicaStatus(replica.GroupId, replica.Role.ToString(), replica.Leader, replica.Term,
                replica.Committed, replica.Applied, replica.ConfState.Voters, _handles[replica.GroupId].Lease is not null,
                replica.IsQuiesced, match)
            {
                SnapshotIndex = replica.Log.SnapshotMetadata.Index,
            });
        }

        return new NodeStatus(NodeId, replicas, [.. SuspectedPeers], LeaseReads, ReadIndexReads, (long)_store.Ticks);
    }

    private sealed class StatusWork : LoopWork
    {
        public TaskCompletionSource<NodeStatus> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Run(ClusterNode node) => Completion.TrySetResult(node.BuildStatus());

        public override void Fail(Exception reason) => Completion.TrySetException(reason);
    }

    private sealed class ActionWork(Action<ClusterNode> action) : LoopWork
    {
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Run(ClusterNode node)
        {
            action(node);
            Completion.TrySetResult();
        }

        public override void Fail(Exception reason) => Completion.TrySetException(reason);
    }
}
