using Strata.Cluster.Meta;
using Strata.Consensus;
using Strata.Replication;

namespace Strata.Cluster;

// Membership: joins, decommissions and replica moves. Everything is driven from the meta shard's map by the loop:
// - every node hosts the replicas the map gives it (creating empty ones that the shard's leader fills by snapshot and
//   log) and removes the ones the map took away, and keeps its transport's peers in line with the map's nodes;
// - the meta shard's leader plans: every live node becomes a learner of the meta shard (so every node has the map),
//   the meta shard keeps up to five voters on active nodes, shards keep their replication factor, replicas leave
//   decommissioning nodes and spread evenly, one move at a time;
// - each shard's leader drives the moves of its shard: add the new replica as a learner, wait until it has caught up,
//   then swap it in for the old one by joint consensus (never removing itself: it hands leadership over first), and
//   finally records the shard's new replicas in the meta shard.
// Every step is a Raft command (of the meta shard or of the shard), so a step is atomic and a leader change only
// delays the move: the next leader sees the same map and configuration and carries on from there.
public sealed partial class ClusterNode
{
    /// <summary>A learner counts as caught up when it is at most this many entries behind the leader's commit.</summary>
    private const ulong CatchUpSlack = 64;

    private readonly Dictionary<ulong, long> _nextMoveStepAt = [];
    private readonly Dictionary<ulong, string> _peerAddresses = [];
    private ShardMap? _reconciledMap;
    private long _nextReconcileAt;
    private long _nextPlanAt;

    /// <summary>
    /// Adds <paramref name="node"/> to the cluster (a join): the meta shard records it (assigning the next free id when
    /// its id is 0) and returns the record. The meta shard's leader then makes it a learner of the meta shard, so it
    /// receives the map, and moves replicas to it. Idempotent for a retried join from the same raft address.
    /// </summary>
    /// <exception cref="ArgumentException">The meta shard refused the node (the message says why).</exception>
    public async Task<NodeRecord> AddNodeAsync(NodeRecord node, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        MetaResult result = await ProposeMetaAsync(new MetaCommand { AddNode = new AddNode { Node = node } }, cancellationToken)
            .ConfigureAwait(false);
        return result.Ok ? result.Node : throw new ArgumentException(result.Message);
    }

    /// <summary>
    /// Starts draining <paramref name="nodeId"/>: the planner moves its replicas to other nodes, then marks it
    /// decommissioned (watch <see cref="Map"/>). Idempotent.
    /// </summary>
    /// <exception cref="ArgumentException">The meta shard refused (unknown node, or the last active one).</exception>
    public async Task<NodeRecord> DecommissionAsync(ulong nodeId, CancellationToken cancellationToken = default)
    {
        MetaResult result = await ProposeMetaAsync(
            new MetaCommand { DecommissionNode = new DecommissionNode { NodeId = nodeId } }, cancellationToken).ConfigureAwait(false);
        return result.Ok ? result.Node : throw new ArgumentException(result.Message);
    }

    /// <summary>Replicas this node removed because the map moved them elsewhere.</summary>
    public long RemovedReplicas => Interlocked.Read(ref _removedReplicas);

    private long _removedReplicas;

    /// <summary>Brings this node in line with the meta shard's map (see the file's comment). Loop thread only.</summary>
    private void Reconcile(long now)
    {
        if (now < _nextReconcileAt)
        {
            return;
        }

        _nextReconcileAt = now + StopwatchTicks(Options.TickInterval);
        ShardMap map = Map;
        if (!map.IsBootstrapped)
        {
            return;
        }

        if (!ReferenceEquals(map, _reconciledMap))
        {
            SyncPeers(map);
            HostAssignedReplicas(map);
            RemoveReplicasMovedAway(map);
            _reconciledMap = map;
        }

        if (map.Moves.Count > 0)
        {
            DriveMoves(map, now);
        }
        else if (Options.BalanceLeadership)
        {
            BalanceLeadership(map, now);
        }

        if (now >= _nextPlanAt && _store.Find(MetaShard.Id) is { Role: StateRole.Leader } meta && meta.Applied == meta.Committed)
        {
            _nextPlanAt = now + (StopwatchTicks(Options.TickInterval) * 4);
            PlanMembership(map, meta);
        }
    }

