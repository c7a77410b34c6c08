namespace Strata.Consensus;

/// <summary>
/// Everything a <see cref="RaftNode"/> needs the host to do, in order. Obtain with <see cref="RaftNode.Ready"/>,
/// handle, then call <see cref="RaftNode.Advance"/>.
/// </summary>
/// <remarks>
/// The host's duties, in this order:
/// <list type="number">
/// <item>Persist <see cref="Snapshot"/> (if any), then append <see cref="Entries"/>, then write <see cref="HardState"/>
/// (if any) — durably (fsync) when <see cref="MustSync"/>. A multi-group host may batch all groups in one write.</item>
/// <item>Send <see cref="Messages"/> (only after step 1 is durable: they promise what was persisted).</item>
/// <item>Install <see cref="Snapshot"/> into the state machine, then apply <see cref="CommittedEntries"/> in order.</item>
/// <item>Serve reads of <see cref="ReadStates"/> once the applied index reaches each one's index.</item>
/// <item>Call <see cref="RaftNode.Advance"/>. Until then no further Ready is produced (Step, Tick and Propose may
/// still be called; their effects appear in the next Ready).</item>
/// </list>
/// </remarks>
public sealed class Ready
{
    /// <summary>Leader or role changed (null when not).</summary>
    public SoftState? SoftState { get; init; }

    /// <summary>Hard state to persist (null when unchanged).</summary>
    public HardState? HardState { get; init; }

    /// <summary>Entries to append to the durable log (may overwrite a conflicting suffix).</summary>
    public IReadOnlyList<Entry> Entries { get; init; } = [];

    /// <summary>A snapshot from the leader to persist and install.</summary>
    public Snapshot? Snapshot { get; init; }

    /// <summary>Entries known committed, to apply in order (after persisting <see cref="Entries"/>).</summary>
    public IReadOnlyList<Entry> CommittedEntries { get; init; } = [];

    /// <summary>Messages to send once everything above is durable.</summary>
    public IReadOnlyList<Message> Messages { get; init; } = [];

    /// <summary>Answers to ReadIndex requests.</summary>
    public IReadOnlyList<ReadState> ReadStates { get; init; } = [];

    /// <summary>Whether the write of step 1 must be fsynced (term, vote or entries changed).</summary>
    public bool MustSync { get; init; }

    /// <inheritdoc/>
    public override string ToString() =>
        $"Ready(hs={HardState}, ents={Entries.Count}, committed={CommittedEntries.Count}, msgs={Messages.Count}, "
        + $"snap={Snapshot?.Index}, reads={ReadStates.Count})";
}

/// <summary>What happened to a proposal, ReadIndex or transfer request.</summary>
public enum ProposalOutcome : byte
{
    /// <summary>Accepted by the leader: a proposal was appended to its log (it may still fail to commit if leadership
    /// is lost); a ReadIndex request is being confirmed; a transfer has started.</summary>
    Appended,

    /// <summary>Sent to the known leader.</summary>
    Forwarded,

    /// <summary>Dropped: no leader is known (retry later, or at <see cref="RaftNode.Leader"/> when set).</summary>
    DroppedNoLeader,

    /// <summary>Dropped: this replica is not the leader and forwarding is disabled; the leader is <see cref="RaftNode.Leader"/>.</summary>
    DroppedNotLeader,

    /// <summary>Dropped: a leadership transfer is in progress.</summary>
    DroppedTransferring,

    /// <summary>Dropped: too many uncommitted bytes (flow control); retry later.</summary>
    DroppedUncommittedLimit,

    /// <summary>Dropped: a membership change is pending or the change is not valid from the current configuration.</summary>
    DroppedConfChange,

    /// <summary>Dropped: this replica is no longer a member.</summary>
    DroppedNotMember,
}

/// <summary>Result the host reports for a snapshot it was asked to send.</summary>
public enum SnapshotStatus : byte
{
    /// <summary>The follower received the snapshot.</summary>
    Finished,

    /// <summary>Sending failed; the leader will retry.</summary>
    Failed,
}
