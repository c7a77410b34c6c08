using System.Globalization;
using Spectre.Console;
using Strata.Api.V1;
using Strata.Cli.Cluster;

namespace Strata.Cli.Chaos;

/// <summary>A fault as it happened: one entry of the run's fault timeline (<c>faults.json</c>).</summary>
internal sealed record FaultEvent
{
    /// <summary>The planned fault's number (1-based); 0 for a node that exited by itself.</summary>
    public required int Number { get; init; }

    /// <summary>
    /// <c>kill</c>, <c>pause</c>, a partition (<c>isolate</c>, <c>split</c>, <c>bridge</c>, <c>asymmetric</c>), a
    /// membership change (<c>join</c>, <c>decommission</c>, <c>transfer</c>; a decommission that needs a fourth node
    /// first records that node's <c>join</c> under the same number), <c>crash-point</c> (killed, restarted with a
    /// crash point armed: see <see cref="CrashPoint"/> and <see cref="Fired"/>), <c>fsync-fail</c> (killed, restarted
    /// with a failed fsync armed, its power cut once it stopped: see <see cref="FailedSync"/> and <see cref="Fired"/>),
    /// <c>flip</c> (killed, a bit of its data flipped, restarted: see <see cref="Flip"/> and <see cref="Detected"/>), or
    /// <c>crash</c> (a node process that exited without being killed: a bug).
    /// </summary>
    public required string Kind { get; init; }

    /// <summary>
    /// The node hit: killed, paused, the one a partition was aimed at (cut off, or on the minority side), the node
    /// that joined, the one decommissioned, or the leader asked to transfer.
    /// </summary>
    public required ulong Node { get; init; }

    /// <summary>The process hit (killed, stopped, or found exited).</summary>
    public int? ProcessId { get; init; }

    /// <summary>The plan aimed this fault at the leader of the bucket's shard.</summary>
    public bool AimedAtLeader { get; init; }

    /// <summary>The node led the bucket's shard when it was hit (as the nodes reported just before).</summary>
    public bool WasLeader { get; init; }

    /// <summary>The shard of the run's bucket.</summary>
    public ulong? Shard { get; init; }

    /// <summary>Operations started before the fault began.</summary>
    public int OperationsBefore { get; init; }

    /// <summary>The term of the bucket's shard leader seen just before the fault.</summary>
    public ulong? Term { get; init; }

    /// <summary>For a partition: the sides, e.g. <c>1 | 2 3</c> (a bridge has three groups, the bridge node in the middle).</summary>
    public string? Sides { get; init; }

    /// <summary>For a partition: the directed links whose packets were dropped, as <c>from->to</c>.</summary>
    public IReadOnlyList<string>? Dropped { get; init; }

    /// <summary>For a partition: the node that said it led the bucket's shard (highest term) just before the heal; null when none did.</summary>
    public ulong? LeaderBeforeHeal { get; init; }

    /// <summary>For a partition: the term of <see cref="LeaderBeforeHeal"/>.</summary>
    public ulong? TermBeforeHeal { get; init; }

    /// <summary>
    /// For a skew with isolation: the node that said it led the bucket's shard (highest term) just before the skewed
    /// node was cut off — whether the skewed node still led then, which is the case its lease must survive.
    /// </summary>
    public ulong? LeaderAtCut { get; init; }

    /// <summary>For a skew with isolation: the term of <see cref="LeaderAtCut"/>.</summary>
    public ulong? TermAtCut { get; init; }

    /// <summary>
    /// For a fault that hit the leader of the bucket's shard (for a skew with isolation: a skewed node that still led
    /// at the cut): whether that replica held its lease, as the node reported just before. A lease must survive being
    /// paused, killed or cut off with a slow clock; a leader hit without one cannot show a lease bug.
    /// </summary>
    public bool? LeaderHeldLease { get; init; }

    /// <summary>With <see cref="LeaderHeldLease"/>: whether the leader's replica was quiesced (idle, not ticking: no lease).</summary>
    public bool? LeaderQuiesced { get; init; }

    /// <summary>When the signal was sent or the partition was cut (ns since the run began).</summary>
    public required long StartNanos { get; init; }

    /// <summary>When the node was restarted or continued, or the partition healed.</summary>
    public long? HealNanos { get; init; }

    /// <summary>When the cluster was seen serving again: every node answering, every shard led by a running node.</summary>
    public long? ReadyNanos { get; init; }

    /// <summary>
    /// After a partition: when every node was seen hearing from every other again (no node suspecting a peer). A
    /// TCP connection whose packets were dropped retransmits on a backed-off timer, so links can stay dead for
    /// seconds after the heal; the next fault starts only after this.
    /// </summary>
    public long? ConnectedNanos { get; init; }

