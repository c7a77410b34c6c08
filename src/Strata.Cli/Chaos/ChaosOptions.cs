using System.Globalization;
using Strata.Cli.Cluster;

namespace Strata.Cli.Chaos;

/// <summary>A fault the chaos runner injects into one node process.</summary>
internal enum FaultKind
{
    /// <summary>SIGKILL the node (no shutdown, nothing flushed that was not fsynced), then restart it over its data.</summary>
    Kill,

    /// <summary>SIGSTOP the node for longer than the election timeout, then SIGCONT: a process that freezes and wakes up believing nothing happened.</summary>
    Pause,

    /// <summary>Partition: one node (the shard leader, or a seeded node) cut off from every other node, both ways.</summary>
    Isolate,

    /// <summary>Partition: a minority (the target and seeded others, ⌊(n-1)/2⌋ nodes) cut off from the majority, both ways.</summary>
    Split,

    /// <summary>Partition: two halves that cannot reach each other and one bridge node that reaches both.</summary>
    Bridge,

    /// <summary>Partition: the target's packets to every other node are dropped while theirs reach it, or the reverse (seeded).</summary>
    Asymmetric,

    /// <summary>Membership: the bucket's shard leader is asked (<c>TransferLeadership</c>) to hand leadership to a seeded other voter.</summary>
    Transfer,

    /// <summary>Membership: a new node process joins the running cluster (<c>start --join</c>) and replicas move onto it.</summary>
    Join,

    /// <summary>Membership: a node (the shard leader, or a seeded node) is drained (<c>DecommissionNode</c>), then stopped for good.</summary>
    Decommission,

    /// <summary>
    /// SIGKILL the node and drop everything it had not fsynced (its data directory becomes what it had made durable:
    /// <see cref="Cluster.PowerLoss"/>), then restart it. Every node of the run is started under the power-loss library.
    /// </summary>
    PowerLoss,

    /// <summary>
    /// Clock skew: the node's clock (Raft ticks, leases, the hybrid logical clock) runs at a seeded rate — slow, 0.1–0.5×,
    /// or fast, 2–4×, well beyond the lease's drift margin — with its wall clock off by up to ±10 s, then is set right
    /// (the node's <c>STRATA_CLOCK_SKEW_FILE</c> hook).
    /// </summary>
    Skew,

    /// <summary>
    /// SIGKILL the node and restart it at once with a seeded crash point armed (<c>STRATA_CRASH_POINT=NAME:N</c>,
    /// <see cref="ArmedCrashPoint"/>): it serves again and SIGKILLs itself the N-th time a store step reaches NAME — a
    /// crash between the log's write and its fsync, after the fsync before any message, or around the apply. The
    /// scheduler waits (bounded by the fault's window) for it to die there, kills it if it did not, and restarts it
    /// without the point.
    /// </summary>
    CrashPoint,

    /// <summary>
    /// SIGKILL the node and restart it at once under the power-loss library with a seeded fsync armed to fail
    /// (<see cref="ArmedSyncFailure"/>): the N-th fsync of a data file fails with EIO and its unsynced pages are counted
    /// clean. The node must stop (exit 4, "the node stopped after a storage failure: ... Input/output error") without
    /// acknowledging the write whose sync failed; the scheduler then cuts its power — the pages the failed fsync left
    /// behind are lost — and restarts it over what was durable. An fsync not reached in the fault's window is reported
    /// as not fired (the node is killed and restarted).
    /// </summary>
    SyncFailure,

    /// <summary>
    /// Flip one seeded bit of the node's data (<see cref="Cluster.BitFlip"/>): half the time (seeded) of a sorted table
    /// under the running node, otherwise of a write-ahead log, sorted table or manifest file while the node is down
    /// (SIGKILL, flip, restart at once). RocksDB's checksums must catch it: the node
    /// refuses to open, or stops (exit 4) or answers DATA_LOSS when a read touches the flipped bytes — never a wrong
    /// answer, which the checker would see. After the fault's window the node is killed, the bit flipped back where
    /// that restores what the node had (a sorted table is never rewritten; a log or manifest only if RocksDB refused to
    /// open the store), and the node restarted: the repair an operator makes from a good copy, since a corrupt replica
    /// is not yet rebuilt from its peers.
    /// </summary>
    BitFlip,
}

/// <summary>How the nodes of a chaos run are networked.</summary>
internal enum ChaosNetwork
{
    /// <summary>Every node on 127.0.0.1 (ports of its own); no partitions possible.</summary>
    Loopback,

    /// <summary>Every node in its own network namespace behind a bridge (<see cref="NamespaceNetwork"/>): partitions possible; needs root, ip and iptables.</summary>
    Namespaces,
}