    /// <summary>The transport dials the map's live nodes and forgets decommissioned ones; liveness follows the same set.</summary>
    private void SyncPeers(ShardMap map)
    {
        _peerIds = [.. map.LiveNodes.Select(n => n.Id).Where(id => id != NodeId)];
        if (_transport is not IPeerDirectory directory)
        {
            return;
        }

        foreach (NodeRecord node in map.Nodes)
        {
            if (node.Id == NodeId)
            {
                continue;
            }

            if (node.State == NodeState.Decommissioned)
            {
                if (_peerAddresses.Remove(node.Id))
                {
                    directory.RemovePeer(node.Id);
                }
            }
            else if (!string.IsNullOrEmpty(node.RaftAddress)
                && (!_peerAddresses.TryGetValue(node.Id, out string? known) || known != node.RaftAddress))
            {
                directory.SetPeer(node.Id, node.RaftAddress);
                _peerAddresses[node.Id] = node.RaftAddress;
            }
        }
    }

    /// <summary>Creates an empty replica of every shard the map gives this node and it does not host yet (the shard's
    /// leader fills it by snapshot and log once it is a learner).</summary>
    private void HostAssignedReplicas(ShardMap map)
    {
        if (map.FindNode(NodeId)?.State == NodeState.Decommissioned)
        {
            return;
        }

        foreach (RangeDescriptor shard in map.Shards)
        {
            bool assigned = shard.Replicas.Contains(NodeId) || map.MoveOf(shard.ShardId)?.ToNode == NodeId;
            if (assigned && _store.Find(shard.ShardId) is null)
            {
                _store.CreateGroup(shard.ShardId, members: null);
                _handles[shard.ShardId] = new ShardHandle(shard.ShardId, _shards.Namespace(shard.ShardId));
            }
        }
    }

    /// <summary>
    /// Removes the replicas the map no longer gives this node. Safe because the map changes a shard's replicas only
    /// after the shard's committed configuration has dropped this node (see <see cref="DriveMoves"/>).
    /// </summary>
    private void RemoveReplicasMovedAway(ShardMap map)
    {
        foreach (ulong shardId in _handles.Keys.Where(id => id != MetaShard.Id).ToList())
        {
            RangeDescriptor? shard = map.FindShard(shardId);
            if (shard is null || shard.Replicas.Contains(NodeId) || map.MoveOf(shardId)?.ToNode == NodeId)
            {
                continue;
            }

            ShardHandle handle = _handles[shardId];
            handle.MarkRemoved();
            FailPendingFor(shardId, shard.Replicas.FirstOrDefault(), $"node {NodeId} no longer hosts shard {shardId} (it moved to nodes {string.Join(",", shard.Replicas)})");
            _store.DestroyGroup(shardId);
            Interlocked.Increment(ref _removedReplicas);
            // Last: once HostedShards stops listing the shard, the removal is complete and counted.
            _handles.TryRemove(shardId, out _);
        }
    }

    /// <summary>Fails the calls waiting on a replica being removed: proposals already handed to Raft may still apply
    /// (outcome unknown); reads did nothing (not the leader here any more).</summary>
    private void FailPendingFor(ulong shardId, ulong hint, string message)
    {
        foreach (PendingProposal pending in _pendingProposals.Values.Where(p => p.ShardId == shardId).ToList())
        {
            _pendingProposals.Remove(pending.Id);
            pending.Fail(new OutcomeUnknownException(shardId, message + "; the proposal may still apply — retry with the same request id"));
        }

        var reason = new NotLeaderException(shardId, hint, message);

        foreach (PendingRead read in _pendingReads.Values.Where(r => r.ShardId == shardId).ToList())
        {
            _pendingReads.Remove(read.Id);
            read.Fail(reason);
        }

        for (int i = _readsAwaitingApply.Count - 1; i >= 0; i--)
        {
            if (_readsAwaitingApply[i].ShardId == shardId)
            {
                _readsAwaitingApply[i].Fail(reason);
                _readsAwaitingApply.RemoveAt(i);
            }
        }
    }

    /// <summary>Takes the next step of every move whose shard this node leads (one Raft command per shard at most).</summary>
    private void DriveMoves(ShardMap map, long now)
    {
        foreach (ReplicaMove move in map.Moves)
        {
            Replica? replica = _store.Find(move.ShardId);
            if (replica is null || replica.Role != StateRole.Leader || replica.HasPendingConfChange
                || (_nextMoveStepAt.TryGetValue(move.ShardId, out long notBefore) && now < notBefore))
            {
                continue;
            }

            if (StepMove(move, replica))
            {
                // Give the command time to commit and apply before looking again (a repeat would only be refused).
                _nextMoveStepAt[move.ShardId] = now + (StopwatchTicks(Options.TickInterval) * 4);
            }
        }
    }

