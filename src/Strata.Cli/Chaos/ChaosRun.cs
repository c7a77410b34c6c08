using Strata.Linearizability.Models;

namespace Strata.Cli.Chaos;

/// <summary>Everything a chaos run produced, before it is judged: the input of <see cref="ChaosReport"/>.</summary>
internal sealed record ChaosRun
{
    /// <summary>The command line that produced the run (to rerun it).</summary>
    public required string Command { get; init; }

    public required ChaosOptions Options { get; init; }

    public required string Bucket { get; init; }

    public required DateTimeOffset StartedUtc { get; init; }

    /// <summary>Wall time of the whole run, cluster start to final reads.</summary>
    public required double Seconds { get; init; }

    /// <summary>Every operation, workload and final reads, by index.</summary>
    public required IReadOnlyList<ChaosOperation> History { get; init; }

    public required IReadOnlyList<PlannedFault> Plan { get; init; }

    /// <summary>The faults as they happened (and nodes that exited by themselves).</summary>
    public required IReadOnlyList<FaultEvent> Faults { get; init; }

    /// <summary>Why the run stopped before its end (the cluster did not start or recover); null when it ran to the end.</summary>
    public string? Failure { get; init; }

    /// <summary>Where the nodes' data and logs are.</summary>
    public string? ClusterDirectory { get; init; }

    /// <summary>The nodes' namespace network (<c>--network netns</c>); null on loopback.</summary>
    public ChaosNetworkLayout? Network { get; init; }

    /// <summary>The cluster's members as the map listed them after the heal (before the final reads); empty when the run stopped before.</summary>
    public IReadOnlyList<ChaosMember> Members { get; init; } = [];

    /// <summary>The replicas of the bucket's shard the final reads went through (the map after the heal).</summary>
    public IReadOnlyList<ulong> FinalReplicas { get; init; } = [];

    /// <summary><c>--workload namespace</c>: the creates, renames and listings and the final state (<see cref="History"/> holds the metadata registers' operations); null for the register workload.</summary>
    public NamespaceRun? Namespace { get; init; }
}

/// <summary>One member of the cluster at the end of a run, as the map listed it.</summary>
/// <param name="Node">The node id.</param>
/// <param name="State"><c>active</c>, <c>decommissioning</c> or <c>decommissioned</c>.</param>
/// <param name="Address">Its <c>strata.v1</c> address.</param>
/// <param name="Joined">It joined during the run (not a founding member).</param>
/// <param name="Running">Its process was running then.</param>
internal sealed record ChaosMember(ulong Node, string State, string Address, bool Joined, bool Running);

/// <summary>The namespace network of a run, as the report lists it (to find leftovers and to read the node logs).</summary>
/// <param name="Bridge">The bridge in the root namespace.</param>
/// <param name="Subnet">The nodes' subnet.</param>
/// <param name="BridgeAddress">The runner's address on the bridge.</param>
/// <param name="Nodes">Each node's namespace and address.</param>
internal sealed record ChaosNetworkLayout(string Bridge, string Subnet, string BridgeAddress, IReadOnlyList<ChaosNetworkNode> Nodes);

/// <summary>One node of a <see cref="ChaosNetworkLayout"/>.</summary>
/// <param name="Node">The node id.</param>
/// <param name="Namespace">Its network namespace.</param>
/// <param name="Address">Its IPv4 address.</param>
internal sealed record ChaosNetworkNode(ulong Node, string Namespace, string Address);

/// <summary>Operations by outcome, for one kind of operation or all.</summary>
internal sealed record OutcomeCounts(string Kind, int Ok, int Failed, int Indeterminate)
{
    public int Total => Ok + Failed + Indeterminate;

    public static OutcomeCounts Of(string kind, IEnumerable<ChaosOperation> operations)
    {
        int ok = 0, failed = 0, unknown = 0;
        foreach (ChaosOperation op in operations)
        {
            switch (op.Outcome)
            {
                case ChaosOutcome.Ok:
                    ok++;
                    break;
                case ChaosOutcome.Failed:
                    failed++;
                    break;
                default:
                    unknown++;
                    break;
            }
        }

        return new OutcomeCounts(kind, ok, failed, unknown);
    }