/// <summary>What the clients of a chaos run do.</summary>
internal enum ChaosWorkload
{
    /// <summary>Reads, writes and compare-and-sets on registers (<see cref="RegisterWorkload"/>), checked for linearizability.</summary>
    Register,

    /// <summary>Creates, directory renames, listings and conditional metadata updates (<see cref="NamespaceWorkload"/>), checked against the namespace invariants (<see cref="NamespaceInvariants"/>) and the metadata registers for linearizability.</summary>
    Namespace,
}

/// <summary>Where the workloads send their reads (<c>--reads</c>); writes and compare-and-sets always go through the shard-aware route.</summary>
internal enum ChaosReads
{
    /// <summary>Every read through the client's shard-aware route: to the shard's leader, served from its lease or by ReadIndex.</summary>
    Leader,

    /// <summary>
    /// Every read to the client's home node (a replica of the bucket's shard, client c on the (c mod n)-th), connected
    /// to directly: a follower read by ReadIndex, or a read at a node that was just restarted, continued or cut off,
    /// as a gateway pinned to one node would make (Jepsen's clients are bound to a node the same way).
    /// </summary>
    Home,

    /// <summary>Each read one or the other, by a seeded coin per client: both read paths in one history (the default).</summary>
    Mixed,
}

/// <summary>What one <c>strata chaos</c> run does. Immutable; <see cref="Validate"/> before use.</summary>
internal sealed record ChaosOptions
{
    /// <summary>What the clients do: registers (the default) or the namespace.</summary>
    public ChaosWorkload Workload { get; init; } = ChaosWorkload.Register;

    /// <summary>Node processes of the cluster (3..<see cref="LocalCluster.MaxNodes"/> with faults: one node may be down while a majority serves).</summary>
    public int Nodes { get; init; } = 3;

    /// <summary>Register operations the clients issue in total (the final reads come on top).</summary>
    public int Operations { get; init; } = 2000;

    /// <summary>Concurrent clients, each with its own <c>StrataClient</c> (its own client id and connections).</summary>
    public int Clients { get; init; } = 5;

    /// <summary>Registers (objects) the operations spread over.</summary>
    public int Keys { get; init; } = 5;

    /// <summary>The kinds of fault injected, in turn (each round of faults uses every kind once, in a seeded order). Empty: none.</summary>
    public IReadOnlyList<FaultKind> Faults { get; init; } = [FaultKind.Kill, FaultKind.Pause];

    /// <summary>Faults injected over the run; null: one per 400 operations (at least one when <see cref="Faults"/> is not empty).</summary>
    public int? FaultCount { get; init; }

    /// <summary>Seed of every random choice of the run: the operations, the keys, the values, the fault plan.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Operations per second offered by all clients together (each client paces itself); 0: as fast as they go.</summary>
    public double Rate { get; init; } = 200;

