namespace Strata.Consensus;

/// <summary>What an <see cref="Entry"/> carries.</summary>
public enum EntryType : byte
{
    /// <summary>An application command (or an empty entry a new leader appends to commit its term).</summary>
    Normal = 0,

    /// <summary>A membership change; <see cref="Entry.Data"/> is an encoded <see cref="ConfChange"/>.</summary>
    ConfChange = 1,
}

/// <summary>One slot of the replicated log.</summary>
/// <param name="Index">Position in the log, starting at 1.</param>
/// <param name="Term">Term of the leader that created the entry.</param>
/// <param name="Type">Normal command or membership change.</param>
/// <param name="Data">Opaque command bytes (empty for the leader's no-op entry). Never mutated once proposed.</param>
public readonly record struct Entry(ulong Index, ulong Term, EntryType Type, ReadOnlyMemory<byte> Data)
{
    /// <summary>Approximate size used for flow control (payload plus a fixed header).</summary>
    public int Size => Data.Length + 24;
}

/// <summary>
/// The part of a replica's state that must be durable before any message that depends on it leaves the node:
/// the current term, the vote cast in it, and the highest index known committed.
/// </summary>
public readonly record struct HardState(ulong Term, ulong Vote, ulong Commit)
{
    /// <summary>True for the initial, never-persisted state.</summary>
    public bool IsEmpty => Term == 0 && Vote == 0 && Commit == 0;
}

/// <summary>
/// The membership of a group as of some log index: voters (and, while in a joint configuration, the outgoing
/// voters), learners, and learners that become learners once the joint configuration is left.
/// </summary>
public sealed record ConfState
{
    /// <summary>Voters of the incoming (or only) configuration.</summary>
    public IReadOnlyList<ulong> Voters { get; init; } = [];

    /// <summary>Voters of the outgoing configuration; non-empty only while joint.</summary>
    public IReadOnlyList<ulong> VotersOutgoing { get; init; } = [];

    /// <summary>Non-voting replicas.</summary>
    public IReadOnlyList<ulong> Learners { get; init; } = [];

    /// <summary>Outgoing voters that turn into learners when the joint configuration is left.</summary>
    public IReadOnlyList<ulong> LearnersNext { get; init; } = [];

    /// <summary>Whether the leader leaves the joint configuration on its own once it is applied.</summary>
    public bool AutoLeave { get; init; }

    /// <summary>True while the configuration is joint.</summary>
    public bool IsJoint => VotersOutgoing.Count > 0;

    /// <summary>Whether <paramref name="id"/> is a member in any role.</summary>
    public bool Contains(ulong id) =>
        Voters.Contains(id) || VotersOutgoing.Contains(id) || Learners.Contains(id) || LearnersNext.Contains(id);

    /// <summary>Structural equality on the member sets (order-insensitive).</summary>
    public bool SameMembers(ConfState other) =>
        Same(Voters, other.Voters) && Same(VotersOutgoing, other.VotersOutgoing) && Same(Learners, other.Learners)
        && Same(LearnersNext, other.LearnersNext) && AutoLeave == other.AutoLeave;

    private static bool Same(IReadOnlyList<ulong> a, IReadOnlyList<ulong> b) =>
        a.Count == b.Count && a.Order().SequenceEqual(b.Order());

    /// <inheritdoc/>
    public override string ToString() =>
        $"voters=({string.Join(' ', Voters)})" + (IsJoint ? $"&&({string.Join(' ', VotersOutgoing)})" : "")
        + (Learners.Count > 0 ? $" learners=({string.Join(' ', Learners)})" : "")
        + (LearnersNext.Count > 0 ? $" learners_next=({string.Join(' ', LearnersNext)})" : "")
        + (AutoLeave ? " autoleave" : "");
}

/// <summary>Where a snapshot sits in the log and the membership as of that point.</summary>
public sealed record SnapshotMetadata(ulong Index, ulong Term, ConfState ConfState);

/// <summary>The state machine as of <see cref="SnapshotMetadata.Index"/>, replacing the log up to that index.</summary>
public sealed record Snapshot(SnapshotMetadata Metadata, ReadOnlyMemory<byte> Data)
{
    /// <summary>Log index covered by the snapshot.</summary>
    public ulong Index => Metadata.Index;

    /// <summary>Term of the entry at <see cref="Index"/>.</summary>
    public ulong Term => Metadata.Term;
}

/// <summary>
/// The answer to a <see cref="RaftNode.ReadIndex"/> request: once the local state machine has applied
/// <see cref="Index"/>, a read tagged with <see cref="Context"/> may be served from it linearizably.
/// </summary>
public sealed record ReadState(ulong Index, ReadOnlyMemory<byte> Context);

/// <summary>Role of a replica in its group.</summary>
public enum StateRole : byte
{
    /// <summary>Follows a leader (or waits for one).</summary>
    Follower,

    /// <summary>Checking, without disturbing anyone, whether it could win an election.</summary>
    PreCandidate,

    /// <summary>Campaigning in a new term.</summary>
    Candidate,

    /// <summary>Leads the group in the current term.</summary>
    Leader,
}

/// <summary>Volatile state worth telling the host about: who leads and in which role this replica is.</summary>
public readonly record struct SoftState(ulong Leader, StateRole Role);