    public static string Name(CasRegisterOp kind) => kind switch
    {
        CasRegisterOp.Read => "read",
        CasRegisterOp.Write => "write",
        CasRegisterOp.Cas => "cas",
        _ => kind.ToString(),
    };
}

/// <summary>The checker's verdict on one key.</summary>
internal sealed record KeyVerdict(string Key, string Verdict, int Operations, int VisitedStates);

/// <summary>A key's value as the final read through one node saw it (null: absent, or the read failed: see <see cref="Error"/>).</summary>
internal sealed record FinalValue(string Key, ulong Node, long? Value, string? Error);

/// <summary>
/// The judgement of a chaos run, as written to <c>result.json</c>: the verdict, why, the counts, and the exit code.
/// </summary>
internal sealed record ChaosVerdict
{
    public const string Linearizable = "linearizable";
    public const string NotLinearizable = "not linearizable";
    public const string Undecided = "undecided";
    public const string InvariantsViolated = "namespace invariants violated";

    /// <summary><see cref="Linearizable"/>, <see cref="NotLinearizable"/>, <see cref="Undecided"/> (checker out of budget) or, for the namespace workload, <see cref="InvariantsViolated"/>.</summary>
    public required string Verdict { get; init; }

    /// <summary>0 linearizable and nothing else wrong; 1 an anomaly or a crashed node; 3 undecided or the run incomplete.</summary>
    public required int ExitCode { get; init; }

    /// <summary>The checker's explanation when not linearizable or undecided.</summary>
    public string? Explanation { get; init; }

    /// <summary>Everything else found wrong: nodes that exited by themselves, final reads that failed, a run that stopped early.</summary>
    public required IReadOnlyList<string> Problems { get; init; }

    /// <summary>The workload's operations: all, then read, write, cas.</summary>
    public required IReadOnlyList<OutcomeCounts> Counts { get; init; }

    public required OutcomeCounts FinalReads { get; init; }

    /// <summary>The workload's reads sent straight to a client's home node (<see cref="ReadRouter"/>; also counted under read).</summary>
    public OutcomeCounts HomeReads { get; init; } = new("read at home", 0, 0, 0);

    /// <summary>The nodes those reads went to, by id.</summary>
    public IReadOnlyList<ulong> HomeNodes { get; init; } = [];

    /// <summary>The faults that hit the bucket shard's leader, and whether it held its lease then.</summary>
    public LeaderHits LeaderHits { get; init; }

    /// <summary>Workload operations that were not answered with success, by the status that ended them (e.g. <c>DeadlineExceeded</c>).</summary>
    public required IReadOnlyDictionary<string, int> ErrorsByKind { get; init; }

    /// <summary>Operations given to the checker (see <see cref="HistoryCheck"/>).</summary>
    public required int CheckedOperations { get; init; }

    public required double CheckSeconds { get; init; }

    public required IReadOnlyList<KeyVerdict> Keys { get; init; }

    public required IReadOnlyList<FinalValue> FinalValues { get; init; }

    /// <summary>The report folder.</summary>
    public required string Folder { get; init; }

    /// <summary><c>--workload namespace</c>: the namespace invariants' judgement; null for the register workload.</summary>
    public NamespaceVerdict? Namespace { get; init; }
}

/// <summary>
/// The faults of a run that hit the leader of the bucket's shard (for a skew with isolation: a skewed node still leading
/// at the cut), and how many found it holding its lease — the faults that can show a lease bug — or quiesced.
/// </summary>
internal readonly record struct LeaderHits(int Hit, int WithLease, int Quiesced)
{
    /// <summary>Counts the leader hits of <paramref name="faults"/> (<see cref="FaultEvent.LeaderHeldLease"/>).</summary>
    public static LeaderHits Of(IEnumerable<FaultEvent> faults)
    {
        FaultEvent[] hits = [.. faults.Where(f => f.LeaderHeldLease is not null)];
        return new LeaderHits(hits.Length, hits.Count(f => f.LeaderHeldLease == true), hits.Count(f => f.LeaderQuiesced == true));
    }

    /// <summary>One line for the console and the summary.</summary>
    public override string ToString() => Hit == 0
        ? "no fault hit the shard's leader"
        : string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{Hit} fault(s) hit the bucket shard's leader: {WithLease} while it held its lease, {Quiesced} quiesced, {Hit - WithLease - Quiesced} awake without a lease");
}