    /// <summary>One step of <paramref name="move"/> on the shard's leader; false when there was nothing to do yet.</summary>
    private bool StepMove(ReplicaMove move, Replica replica)
    {
        ConfState conf = replica.ConfState;
        if (conf.IsJoint)
        {
            return false; // the joint configuration is left automatically once applied
        }

        ulong to = move.ToNode;
        ulong from = move.FromNode;
        if (to != 0 && !conf.Voters.Contains(to))
        {
            if (!conf.Learners.Contains(to))
            {
                return Propose(replica, ConfChange.AddLearner(to));
            }

            if ((replica.MatchOf(to) ?? 0) + CatchUpSlack < replica.Committed)
            {
                return false; // still catching up (snapshot and log)
            }

            if (from != 0 && conf.Voters.Contains(from))
            {
                return from == NodeId
                    ? HandOverLeadership(replica, conf, avoid: from)
                    : Propose(replica, new ConfChange(ConfChangeTransition.JointImplicit,
                        [new(ConfChangeType.AddVoter, to), new(ConfChangeType.Remove, from)]));
            }

            return Propose(replica, ConfChange.AddVoter(to));
        }

        if (from != 0 && conf.Contains(from))
        {
            return from == NodeId ? HandOverLeadership(replica, conf, avoid: from) : Propose(replica, ConfChange.Remove(from));
        }

        // The configuration has the move done: record it.
        var finish = new FinishMove { ShardId = move.ShardId, Generation = move.Generation };
        finish.Replicas.Add(conf.Voters.Order());
        ProposeMeta(new MetaCommand { FinishMove = finish });
        return true;
    }

    private bool Propose(Replica replica, ConfChange change)
    {
        ProposalOutcome outcome = _store.ProposeConfChange(replica.GroupId, change);
        return outcome is ProposalOutcome.Appended or ProposalOutcome.Forwarded;
    }

    /// <summary>Hands leadership of <paramref name="replica"/>'s group to the most caught-up other voter.</summary>
    private bool HandOverLeadership(Replica replica, ConfState conf, ulong avoid)
    {
        ulong target = conf.Voters.Where(v => v != avoid && v != NodeId)
            .OrderByDescending(v => replica.MatchOf(v) ?? 0).ThenBy(v => v).FirstOrDefault();
        if (target == 0)
        {
            return false;
        }

        _store.TransferLeader(replica.GroupId, target);
        return true;
    }

    /// <summary>A meta command nobody waits for (the loop's own; its effect shows in the map).</summary>
    private void ProposeMeta(MetaCommand command) =>
        _store.Propose(MetaShard.Id, ProposalEnvelope.Encode(ProposalKind.Meta, 0, 0, command));

    /// <summary>The meta shard leader's planning round: at most one membership change of the meta shard and one
    /// new move or decommission step per round.</summary>
    private void PlanMembership(ShardMap map, Replica meta)
    {
        if (!meta.HasPendingConfChange && !meta.ConfState.IsJoint)
        {
            PlanMetaMembers(map, meta);
        }

        FinishDrainedNodes(map, meta.ConfState);
        if (map.Moves.Count == 0 && PlanMove(map) is { } move)
        {
            ProposeMeta(new MetaCommand { StartMove = new StartMove { Move = move } });
        }
    }

    /// <summary>
    /// Every live node is a member of the meta shard (a learner at least, so it has the map); decommissioned ones are
    /// removed; voters are active nodes, as many as the active nodes allow up to five (an odd number).
    /// </summary>
    private void PlanMetaMembers(ShardMap map, Replica meta)
    {
        ConfState conf = meta.ConfState;
        foreach (NodeRecord node in map.LiveNodes)
        {
            if (!conf.Contains(node.Id))
            {
                Propose(meta, ConfChange.AddLearner(node.Id));
                return;
            }
        }

        foreach (ulong member in conf.Voters.Concat(conf.Learners))
        {
            // A decommissioned node leaves once it has the map that says so (or is down): its own view then ends with
            // its decommissioning, not before.
            NodeRecord? node = map.FindNode(member);
            if (member != NodeId && node is not null && node.State == NodeState.Decommissioned
                && ((meta.MatchOf(member) ?? 0) >= meta.Committed || _store.IsSuspected(member)))
            {
                Propose(meta, ConfChange.Remove(member));
                return;
            }
        }

        var active = map.ActiveNodes.Select(n => n.Id).ToHashSet();
        int target = Math.Min(5, active.Count);
        target = Math.Max(1, target % 2 == 0 ? target - 1 : target);
        int activeVoters = conf.Voters.Count(active.Contains);
        List<ulong> activeLearners = [.. conf.Learners.Where(active.Contains).Order()];
        if (activeVoters < target)
        {
            // Promote the first caught-up learner; a draining voter stays until its replacement votes.
            ulong ready = activeLearners.FirstOrDefault(l => (meta.MatchOf(l) ?? 0) + CatchUpSlack >= meta.Committed);
            if (ready != 0)
            {
                Propose(meta, ConfChange.AddVoter(ready));
                return;
            }

            if (activeLearners.Count > 0)
            {
                return; // wait for one to catch up
            }
        }

        ulong drained = conf.Voters.FirstOrDefault(v => !active.Contains(v));
        if (drained != 0 && conf.Voters.Count > 1)
        {
            if (drained == NodeId)
            {
                HandOverLeadership(meta, conf, avoid: NodeId);
            }
            else
            {
                Propose(meta, ConfChange.AddLearner(drained)); // demoted: it keeps the map until it is decommissioned
            }
        }
    }

