namespace Strata.Consensus;

/// <summary>How linearizable reads are confirmed.</summary>
public enum ReadOnlyOption : byte
{
    /// <summary>Every ReadIndex is confirmed by a heartbeat round acknowledged by a quorum.</summary>
    Safe,

    /// <summary>
    /// The leader answers ReadIndex from its lease when <see cref="RaftNode.HasValidLease"/> holds and falls back to a
    /// heartbeat round otherwise. Requires <see cref="RaftConfig.CheckQuorum"/>.
    /// </summary>
    LeaseBased,
}

/// <summary>Parameters of one replica. Validated by the <see cref="RaftNode"/> constructor.</summary>
public sealed record RaftConfig
{
    /// <summary>This replica's id; never 0.</summary>
    public required ulong Id { get; init; }

    /// <summary>Group id stamped on outgoing messages.</summary>
    public ulong GroupId { get; init; }

    /// <summary>The log the core reads (the host writes it from each Ready).</summary>
    public required IRaftLogStorage Storage { get; init; }

    /// <summary>Index of the last entry applied to the host's state machine (0 on first start). Entries after it are
    /// delivered again as committed entries; membership must match <see cref="IRaftLogStorage.InitialState"/>.</summary>
    public ulong Applied { get; init; }

    /// <summary>Ticks without hearing from a leader before a follower campaigns (randomized in [T, 2T)).</summary>
    public int ElectionTick { get; init; } = 10;

    /// <summary>Ticks between leader heartbeats; must be smaller than <see cref="ElectionTick"/>.</summary>
    public int HeartbeatTick { get; init; } = 1;

    /// <summary>Seed of the randomized election timeout; give each replica a different one.</summary>
    public ulong RandomSeed { get; init; }

    /// <summary>Run a pre-vote before a real election so a partitioned node rejoining cannot disrupt the leader.</summary>
    public bool PreVote { get; init; } = true;

    /// <summary>A leader steps down when it has not heard from a quorum within an election timeout; followers refuse
    /// votes while they hear from a leader (the basis of leases).</summary>
    public bool CheckQuorum { get; init; } = true;

    /// <summary>How ReadIndex requests are confirmed.</summary>
    public ReadOnlyOption ReadOnlyOption { get; init; } = ReadOnlyOption.Safe;

    /// <summary>
    /// Ticks subtracted from the election timeout to form the lease duration, covering clock-rate drift between
    /// replicas: a lease lasts <c>ElectionTick - LeaseDriftMarginTicks</c> leader ticks from the send of the heartbeat a
    /// quorum acknowledged, while followers refuse to vote for <c>ElectionTick - 1</c> of their own ticks.
    /// Must be at least 1 and less than <see cref="ElectionTick"/>.
    /// </summary>
    public int LeaseDriftMarginTicks { get; init; } = 2;

    /// <summary>Maximum bytes of entries in one append message (at least one entry is always sent).</summary>
    public ulong MaxSizePerMessage { get; init; } = 1 << 20;

    /// <summary>Maximum bytes of committed entries handed out in one Ready.</summary>
    public ulong MaxCommittedSizePerReady { get; init; } = 16 << 20;

    /// <summary>Maximum append messages in flight to one follower in the replicate state.</summary>
    public int MaxInflightMessages { get; init; } = 256;

    /// <summary>Maximum bytes of entries in flight to one follower (0 = unlimited).</summary>
    public ulong MaxInflightBytes { get; init; }

    /// <summary>Maximum bytes of proposed but uncommitted entries at the leader; proposals beyond are dropped (0 = unlimited).</summary>
    public ulong MaxUncommittedEntriesSize { get; init; }

    /// <summary>Followers drop proposals instead of forwarding them to the leader (the caller retries at the leader).</summary>
    public bool DisableProposalForwarding { get; init; }
}
