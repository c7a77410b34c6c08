namespace Strata.Consensus;

/// <summary>Kinds of messages replicas exchange (and a few a host sends to the leader on a follower's behalf).</summary>
public enum MessageType : byte
{
    /// <summary>A proposal forwarded by a follower to the leader (term 0: not tied to a term).</summary>
    Propose = 1,

    /// <summary>Log entries (possibly none) after (<see cref="Message.Index"/>, <see cref="Message.LogTerm"/>).</summary>
    Append,

    /// <summary>Reply to <see cref="Append"/>: accepted up to <see cref="Message.Index"/>, or rejected with a hint.</summary>
    AppendResponse,

    /// <summary>Request for a vote in <see cref="Message.Term"/>.</summary>
    Vote,

    /// <summary>Reply to <see cref="Vote"/>.</summary>
    VoteResponse,

    /// <summary>Would you vote for me in <see cref="Message.Term"/>? Changes no one's term.</summary>
    PreVote,

    /// <summary>Reply to <see cref="PreVote"/>.</summary>
    PreVoteResponse,

    /// <summary>A snapshot for a follower whose next entries the leader no longer has.</summary>
    Snapshot,

    /// <summary>Leader liveness, commit propagation, ReadIndex confirmation and lease renewal.</summary>
    Heartbeat,

    /// <summary>Reply to <see cref="Heartbeat"/>, echoing its context and lease tick.</summary>
    HeartbeatResponse,

    /// <summary>A leadership transfer forwarded to the leader.</summary>
    TransferLeader,

    /// <summary>The leader tells the transferee to campaign now, bypassing pre-vote and leases.</summary>
    TimeoutNow,

    /// <summary>A ReadIndex request forwarded by a follower to the leader (term 0).</summary>
    ReadIndex,

    /// <summary>The leader's answer to a forwarded ReadIndex.</summary>
    ReadIndexResponse,
}

/// <summary>
/// A message between two replicas of one group. Addressed by (<see cref="GroupId"/>, <see cref="From"/>,
/// <see cref="To"/>) so a multi-group host can route and batch them per destination node.
/// </summary>
/// <remarks>Messages are immutable once created; the core never keeps a reference it later mutates.</remarks>
public sealed record Message
{
    /// <summary>The Raft group this message belongs to (set by the node from <see cref="RaftConfig.GroupId"/>).</summary>
    public ulong GroupId { get; init; }

    /// <summary>Message kind.</summary>
    public MessageType Type { get; init; }

    /// <summary>Sender replica id.</summary>
    public ulong From { get; init; }

    /// <summary>Destination replica id.</summary>
    public ulong To { get; init; }

    /// <summary>Sender's term (or the prospective term for <see cref="MessageType.PreVote"/>); 0 for forwarded requests.</summary>
    public ulong Term { get; init; }

    /// <summary>Term of the entry at <see cref="Index"/> (Append, Vote), or the conflict term hint (AppendResponse).</summary>
    public ulong LogTerm { get; init; }

    /// <summary>Previous log index (Append), last index (Vote), matched index (AppendResponse), read index (ReadIndexResponse).</summary>
    public ulong Index { get; init; }

    /// <summary>Entries to append (Append) or propose (Propose).</summary>
    public IReadOnlyList<Entry> Entries { get; init; } = [];

    /// <summary>Leader's commit index (Append, Heartbeat).</summary>
    public ulong Commit { get; init; }

    /// <summary>True when the request was refused.</summary>
    public bool Reject { get; init; }

    /// <summary>On a rejected append: the follower's guess of the last index that may match.</summary>
    public ulong RejectHint { get; init; }

    /// <summary>Snapshot carried by <see cref="MessageType.Snapshot"/>.</summary>
    public Snapshot? Snapshot { get; init; }

    /// <summary>Opaque context: ReadIndex request id, or <see cref="RaftNode.TransferContext"/> on a forced vote.</summary>
    public ReadOnlyMemory<byte> Context { get; init; }

    /// <summary>Leader's local tick at send time (Heartbeat), echoed back in HeartbeatResponse to establish the lease.</summary>
    public ulong LeaseTick { get; init; }

    /// <inheritdoc/>
    public override string ToString() =>
        $"g{GroupId} {From}->{To} {Type} t{Term} lt{LogTerm} i{Index} c{Commit}"
        + (Entries.Count > 0 ? $" ents[{Entries[0].Index}..{Entries[^1].Index}]" : "")
        + (Reject ? $" reject(hint {RejectHint})" : "") + (Snapshot is null ? "" : $" snap@{Snapshot.Index}");
}