    /// <summary>Marks decommissioning nodes that hold nothing any more (no replica, no move, no meta vote) decommissioned.</summary>
    private void FinishDrainedNodes(ShardMap map, ConfState metaConf)
    {
        foreach (NodeRecord node in map.Nodes.Where(n => n.State == NodeState.Decommissioning))
        {
            bool holdsNothing = map.Shards.All(s => !s.Replicas.Contains(node.Id))
                && map.Moves.All(m => m.FromNode != node.Id && m.ToNode != node.Id)
                && !metaConf.Voters.Contains(node.Id) && !metaConf.VotersOutgoing.Contains(node.Id);
            if (holdsNothing)
            {
                ProposeMeta(new MetaCommand { FinishDecommission = new FinishDecommission { NodeId = node.Id } });
            }
        }
    }

    /// <summary>
    /// The next move, most urgent first: a replica on a decommissioning node; a shard below its replication factor;
    /// then evening out the replica counts of active nodes (moving one from the fullest to the emptiest when they
    /// differ by two or more). Null when the layout is as it should be.
    /// </summary>
    internal static ReplicaMove? PlanMove(ShardMap map)
    {
        List<ulong> active = [.. map.ActiveNodes.Select(n => n.Id)];
        if (active.Count == 0)
        {
            return null;
        }

        var load = active.ToDictionary(id => id, id => map.Shards.Count(s => s.Replicas.Contains(id)));
        ulong LeastLoadedWithout(RangeDescriptor shard) => active.Where(id => !shard.Replicas.Contains(id))
            .OrderBy(id => load[id]).ThenBy(id => id).FirstOrDefault();
        int wanted = Math.Min(map.ReplicationFactor, active.Count);

        foreach (RangeDescriptor shard in map.Shards)
        {
            ulong draining = shard.Replicas.FirstOrDefault(r => !active.Contains(r));
            if (draining == 0)
            {
                continue;
            }

            ulong to = shard.Replicas.Count(active.Contains) < wanted ? LeastLoadedWithout(shard) : 0;
            if (to != 0 || shard.Replicas.Count > 1)
            {
                return Move(shard, draining, to, $"node {draining} is being decommissioned");
            }
        }

        foreach (RangeDescriptor shard in map.Shards)
        {
            if (shard.Replicas.Count < wanted && LeastLoadedWithout(shard) is var to and not 0)
            {
                return Move(shard, 0, to, $"shard {shard.ShardId} has {shard.Replicas.Count} of {wanted} replicas");
            }
        }

        ulong fullest = active.OrderByDescending(id => load[id]).ThenBy(id => id).First();
        ulong emptiest = active.OrderBy(id => load[id]).ThenBy(id => id).First();
        if (load[fullest] - load[emptiest] >= 2)
        {
            RangeDescriptor? candidate = map.Shards.FirstOrDefault(s => s.Replicas.Contains(fullest) && !s.Replicas.Contains(emptiest));
            if (candidate is not null)
            {
                return Move(candidate, fullest, emptiest, $"rebalancing: node {fullest} holds {load[fullest]} replicas, node {emptiest} {load[emptiest]}");
            }
        }

        return null;

        static ReplicaMove Move(RangeDescriptor shard, ulong from, ulong to, string reason) => new()
        {
            ShardId = shard.ShardId,
            FromNode = from,
            ToNode = to,
            Generation = shard.Generation,
            Reason = reason,
        };
    }
}
