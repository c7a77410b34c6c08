using Strata.Consensus;

namespace Strata.Simulation.Tests;

/// <summary>Knobs of one simulated run, all drawn from its seed.</summary>
internal sealed record SimulationOptions
{
    public int Nodes { get; init; } = 5;

    public int Groups { get; init; } = 2;

    public int ClientsPerGroup { get; init; } = 3;

    public int Keys { get; init; } = 2;

    /// <summary>Simulated time units per nominal tick.</summary>
    public long TickUnits { get; init; } = 1000;

    public int FaultTicks { get; init; } = 500;

    public int QuietTicks { get; init; } = 250;

    public int ElectionTick { get; init; } = 10;

    public int HeartbeatTick { get; init; } = 2;

    public int LeaseMarginTicks { get; init; } = 3;

    /// <summary>Largest relative deviation of a node's tick rate from nominal (the lease margin must cover it).</summary>
    public double MaxDrift { get; init; } = 0.1;

    public double DropRate { get; init; }

    public double DuplicateRate { get; init; }

    public long MinLatency { get; init; } = 100;

    public long MaxLatency { get; init; } = 1500;

    /// <summary>Chance that a message is delayed far beyond the usual latency (reordering).</summary>
    public double LongDelayRate { get; init; }

    public bool LeaseReads { get; init; }

    public bool ProposalForwarding { get; init; }

    public int MaxInflight { get; init; } = 8;

    public ulong MaxSizePerMessage { get; init; } = 1 << 20;

    /// <summary>Fault injection in the host, to prove the checks catch it: serve reads from local state, unchecked.</summary>
    public bool UnsafeLocalReads { get; init; }

    /// <summary>Fault injection in the host: after a pause, forget the ticks that elapsed (a stopped clock).</summary>
    public bool PauseStopsClock { get; init; }

    /// <summary>Compact a replica's log once this many applied entries follow its snapshot.</summary>
    public int CompactEvery { get; init; } = 40;

    public static SimulationOptions FromSeed(SimRandom rng) => new()
    {
        Nodes = rng.Pick(3, 5, 5),
        Groups = rng.Pick(1, 2, 2),
        ClientsPerGroup = rng.Pick(2, 3, 4),
        DropRate = rng.Pick(0.0, 0.02, 0.05, 0.15),
        DuplicateRate = rng.Pick(0.0, 0.02, 0.1),
        LongDelayRate = rng.Pick(0.0, 0.02, 0.1),
        MaxLatency = rng.Pick(500L, 1500L, 4000L),
        LeaseReads = rng.Chance(0.6),
        ProposalForwarding = rng.Chance(0.5),
        MaxInflight = rng.Pick(2, 8, 64),
        MaxSizePerMessage = rng.Pick(256UL, 4096UL, 1UL << 20),
        CompactEvery = rng.Pick(10, 40, 1000),
    };
}

/// <summary>Seeded randomness of the simulator (SplitMix64 from the core: identical on every platform).</summary>
internal sealed class SimRandom(ulong seed)
{
    private readonly DeterministicRandom _random = new(seed);

    public int Next(int maxExclusive) => _random.Next(maxExclusive);

    public long Range(long min, long maxInclusive) => min + (long)(_random.NextUInt64() % (ulong)(maxInclusive - min + 1));

    public double NextDouble() => (_random.NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public bool Chance(double p) => NextDouble() < p;

    public T Pick<T>(params T[] items) => items[Next(items.Length)];

    public T PickFrom<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    public ulong NextUInt64() => _random.NextUInt64();
}

/// <summary>A client's request to a node, and the node's answer.</summary>
internal sealed record ClientRequest(int Client, int Attempt, RegisterCommand Command, ulong Group);

internal enum ReplyKind : byte
{
    Ok,
    NotLeader,
}

internal sealed record ClientReply(int Client, int Attempt, long Sequence, ReplyKind Kind, ulong LeaderHint, bool Succeeded, long? Value);

/// <summary>One node: its durable disks (one log per group) survive crashes; everything else is memory.</summary>
internal sealed class SimNode(ulong id, double rate, long tickInterval)
{
    public ulong Id { get; } = id;

    public double Rate { get; } = rate;

    public long TickInterval { get; } = tickInterval;

    public bool Up { get; set; } = true;

    public long PausedUntil { get; set; } = -1;

    public int MissedTicks { get; set; }

    public int Incarnation { get; set; }

    public SortedDictionary<ulong, Replica> Replicas { get; } = [];

    public SortedDictionary<ulong, MemoryRaftLog> Disks { get; } = [];

    /// <summary>Set by a pause, cleared by the resume event once the missed ticks are delivered.</summary>
    public bool Paused { get; set; }

    public bool IsPaused(long now) => Paused || now < PausedUntil;
}

/// <summary>A node's replica of one group: the Raft core plus the host's state around it.</summary>
internal sealed class Replica(SimNode node, ulong group, RaftNode raft, MemoryRaftLog disk, RegisterMachine state)
{
    public SimNode Node { get; } = node;

    public ulong Group { get; } = group;

    public RaftNode Raft { get; } = raft;

    public MemoryRaftLog Disk { get; } = disk;

    public RegisterMachine State { get; set; } = state;

    public bool ReadyScheduled { get; set; }

    /// <summary>The Ready being written (fsync in progress); lost or torn by a crash.</summary>
    public Ready? Writing { get; set; }

    /// <summary>Writes proposed through this replica, awaiting apply, with the term they were proposed in.</summary>
    public Dictionary<(int Client, long Sequence), (ClientRequest Request, ulong Term)> PendingWrites { get; } = [];

    public SortedDictionary<long, (ClientRequest Request, ulong? Index)> PendingReads { get; } = [];

    public long NextReadId { get; set; }

    public ulong LastApplied { get; set; }
}

/// <summary>A client operation in progress.</summary>
internal sealed class ClientOp(RegisterCommand command, long call, long deadline)
{
    public RegisterCommand Command { get; } = command;

    public long Call { get; } = call;

    public long Deadline { get; } = deadline;

    public int Attempt { get; set; }

    public bool Done { get; set; }
}

internal sealed class SimClient(int id, ulong group)
{
    public int Id { get; } = id;

    public ulong Group { get; } = group;

    public long Sequence { get; set; }

    public long Counter { get; set; }

    public ulong Target { get; set; }

    public ClientOp? Op { get; set; }

    public Dictionary<int, long> LastSeen { get; } = [];
}