    public string? Note { get; init; }

    /// <summary>
    /// When the cluster took more than a few seconds to serve again after the fault: what readiness waited for, each
    /// reason with the seconds after the heal when it was first seen (to tell a slow election from a node that does not answer).
    /// </summary>
    public string? WaitedFor { get; init; }

    /// <summary>For a transfer: the voter the leader was asked to hand the bucket's shard to.</summary>
    public ulong? Target { get; init; }

    /// <summary>For a membership change: the node that led the bucket's shard (highest term) once it was done; null when none was seen.</summary>
    public ulong? LeaderAfter { get; init; }

    /// <summary>The term of <see cref="LeaderAfter"/>.</summary>
    public ulong? TermAfter { get; init; }

    /// <summary>For a transfer: whether leadership of the bucket's shard left the old leader (to anyone) within the wait.</summary>
    public bool? Moved { get; init; }

    /// <summary>For a join: when the cluster map first listed the node as active.</summary>
    public long? ListedNanos { get; init; }

    /// <summary>For a join: when the map first placed a replica of a shard on the node.</summary>
    public long? HostingNanos { get; init; }

    /// <summary>For a decommission: when the map marked the node decommissioned (every replica moved away).</summary>
    public long? DecommissionedNanos { get; init; }

    /// <summary>A membership fault that was not done (the reason is in <see cref="Note"/>).</summary>
    public bool Skipped { get; init; }

    /// <summary>For a crash point: the point armed, <c>NAME:N</c> (the node SIGKILLs itself the N-th time it reaches NAME).</summary>
    public string? CrashPoint { get; init; }

    /// <summary>For a bit flip: the bit flipped, <c>FILE@OFFSET bit B</c> (the file relative to the node's data directory).</summary>
    public string? Flip { get; init; }

    /// <summary>For a bit flip: true when the bit was flipped under the running node (a sorted table it serves from), false when the node was down.</summary>
    public bool? Live { get; init; }

    /// <summary>
    /// For a bit flip: true when the node refused to open or stopped naming the corruption; false when it served
    /// through the window (no read it made touched the bytes, or it refused them with DATA_LOSS); null when it exited
    /// without naming it (a <c>crash</c> entry follows: a bug).
    /// </summary>
    public bool? Detected { get; init; }

    /// <summary>For a failed fsync: N, the fsync of a data file (counted from the armed start) that fails with EIO.</summary>
    public int? FailedSync { get; init; }

    /// <summary>For a crash point or a failed fsync: the process started with it armed (<see cref="ProcessId"/> is the one killed first).</summary>
    public int? ArmedProcessId { get; init; }

    /// <summary>For a crash point or a failed fsync: when the armed process was started.</summary>
    public long? ArmedNanos { get; init; }

    /// <summary>
    /// For a crash point or a failed fsync: true when the armed process died of it within the fault's window (at the
    /// point; stopped with exit code 4 after the fsync failed); false when it did not reach it in time (it was killed
    /// at the window's end) or exited some other way (a <c>crash</c> entry follows: a bug). <see cref="Note"/> says which.
    /// </summary>
    public bool? Fired { get; init; }

    /// <summary>For a crash point or a failed fsync: when the armed process first answered (its restart done); the window runs from there.</summary>
    public long? ServingNanos { get; init; }

    /// <summary>For a crash point or a failed fsync: when the armed process was seen gone by itself (of what was armed, or otherwise).</summary>
    public long? DiedNanos { get; init; }
}

/// <summary>
/// Executes a <see cref="FaultPlan"/> against a <see cref="LocalCluster"/> while the workload runs, one fault at a
/// time: at most one node is ever killed or paused, or one partition is in place, so a majority of every shard's
/// replicas stays up (and, under a partition, connected) and the run can make progress. Also the workload's
/// <see cref="IOperationGate"/>: operations past a fault's starting point wait until the scheduler takes that fault up
/// (it may still be bringing the cluster back from the previous one), and go on while it is put in place, so every
/// planned fault hits a cluster under load whatever the machine's speed.
/// </summary>
/// <remarks>
/// <para>Partitions are cut with iptables in the nodes' network namespaces (<see cref="NamespaceNetwork"/>); just
/// before a partition is healed the scheduler records which node leads the bucket's shard, so the timeline shows
/// whether the partition moved leadership.</para>
/// <para>Membership changes (<c>FaultScheduler.Membership.cs</c>) last until the cluster has done them: a joined node
/// hosts its share of replicas, a decommissioned node is marked so and its process stopped for good (retired: never
/// restarted, its exit no crash), a transfer moved leadership or was given up. At least
/// <see cref="MembershipPlan.MinActiveNodes"/> nodes stay active.</para>
/// <para>After each fault is healed (the killed node restarted over its data, the paused one continued, the network
/// whole again) the scheduler waits until the cluster serves again (after a partition, also until every node hears
/// every other) before the next one may start. A node process that exited
/// without being killed is recorded as a <c>crash</c> (a bug to look at) and restarted.</para>
/// <para><b>Caller's duties.</b> Call <see cref="ResumeAll"/> on every path before the cluster is disposed (a
/// stopped process would otherwise ignore its SIGTERM until the grace period ends), and
/// <see cref="HealAsync"/> after the workload to bring every node back.</para>
/// <para><b>Concurrency.</b> <see cref="RunAsync"/> is called once; <see cref="BeforeOperationAsync"/> from any
/// client thread; <see cref="Timeline"/> from any thread.</para>
/// </remarks>
internal sealed partial class FaultScheduler : IOperationGate
{
    // A liveness bound, not a performance claim: a cluster that does not serve again within it fails the run.
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(60);
    private const int MaxRestartsPerRecovery = 3;