    /// <summary>Deadline of each attempt of a call (a call is retried on another node after it).</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one operation may take over all its attempts; past it, the outcome is unknown (indeterminate).</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Time the linearizability checker may spend before answering "undecided".</summary>
    public TimeSpan CheckBudget { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Directory in which the run's report folder is created.</summary>
    public string OutDirectory { get; init; } = "chaos-results";

    /// <summary>How the nodes are networked; partition faults need <see cref="ChaosNetwork.Namespaces"/>.</summary>
    public ChaosNetwork Network { get; init; } = ChaosNetwork.Loopback;

    /// <summary>Where reads go: through the shard-aware route, to each client's home node, or either by a seeded coin (the default).</summary>
    public ChaosReads Reads { get; init; } = ChaosReads.Mixed;

    /// <summary>The partition kinds, in the order <c>partition</c> expands to.</summary>
    public static IReadOnlyList<FaultKind> Partitions { get; } = [FaultKind.Isolate, FaultKind.Split, FaultKind.Bridge, FaultKind.Asymmetric];

    /// <summary>The membership changes, in the order <c>membership</c> expands to.</summary>
    public static IReadOnlyList<FaultKind> Memberships { get; } = [FaultKind.Join, FaultKind.Decommission, FaultKind.Transfer];

    /// <summary>The number of faults this run injects: <see cref="FaultCount"/> or its default.</summary>
    public int PlannedFaults => Faults.Count == 0 ? 0 : FaultCount ?? Math.Max(1, Operations / 400);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first unusable value.</summary>
    public void Validate()
    {
        Require(Operations is >= 1 and <= 10_000_000, $"--ops {Operations} is outside 1..10000000");
        Require(Clients is >= 1 and <= 256, $"--clients {Clients} is outside 1..256");
        Require(Keys is >= 1 and <= 10_000, $"--keys {Keys} is outside 1..10000");
        Require(Rate >= 0 && double.IsFinite(Rate), string.Create(CultureInfo.InvariantCulture, $"--rate {Rate} must be 0 (unpaced) or a positive number of operations per second"));
        Require(FaultCount is null or >= 0, $"--fault-count {FaultCount} must not be negative");
        Require(PlannedFaults < Operations, $"--fault-count {PlannedFaults} must be below --ops {Operations} (every fault starts while operations are still to come)");
        Require(AttemptTimeout > TimeSpan.Zero && CallTimeout >= AttemptTimeout, "the call timeout must be at least the attempt timeout, both positive");
        Require(CheckBudget > TimeSpan.Zero, "--check-budget must be positive");
        if (PlannedFaults > 0)
        {
            Require(Nodes is >= 3 and <= LocalCluster.MaxNodes,
                $"--nodes {Nodes}: faults need 3..{LocalCluster.MaxNodes} nodes (a majority of every shard must stay up while one node is down)");
            Require(!Faults.Contains(FaultKind.Pause) || !OperatingSystem.IsWindows(), "--faults pause needs POSIX signals (SIGSTOP/SIGCONT); Windows has none");
            Require(!Faults.Contains(FaultKind.PowerLoss) || OperatingSystem.IsLinux(), "--faults power-loss needs Linux (an LD_PRELOAD library over glibc)");
            Require(!Faults.Contains(FaultKind.SyncFailure) || OperatingSystem.IsLinux(), "--faults fsync-fail needs Linux (an LD_PRELOAD library over glibc)");
            if (Faults.Where(IsPartition).Select(k => (FaultKind?)k).FirstOrDefault() is FaultKind partition && Network != ChaosNetwork.Namespaces)
            {
                throw new ArgumentException(
                    $"--faults {Name(partition)} is a network partition: it needs --network netns (each node in its own network namespace, cut with iptables; root only)");
            }

            if (Network == ChaosNetwork.Namespaces && Faults.Any(k => k is FaultKind.Join or FaultKind.Decommission) && Nodes >= LocalCluster.MaxNodes)
            {
                throw new ArgumentException(
                    $"--faults join and decommission with --network netns need a spare network namespace: at most {LocalCluster.MaxNodes - 1} founding nodes");
            }
        }
        else
        {
            Require(Nodes is >= 1 and <= LocalCluster.MaxNodes, $"--nodes {Nodes} is outside 1..{LocalCluster.MaxNodes}");
        }
    }

    /// <summary>Whether <paramref name="kind"/> is a network partition (needs <see cref="ChaosNetwork.Namespaces"/>).</summary>
    public static bool IsPartition(FaultKind kind) => kind is FaultKind.Isolate or FaultKind.Split or FaultKind.Bridge or FaultKind.Asymmetric;

    /// <summary>
    /// With <see cref="ChaosNetwork.Namespaces"/>: how many namespaces beyond the founding nodes' are set aside for
    /// nodes that join (one per planned join or decommission, at most up to <see cref="LocalCluster.MaxNodes"/>);
    /// a join that finds none left is skipped with its reason.
    /// </summary>
    public int SpareNodes(IReadOnlyList<PlannedFault> plan) =>
        Math.Max(0, Math.Min(LocalCluster.MaxNodes - Nodes, plan.Count(f => f.Kind is FaultKind.Join or FaultKind.Decommission)));

    /// <summary>Whether <paramref name="kind"/> is a membership change (join, decommission) or a leadership transfer.</summary>
    public static bool IsMembership(FaultKind kind) => kind is FaultKind.Transfer or FaultKind.Join or FaultKind.Decommission;

    /// <summary>
    /// Whether <paramref name="kind"/> restarts its node with something armed that makes it die by itself while serving
    /// (a crash point, a failed fsync): the scheduler waits for that death and then checks it was the armed one.
    /// </summary>
    public static bool IsArmedDeath(FaultKind kind) => kind is FaultKind.CrashPoint or FaultKind.SyncFailure;

    /// <summary>
    /// Whether <paramref name="kind"/> kills its node and restarts it at once with something wrong with it (an armed
    /// death, a flipped bit), then watches it for the fault's window.
    /// </summary>
    public static bool IsWatchedRestart(FaultKind kind) => IsArmedDeath(kind) || kind == FaultKind.BitFlip;

    /// <summary>Whether the run's nodes must start under the power-loss library (a power loss, or a failed fsync and the cut after it).</summary>
    public bool NeedsPowerLoss => Faults.Any(k => k is FaultKind.PowerLoss or FaultKind.SyncFailure);

    /// <summary>Parses <c>register</c> or <c>namespace</c>.</summary>
    public static ChaosWorkload ParseWorkload(string text) => text?.Trim().ToLowerInvariant() switch
    {
        "register" => ChaosWorkload.Register,
        "namespace" => ChaosWorkload.Namespace,
        _ => throw new ArgumentException($"--workload '{text}' is not register or namespace"),
    };

    /// <summary>The name of <paramref name="workload"/> on the command line and in reports.</summary>
    public static string Name(ChaosWorkload workload) => workload == ChaosWorkload.Namespace ? "namespace" : "register";

    /// <summary>Parses <c>leader</c>, <c>home</c> or <c>mixed</c>.</summary>
    public static ChaosReads ParseReads(string text) => text?.Trim().ToLowerInvariant() switch
    {
        "leader" => ChaosReads.Leader,
        "home" => ChaosReads.Home,
        "mixed" => ChaosReads.Mixed,
        _ => throw new ArgumentException($"--reads '{text}' is not leader, home or mixed"),
    };

    /// <summary>The name of <paramref name="reads"/> on the command line and in reports.</summary>
    public static string Name(ChaosReads reads) => reads switch
    {
        ChaosReads.Leader => "leader",
        ChaosReads.Home => "home",
        _ => "mixed",
    };

    /// <summary>Parses <c>loopback</c> or <c>netns</c>.</summary>
    public static ChaosNetwork ParseNetwork(string text) => text?.Trim().ToLowerInvariant() switch
    {
        "loopback" => ChaosNetwork.Loopback,
        "netns" => ChaosNetwork.Namespaces,
        _ => throw new ArgumentException($"--network '{text}' is not loopback or netns"),
    };

    /// <summary>The name of <paramref name="network"/> on the command line and in reports.</summary>
    public static string Name(ChaosNetwork network) => network == ChaosNetwork.Namespaces ? "netns" : "loopback";

    /// <summary>
    /// Parses <c>kill,pause</c> (or <c>none</c>) into fault kinds, in the order given, without repeats; the
    /// partitions are <c>isolate</c>, <c>split</c>, <c>bridge</c>, <c>asymmetric</c>, and <c>partition</c> stands for all four;
    /// the membership changes are <c>join</c>, <c>decommission</c>, <c>transfer</c>, and <c>membership</c> stands for all three.
    /// </summary>
    public static IReadOnlyList<FaultKind> ParseFaults(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Trim().Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return [];
        }

        var kinds = new List<FaultKind>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            IReadOnlyList<FaultKind> named = part.ToLowerInvariant() switch
            {
                "kill" => [FaultKind.Kill],
                "power-loss" => [FaultKind.PowerLoss],
                "pause" => [FaultKind.Pause],
                "isolate" => [FaultKind.Isolate],
                "split" => [FaultKind.Split],
                "bridge" => [FaultKind.Bridge],
                "asymmetric" => [FaultKind.Asymmetric],
                "partition" => Partitions,
                "transfer" => [FaultKind.Transfer],
                "join" => [FaultKind.Join],
                "decommission" => [FaultKind.Decommission],
                "membership" => Memberships,
                "skew" => [FaultKind.Skew],
                "crash-point" => [FaultKind.CrashPoint],
                "fsync-fail" => [FaultKind.SyncFailure],
                "flip" => [FaultKind.BitFlip],
                _ => throw new ArgumentException(
                    $"--faults '{part}' is not a fault this runner injects (kill, power-loss, pause, isolate, split, bridge, asymmetric, partition = the four partitions, " +
                    "join, decommission, transfer, membership = those three, skew, crash-point, fsync-fail, flip, or none)"),
            };
            foreach (FaultKind kind in named.Where(k => !kinds.Contains(k)))
            {
                kinds.Add(kind);
            }
        }

        return kinds.Count > 0 ? kinds : throw new ArgumentException("--faults names no fault (use kill, pause, partition, a list of them, or none)");
    }

    /// <summary>The name of <paramref name="kind"/> on the command line and in reports.</summary>
    public static string Name(FaultKind kind) => kind switch
    {
        FaultKind.Kill => "kill",
        FaultKind.Pause => "pause",
        FaultKind.Isolate => "isolate",
        FaultKind.Split => "split",
        FaultKind.Bridge => "bridge",
        FaultKind.Asymmetric => "asymmetric",
        FaultKind.Transfer => "transfer",
        FaultKind.Join => "join",
        FaultKind.Decommission => "decommission",
        FaultKind.PowerLoss => "power-loss",
        FaultKind.Skew => "skew",
        FaultKind.CrashPoint => "crash-point",
        FaultKind.SyncFailure => "fsync-fail",
        FaultKind.BitFlip => "flip",
        _ => kind.ToString(),
    };

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message);
        }
    }
}
