using Strata.Consensus;

namespace Strata.Replication;

/// <summary>
/// This node's replica of one group, as hosted by a <see cref="Store"/>: the Raft core, its durable log, and the
/// store's bookkeeping (awake or quiesced, ticks delivered). A read-only view for callers; the store drives it.
/// </summary>
public sealed class Replica
{
    internal Replica(ulong groupId, RaftNode raft, DurableRaftLog log)
    {
        GroupId = groupId;
        Raft = raft;
        Log = log;
    }

    /// <summary>The group.</summary>
    public ulong GroupId { get; }

    /// <summary>The durable log.</summary>
    public DurableRaftLog Log { get; }

    /// <summary>Current role.</summary>
    public StateRole Role => Raft.Role;

    /// <summary>Known leader (a replica id, which is its node id; 0 = unknown).</summary>
    public ulong Leader => Raft.Leader;

    /// <summary>Current term.</summary>
    public ulong Term => Raft.Term;

    /// <summary>Highest index known committed.</summary>
    public ulong Committed => Raft.Committed;

    /// <summary>Highest index applied to the state machine.</summary>
    public ulong Applied => Raft.Applied;

    /// <summary>Ticks left of this leader's lease (0: no lease; see <see cref="RaftNode.LeaseRemainingTicks"/>).</summary>
    public ulong LeaseRemainingTicks => Raft.LeaseRemainingTicks;

    /// <summary>Whether the replica is quiesced (not ticked, sends no heartbeats).</summary>
    public bool IsQuiesced => Raft.IsQuiesced;

    /// <summary>Ticks the store delivered to this replica since it was opened.</summary>
    public long TicksDelivered { get; internal set; }

    /// <summary>
    /// True when the replica was recovered from the log as the store opened (a restart), not created. Such a replica
    /// refuses votes until it has been ticked an election timeout (see <see cref="Store"/>'s lease guard).
    /// </summary>
    public bool RestartedFromLog { get; internal set; }

    /// <summary>On the leader: the highest index known replicated on <paramref name="replicaId"/> (null elsewhere).</summary>
    public ulong? MatchOf(ulong replicaId) => Raft.ProgressOf(replicaId)?.Match;

    /// <summary>Current membership.</summary>
    public ConfState ConfState => Raft.ConfState;

    /// <summary>On the leader: a membership change is proposed and not yet applied.</summary>
    public bool HasPendingConfChange => Raft.HasPendingConfChange;

    internal RaftNode Raft { get; }

    /// <summary>Position in the store's awake list, or -1 when quiesced.</summary>
    internal int AwakeSlot { get; set; } = -1;

    /// <summary>The store tick from which quiescence is counted (a wake-up, or a <see cref="Store.KeepAwake"/>).</summary>
    internal ulong WokenAtTick { get; set; }

    /// <summary>The store tick at which the replica last went from quiesced to awake: since then it has been ticked
    /// on every store tick, so its own tick count and the store's advance together (hosts that turn a lease measured
    /// in replica ticks into a wall-clock deadline rely on this).</summary>
    public ulong AwakeSinceTick { get; internal set; }

    /// <summary>After a restart: the state machine already holds the entries up to here (they are not applied again).</summary>
    internal ulong AppliedByStateMachine { get; set; }

    /// <summary>The Ready taken in the current step (between persisting and advancing).</summary>
    internal Ready? Pending { get; set; }

    /// <inheritdoc/>
    public override string ToString() => $"g{GroupId} {Role} t{Term} c{Committed} a{Applied}" + (IsQuiesced ? " quiesced" : "");
}