    private readonly LocalCluster _cluster;
    private readonly NamespaceNetwork? _network;
    private readonly string _bucket;
    private readonly IReadOnlyList<PlannedFault> _plan;
    private readonly ChaosClock _clock;
    private readonly ChaosLog _log;
    private readonly Func<int> _started;
    private readonly TaskCompletionSource[] _reached;
    private readonly TaskCompletionSource[] _taken;
    private readonly Lock _gate = new();
    private readonly List<FaultEvent> _timeline = [];
    private readonly HashSet<ulong> _killed = [];
    private static readonly TimeSpan SlowRecoveryThreshold = TimeSpan.FromSeconds(5);
    private List<string> _recoveryWaits = [];
    private long _recoveryBegan;
    private readonly Dictionary<ulong, int> _paused = [];
    private readonly HashSet<ulong> _skewed = [];
    private static readonly TimeSpan SkewBeforeIsolation = TimeSpan.FromSeconds(1);
    private IReadOnlyList<ulong> _bucketReplicas = [];

    /// <summary>A scheduler of <paramref name="plan"/> against <paramref name="cluster"/>; nothing happens before <see cref="RunAsync"/>.</summary>
    /// <param name="cluster">The cluster whose nodes are hit (started by the caller).</param>
    /// <param name="bucket">The run's bucket: faults aimed at the leader hit the leader of its shard.</param>
    /// <param name="plan">The faults, in order.</param>
    /// <param name="clock">The run's clock, for the timeline.</param>
    /// <param name="log">Where each fault is announced.</param>
    /// <param name="started">How many operations the workload has started (for the timeline).</param>
    /// <param name="network">The nodes' namespace network; required when the plan has partitions.</param>
    public FaultScheduler(LocalCluster cluster, string bucket, IReadOnlyList<PlannedFault> plan, ChaosClock clock, ChaosLog log, Func<int> started, NamespaceNetwork? network = null)
    {
        if (network is null && plan.Any(f => ChaosOptions.IsPartition(f.Kind)))
        {
            throw new ArgumentException("a plan with partitions needs the nodes' namespace network", nameof(network));
        }

        _cluster = cluster;
        _network = network;
        _bucket = bucket;
        _plan = plan;
        _clock = clock;
        _log = log;
        _started = started;
        _reached = [.. plan.Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously))];
        _taken = [.. plan.Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously))];
    }

    /// <summary>The faults so far, in the order they began.</summary>
    public IReadOnlyList<FaultEvent> Timeline
    {
        get
        {
            lock (_gate)
            {
                return [.. _timeline];
            }
        }
    }

    /// <summary>
    /// The nodes hosting a replica of the bucket's shard when the cluster was last seen serving (at the start, and after
    /// each fault's recovery): joins and decommissions move them. Read by the clients' home reads from any thread.
    /// </summary>
    public IReadOnlyList<ulong> BucketReplicas => Volatile.Read(ref _bucketReplicas);

    /// <summary>Records the bucket shard's replicas in <paramref name="serving"/> (an observation of the cluster serving).</summary>
    public void Saw(ClusterObservation serving)
    {
        if (TryShardOf(serving) is { } shard)
        {
            Volatile.Write(ref _bucketReplicas, [.. shard.Replicas.Order()]);
        }
    }

    public async ValueTask BeforeOperationAsync(int index, CancellationToken cancellationToken)
    {
        for (int k = 0; k < _plan.Count && _plan[k].AfterOperations <= index; k++)
        {
            if (!_taken[k].Task.IsCompleted)
            {
                _reached[k].TrySetResult();
                await _taken[k].Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Injects every planned fault in turn, each when the workload reaches its starting point, heals it after its
    /// duration and waits for the cluster to serve again. Throws <see cref="CommandFailedException"/> when the
    /// cluster does not recover. Whatever happens, no client is left waiting at a gate.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            foreach (PlannedFault fault in _plan)
            {
                await _reached[fault.Number - 1].Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                // The clients go on while the fault is put in place. Held even for the few milliseconds of observing
                // the leader and signalling it, the leader would fall idle and quiesce, and a quiesced leader holds no
                // lease: every fault would hit a leader without one, and no lease bug could show.
                _taken[fault.Number - 1].TrySetResult();
                if (ChaosOptions.IsMembership(fault.Kind))
                {
                    await ChangeMembershipAsync(fault, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                int index = await InjectAsync(fault, cancellationToken).ConfigureAwait(false);
                try
                {
                    await (ChaosOptions.IsWatchedRestart(fault.Kind)
                        ? WaitForWatchedRestartAsync(index, fault.Duration, cancellationToken)
                        : Task.Delay(fault.Duration, cancellationToken)).ConfigureAwait(false);
                }
                finally
                {
                    await EndAsync(index, cancellationToken).ConfigureAwait(false);
                }

                await RecoverAsync(cancellationToken).ConfigureAwait(false);
                string? waited = SlowRecovery();
                Update(index, e => e with { ReadyNanos = _clock.Now, WaitedFor = waited });
                if (waited is not null)
                {
                    _log.Line(Markup.Escape($"fault {fault.Number}: serving again took long; readiness waited for: {waited}"));
                }

                if (ChaosOptions.IsPartition(fault.Kind) || Timeline[index].Sides is not null)
                {
                    await WaitConnectedAsync(cancellationToken).ConfigureAwait(false);
                    Update(index, e => e with { ConnectedNanos = _clock.Now });
                }

                FaultEvent done = Timeline[index];
                string healed = done.Kind switch
                {
                    "kill" => $"node {done.Node} was restarted",
                    "power-loss" => $"node {done.Node} was restarted after its power loss",
                    "pause" => $"node {done.Node} was continued",
                    "crash-point" => done.Fired == true
                        ? $"node {done.Node} died at crash point {done.CrashPoint} and was restarted without it"
                        : done.DiedNanos is null
                            ? $"node {done.Node} was killed (crash point {done.CrashPoint} not reached in time) and restarted"
                            : $"node {done.Node} exited without reaching crash point {done.CrashPoint} and was restarted",
                    "fsync-fail" => done.Fired == true
                        ? $"node {done.Node} stopped at its failed fsync {done.FailedSync} and was restarted after a power cut"
                        : done.DiedNanos is null
                            ? $"node {done.Node} was killed (fsync {done.FailedSync} not reached in time) and restarted"
                            : $"node {done.Node} exited without reaching its failed fsync {done.FailedSync} and was restarted",
                    "flip" => done.Detected switch
                    {
                        true => $"node {done.Node} found its flipped bit and was repaired and restarted",
                        false => $"node {done.Node} served through its window over a flipped bit and was repaired and restarted",
                        null => $"node {done.Node} exited without naming its flipped bit and was restarted",
                    },
                    "skew" => done.Sides is null ? $"node {done.Node}'s clock was set right" : $"node {done.Node}'s clock was set right and the partition healed",
                    _ => "the partition was healed",
                };
                string connected = done.ConnectedNanos is long c
                    ? string.Create(CultureInfo.InvariantCulture, $"; every node hears every other {ChaosClock.Seconds(c - done.HealNanos!.Value):0.00} s after the heal")
                    : "";
                _log.Line(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                    $"fault {done.Number}: cluster serving again {ChaosClock.Seconds(done.ReadyNanos!.Value - done.HealNanos!.Value):0.00} s after {healed}{connected}")));
            }
        }
        finally
        {
            foreach (TaskCompletionSource taken in _taken)
            {
                taken.TrySetResult();
            }
        }
    }

    /// <summary>
    /// Continues every paused node (SIGCONT), sets skewed clocks right, restarts every killed one, removes any partition, restarts nodes that
    /// exited by themselves, and waits until the cluster serves; returns the observation that showed it.
    /// </summary>
    public async Task<ClusterObservation> HealAsync(CancellationToken cancellationToken)
    {
        ResumeAll();
        List<ulong> skewed;
        lock (_gate)
        {
            skewed = [.. _skewed];
            _skewed.Clear();
        }

        foreach (ulong node in skewed)
        {
            _cluster.SkewClock(node, 1, TimeSpan.Zero);
        }

        if (_network is not null)
        {
            await _network.HealAsync(cancellationToken).ConfigureAwait(false);
        }

        List<ulong> killed;
        lock (_gate)
        {
            killed = [.. _killed];
            _killed.Clear();
        }

        foreach (ulong node in killed)
        {
            if (_cluster.Node(node).IsRunning)
            {
                // Only a node restarted with a crash point or failed fsync armed runs while it counts as killed: not with it armed.
                await _cluster.KillAsync(node).ConfigureAwait(false);
            }

            _cluster.Start(node);
        }

        ClusterObservation serving = await RecoverAsync(cancellationToken).ConfigureAwait(false);
        return _network is null ? serving : await WaitConnectedAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends SIGCONT to every node this scheduler stopped. Safe to call at any time, more than once.</summary>
    public void ResumeAll()
    {
        List<(ulong Node, int Pid)> paused;
        lock (_gate)
        {
            paused = [.. _paused.Select(p => (p.Key, p.Value))];
            _paused.Clear();
        }

        foreach ((_, int pid) in paused)
        {
            ProcessSignals.Continue(pid);
        }
    }

    /// <summary>The timeline entry of a fault aimed at <paramref name="target"/>, as it starts.</summary>
    private FaultEvent AimedEvent(PlannedFault fault, FaultKind kind, ulong target, int? pid, LeaderSighting seen) => seen.LeaseStateFor(target, new()
    {
        Number = fault.Number,
        Kind = ChaosOptions.Name(kind),
        Node = target,
        ProcessId = pid,
        AimedAtLeader = fault.AtLeader,
        WasLeader = seen.Leader == target,
        Shard = seen.Shard,
        Term = seen.Term,
        OperationsBefore = _started(),
        StartNanos = _clock.Now,
    });

    /// <summary>The target's part in the bucket's shard, in words (for the console line).</summary>
    private static string RoleOf(ulong target, LeaderSighting seen) =>
        seen.Leader == target ? $"leader of shard {seen.Shard}, {LeaseOf(seen)}"
        : seen.Shard is null ? "shard leader unknown" : $"follower of shard {seen.Shard}";

    /// <summary>The seen leader's lease, in words.</summary>
    private static string LeaseOf(LeaderSighting seen) =>
        seen.LeaderHeldLease == true ? "holding its lease" : seen.LeaderQuiesced == true ? "quiesced, no lease" : "no lease";

    /// <summary>Records <paramref name="kind"/> as skipped for <paramref name="reason"/>; returns its timeline index.</summary>
    private int RecordSkipped(PlannedFault fault, FaultKind kind, string reason) => Record(new FaultEvent
    {
        Number = fault.Number,
        Kind = ChaosOptions.Name(kind),
        Node = 0,
        OperationsBefore = _started(),
        StartNanos = _clock.Now,
        HealNanos = _clock.Now,
        Skipped = true,
        Note = "skipped: " + reason,
    });

    /// <summary>Hits the node the fault aims at; returns the index of its timeline entry.</summary>
    private async Task<int> InjectAsync(PlannedFault fault, CancellationToken cancellationToken)
    {
        LeaderSighting seen = await ObserveLeaderForAsync(fault, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<ulong>? replicas = seen.Replicas;
        ulong target = fault.AtLeader && seen.Leader is ulong l && _cluster.Node(l).IsRunning ? l : MembershipPlan.SeededNode(fault, SeededCandidates(fault, replicas));
        LocalNode node = _cluster.Node(target);
        int pid = node.ProcessId ?? throw new CommandFailedException($"node {target} has no process to {ChaosOptions.Name(fault.Kind)}");
        FaultEvent started = AimedEvent(fault, fault.Kind, target, pid, seen);
        string role = RoleOf(target, seen);
        if (ChaosOptions.IsPartition(fault.Kind))
        {
            NetworkCut cut = NetworkCut.Plan(fault.Kind, ActiveIds(), target, fault.Salt, replicas);
            started = started with { Sides = cut.SidesText, Dropped = [.. cut.Dropped.Select(l => l.ToString())], Note = cut.Description };
            await _network!.CutAsync(cut.Dropped, cancellationToken).ConfigureAwait(false);
            _log.Line($"[red]fault {fault.Number}/{_plan.Count}[/]: {ChaosOptions.Name(fault.Kind)} partition at node {target} " +
                Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                    $"({role}) after {started.OperationsBefore:N0} operations: {cut.Description} [{cut.SidesText}]; heal in {fault.Duration.TotalSeconds:0.0} s")));
            lock (_gate)
            {
                _timeline.Add(started);
                return _timeline.Count - 1;
            }
        }

        if (fault.Kind == FaultKind.Skew)
        {
            ClockSkew skew = ClockSkew.Of(fault.Salt);
            lock (_gate)
            {
                _skewed.Add(target);
            }

            _cluster.SkewClock(target, skew.Rate, skew.Offset);
            _log.Line($"[red]fault {fault.Number}/{_plan.Count}[/]: skew node {target} " + Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"({role}) after {started.OperationsBefore:N0} operations: {skew}; set right in {fault.Duration.TotalSeconds:0.0} s")));
            started = started with { Note = skew.ToString() };
            if (_network is not null)
            {
                // Where a skewed clock hurts: the node also loses its peers (a leader whose slow clock says its lease
                // still holds while the others elect a successor). A second first, for the clocks to be compared.
                await Task.Delay(SkewBeforeIsolation, cancellationToken).ConfigureAwait(false);
                LeaderSighting atCut = await ObserveLeaderAsync(cancellationToken).ConfigureAwait(false);
                ulong? leaderAtCut = atCut.Leader;
                NetworkCut cut = NetworkCut.Plan(FaultKind.Isolate, ActiveIds(), target, fault.Salt, replicas);
                await _network.CutAsync(cut.Dropped, cancellationToken).ConfigureAwait(false);
                started = atCut.LeaseStateFor(target, started with
                {
                    Sides = cut.SidesText,
                    Dropped = [.. cut.Dropped.Select(l => l.ToString())],
                    Note = $"{skew}; then {cut.Description}",
                    LeaderAtCut = leaderAtCut,
                    TermAtCut = atCut.Term,
                });
                string led = leaderAtCut == target ? $"it still led the bucket's shard ({LeaseOf(atCut)})"
                    : leaderAtCut is ulong other ? $"node {other} led the bucket's shard by then" : "no leader of the bucket's shard was seen";
                _log.Line(Markup.Escape($"fault {fault.Number}: node {target} (skewed) isolated too: {cut.Description} [{cut.SidesText}]; {led}"));
            }

            return Record(started);
        }

        bool killed = fault.Kind is FaultKind.Kill or FaultKind.PowerLoss || ChaosOptions.IsWatchedRestart(fault.Kind);
        string action = fault.Kind switch
        {
            FaultKind.Kill => "kill -9",
            FaultKind.CrashPoint => "crash point: kill -9",
            FaultKind.SyncFailure => "failed fsync: kill -9",
            FaultKind.BitFlip => "bit flip: kill -9",
            FaultKind.PowerLoss => "power loss of",
            _ => "SIGSTOP",
        };
        string length = killed ? "restart in" : "SIGCONT in";
        if (killed)
        {
            lock (_gate)
            {
                _killed.Add(target);
            }

            if (fault.Kind == FaultKind.PowerLoss)
            {
                PowerLossOutcome lost = await _cluster.PowerLossAsync(target).ConfigureAwait(false);
                started = started with { Note = $"power loss: {lost}" };
                length = string.Create(CultureInfo.InvariantCulture, $"{lost.BytesLost:N0} unsynced bytes dropped, {lost.WriteAheadLogBytesLost:N0} of them of the WAL; {length}");
            }
            else if (fault.Kind == FaultKind.CrashPoint)
            {
                started = await ArmAsync(fault, started).ConfigureAwait(false);
                length = $"restarted at once as pid {started.ArmedProcessId} with {Replication.CrashPoints.Variable}={started.CrashPoint}; killed if, once it answers again, it has not died there within";
            }
            else if (fault.Kind == FaultKind.SyncFailure)
            {
                started = await ArmAsync(fault, started).ConfigureAwait(false);
                length = $"restarted at once as pid {started.ArmedProcessId} with {PowerLoss.FailSyncVariable}={started.FailedSync}; killed if, once it answers again, it has not stopped within";
            }
            else if (fault.Kind == FaultKind.BitFlip)
            {
                started = await FlipAsync(fault, started).ConfigureAwait(false);
                length = started.Live == true
                    ? $"{started.Flip} flipped under the running node; repaired and restarted, if it still runs, after"
                    : $"{started.Flip ?? "no checksummed file to flip"}; restarted at once as pid {started.ArmedProcessId}; repaired and restarted, if it still runs, once it has answered for";
            }
            else
            {
                await _cluster.KillAsync(target).ConfigureAwait(false);
            }
        }
        else
        {
            lock (_gate)
            {
                _paused[target] = pid;
            }

            if (!ProcessSignals.Stop(pid))
            {
                throw new CommandFailedException($"cannot stop node {target} (pid {pid}): the process is gone; its log ends with:{Environment.NewLine}{_cluster.LogTail(target)}");
            }
        }

        _log.Line($"[red]fault {fault.Number}/{_plan.Count}[/]: {action} node {target} " +
            Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"(pid {pid}, {role}) after {started.OperationsBefore:N0} operations; {length} {fault.Duration.TotalSeconds:0.0} s")));
        lock (_gate)
        {
            _timeline.Add(started);
            return _timeline.Count - 1;
        }
    }

    /// <summary>Ends fault <paramref name="index"/> of the timeline: restart, SIGCONT, or (after noting the shard's leader) heal the network.</summary>
    private async Task EndAsync(int index, CancellationToken cancellationToken)
    {
        FaultEvent fault = Timeline[index];
        if (fault.Kind == "skew")
        {
            lock (_gate)
            {
                _skewed.Remove(fault.Node);
            }

            _cluster.SkewClock(fault.Node, 1, TimeSpan.Zero);
        }

        if (fault.Sides is not null)
        {
            // Who leads under the partition: the evidence that it took effect (an isolated leader is replaced).
            LeaderSighting underCut = cancellationToken.IsCancellationRequested
                ? default
                : await ObserveLeaderAsync(CancellationToken.None).ConfigureAwait(false);
            await _network!.HealAsync(CancellationToken.None).ConfigureAwait(false);
            Update(index, e => e with { HealNanos = _clock.Now, LeaderBeforeHeal = underCut.Leader, TermBeforeHeal = underCut.Term });
            return;
        }

        if (fault.Kind is "crash-point" or "fsync-fail")
        {
            await EndArmedDeathAsync(index).ConfigureAwait(false);
            return;
        }

        if (fault.Kind == "flip")
        {
            await EndFlipAsync(index).ConfigureAwait(false);
            return;
        }

        if (fault.Kind is "kill" or "power-loss")
        {
            lock (_gate)
            {
                _killed.Remove(fault.Node);
            }

            _cluster.Start(fault.Node);
        }
        else if (fault.Kind == "skew")
        {
            // Set right above.
        }
        else
        {
            lock (_gate)
            {
                _paused.Remove(fault.Node);
            }

            ProcessSignals.Continue(fault.ProcessId!.Value);
        }

        Update(index, e => e with { HealNanos = _clock.Now });
    }

    /// <summary>
    /// The observation a fault aims with: for a fault aimed at the leader, retried (up to 10 s) while no leader is
    /// known — right after a join or a leadership transfer there may briefly be none, and aiming at a seeded node
    /// instead would quietly change the fault.
    /// </summary>
    private async Task<LeaderSighting> ObserveLeaderForAsync(
        PlannedFault fault, CancellationToken cancellationToken)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var seen = await ObserveLeaderAsync(cancellationToken).ConfigureAwait(false);
            if (!fault.AtLeader || seen.Leader is not null || waited.Elapsed > TimeSpan.FromSeconds(10))
            {
                return seen;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>What the nodes say about the bucket's shard now (<see cref="LeaderSighting"/>); nulls when not seen.</summary>
    private async Task<LeaderSighting> ObserveLeaderAsync(CancellationToken cancellationToken)
    {
        if (await _cluster.TryObserveAsync(cancellationToken).ConfigureAwait(false) is { } seen)
        {
            try
            {
                ShardInfo info = seen.ShardOf(_bucket);
                var leader = seen.Leader(info.ShardId);
                return new LeaderSighting(info.ShardId, leader?.Node, leader?.Replica.Term, [.. info.Replicas], leader?.Replica.HoldsLease, leader?.Replica.Quiesced);
            }
            catch (CommandFailedException)
            {
                // The answering node's map has no shard for the bucket (not yet learned): aim at the planned node.
            }
        }

        return default;
    }

    /// <summary>Restarts nodes that exited by themselves (recording each as a crash) and waits until the cluster serves.</summary>
    private async Task<ClusterObservation> RecoverAsync(CancellationToken cancellationToken)
    {
        long began = _clock.Now;
        var waits = new List<string>();
        lock (_gate)
        {
            _recoveryWaits = waits;
            _recoveryBegan = began;
        }

        for (int restarts = 0; ; restarts++)
        {
            RestartCrashed();
            try
            {
                ClusterObservation serving = await _cluster.WaitUntilReadyAsync(RecoveryTimeout, cancellationToken, why =>
                {
                    string at = ChaosClock.Seconds(_clock.Now - began).ToString("0.0", CultureInfo.InvariantCulture);
                    lock (_gate)
                    {
                        waits.Add($"{why} (+{at} s)");
                    }
                }).ConfigureAwait(false);
                Saw(serving);
                return serving;
            }
            catch (CommandFailedException) when (restarts < MaxRestartsPerRecovery && Crashed().Count > 0)
            {
                // A node exited while the cluster recovered: record it, restart it, wait again.
            }
        }
    }

    /// <summary>
    /// Waits until every node answers and none suspects a peer (each hears from every other again); returns the
    /// observation that showed it. Throws <see cref="CommandFailedException"/> when that does not happen within the
    /// recovery timeout, naming who still suspects whom.
    /// </summary>
    private async Task<ClusterObservation> WaitConnectedAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(RecoveryTimeout);
        string missing = "no node answered";
        try
        {
            while (true)
            {
                if (await _cluster.TryObserveAsync(deadline.Token).ConfigureAwait(false) is { } seen)
                {
                    string[] problems =
                    [
                        .. seen.Nodes.Where(n => !n.Answers && n.Node.State != "decommissioned" && IsMember(n.Node.Id))
                            .Select(n => $"node {n.Node.Id} does not answer ({n.Error})"),
                        .. seen.Nodes.Where(n => n.Status is not null && n.Status.SuspectedPeers.Any(IsMember))
                            .Select(n => $"node {n.Node.Id} suspects {string.Join(", ", n.Status!.SuspectedPeers.Where(IsMember))}"),
                    ];
                    if (problems.Length == 0)
                    {
                        return seen;
                    }

                    missing = string.Join("; ", problems);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CommandFailedException($"the nodes did not all hear each other again within {RecoveryTimeout.TotalSeconds:0} s of the heal: {missing}");
        }
    }

    private List<LocalNode> Crashed()
    {
        lock (_gate)
        {
            return [.. _cluster.Nodes.Where(n => n.Process is { HasExited: true } && !n.IsRetired && !_killed.Contains(n.Id))];
        }
    }

    private void RestartCrashed()
    {
        foreach (LocalNode node in Crashed())
        {
            string tail = _cluster.LogTail(node.Id, lines: 20);
            int code = node.Process!.ExitCode;
            lock (_gate)
            {
                _timeline.Add(new FaultEvent
                {
                    Number = 0,
                    Kind = "crash",
                    Node = node.Id,
                    ProcessId = node.ProcessId,
                    OperationsBefore = _started(),
                    StartNanos = _clock.Now,
                    HealNanos = _clock.Now,
                    Note = $"exited by itself with code {code}; its log ends with:{Environment.NewLine}{tail}",
                });
            }

            _log.Line($"[red bold]node {node.Id} exited by itself[/] " + Markup.Escape($"(code {code}); restarting it. Log tail:{Environment.NewLine}{tail}"));
            _cluster.Start(node.Id);
        }
    }

    /// <summary>What the last recovery waited for, when it took longer than <see cref="SlowRecoveryThreshold"/>; else null.</summary>
    private string? SlowRecovery()
    {
        lock (_gate)
        {
            return _clock.Now - _recoveryBegan < (long)SlowRecoveryThreshold.TotalNanoseconds || _recoveryWaits.Count == 0
                ? null
                : string.Join("; ", _recoveryWaits);
        }
    }

    /// <summary>The ids of the active (not retired) nodes: the founding ones first, then joined ones.</summary>
    private ulong[] ActiveIds() => [.. _cluster.ActiveNodes.Select(n => n.Id)];

    /// <summary>Whether <paramref name="node"/> is a node of the cluster that was not retired (a retired one is rightly silent).</summary>
    private bool IsMember(ulong node) => _cluster.Nodes.Any(n => n.Id == node && !n.IsRetired);

    private void Update(int index, Func<FaultEvent, FaultEvent> change)
    {
        lock (_gate)
        {
            _timeline[index] = change(_timeline[index]);
        }
    }
}

/// <summary>
/// What the nodes said about the run's bucket's shard at one moment: the shard, the node that says it leads it with the
/// highest term, that term, the shard's replicas, and whether that leader's replica held its lease and was quiesced (as
/// it reported itself). Every member is null when the cluster was not seen.
/// </summary>
internal readonly record struct LeaderSighting(
    ulong? Shard, ulong? Leader, ulong? Term, IReadOnlyList<ulong>? Replicas, bool? LeaderHeldLease, bool? LeaderQuiesced)
{
    /// <summary>
    /// <paramref name="fault"/> with the leader's lease state when <paramref name="target"/> is the leader seen (a
    /// fault that hit the leader), and with none otherwise.
    /// </summary>
    public FaultEvent LeaseStateFor(ulong target, FaultEvent fault) => Leader == target
        ? fault with { LeaderHeldLease = LeaderHeldLease, LeaderQuiesced = LeaderQuiesced }
        : fault with { LeaderHeldLease = null, LeaderQuiesced = null };
}
