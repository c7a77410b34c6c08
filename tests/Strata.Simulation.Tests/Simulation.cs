using Strata.Consensus;

namespace Strata.Simulation.Tests;

/// <summary>
/// A deterministic, single-threaded simulation of N nodes hosting G Raft groups, with a faulty network, crashing
/// disks, drifting clocks, pauses, membership changes and leader transfers, checked after every event.
/// </summary>
/// <remarks>Everything derives from the seed: the same seed always produces the same trace (<see cref="TraceHash"/>).</remarks>
internal sealed partial class Simulation
{
    private readonly PriorityQueue<Action, (long Time, long Seq)> _events = new();
    private readonly SortedDictionary<ulong, SimNode> _nodes = [];
    private readonly List<SimClient> _clients = [];
    private readonly HashSet<(ulong From, ulong To)> _blocked = [];
    private long _seq;
    private ulong _trace = 14695981039346656037UL;
    private long _eventCount;

    public Simulation(ulong seed, SimulationOptions? options = null)
    {
        Seed = seed;
        Rng = new SimRandom(seed);
        Options = options ?? SimulationOptions.FromSeed(Rng);
        var all = Enumerable.Range(1, Options.Nodes).Select(i => (ulong)i).ToArray();
        foreach (var id in all)
        {
            var rate = 1.0 + (((Rng.NextDouble() * 2) - 1) * Options.MaxDrift);
            var node = new SimNode(id, rate, (long)Math.Round(Options.TickUnits / rate));
            _nodes[id] = node;
        }

        for (ulong g = 1; g <= (ulong)Options.Groups; g++)
        {
            var voters = all.OrderBy(_ => Rng.NextUInt64()).Take(3).Order().ToArray();
            var members = new ConfState { Voters = voters };
            foreach (var v in voters)
            {
                // Founding members start from a bootstrap snapshot at index 1 (see MemoryRaftLog), so replicas
                // added later learn the founding membership from a snapshot.
                _nodes[v].Disks[g] = new MemoryRaftLog(members);
            }

            for (var c = 0; c < Options.ClientsPerGroup; c++)
            {
                _clients.Add(new SimClient(_clients.Count + 1, g));
            }
        }

        foreach (var node in _nodes.Values)
        {
            StartNode(node, firstStart: true);
        }

        foreach (var client in _clients)
        {
            Schedule(Rng.Range(0, 20 * Options.TickUnits), 50, (ulong)client.Id, 0, () => StartOp(client));
        }
    }

    public ulong Seed { get; }

    /// <summary>When set (single-seed replays), a readable log of client traffic.</summary>
    public List<string>? Debug { get; set; }

    private void Log(Func<string> what) => Debug?.Add($"t={Now}: {what()}"); // formats only when tracing

    public SimulationOptions Options { get; }

    public SimRandom Rng { get; }

    public long Now { get; private set; }

    public ulong TraceHash => _trace;

    public long EventCount => _eventCount;

    /// <summary>The first invariant violation, if any (the run stops there).</summary>
    public string? Violation { get; private set; }

    public string Replay =>
        $"STRATA_SIM_SEED={Seed} dotnet test tests/Strata.Simulation.Tests --filter FullyQualifiedName~SimulationTests.Seeds";

    /// <summary>Runs the fault phase, heals everything, runs the quiet phase. Returns false on a violation.</summary>
    public bool Run()
    {
        var faultEnd = Options.FaultTicks * Options.TickUnits;
        var end = faultEnd + (Options.QuietTicks * Options.TickUnits);
        ScheduleFaults(faultEnd);
        Schedule(faultEnd, 90, 0, 0, HealEverything);
        Schedule(end - (Options.QuietTicks / 2 * Options.TickUnits), 91, 0, 0, () => _livenessWindowStart = Now);
        while (Violation is null && _events.TryDequeue(out var action, out var key))
        {
            if (key.Time > end)
            {
                break;
            }

            Now = key.Time;
            _eventCount++;
            action();
            if (Violation is null)
            {
                CheckInvariants();
            }
        }

        // Operations still in flight when the run stops have unknown outcomes (writes among them may have applied).
        foreach (var client in _clients)
        {
            if (client.Op is { Done: false } op)
            {
                op.Done = true;
                Record(client, op, default, Strata.Linearizability.Operation<Strata.Linearizability.Models.CasRegisterInput, Strata.Linearizability.Models.CasRegisterOutput>.UnknownReturn);
            }
        }

        if (Violation is null)
        {
            CheckLogMatching();
            CheckLiveness();
        }

        return Violation is null;
    }

    /// <summary>A readable end state: options, per-replica role/term/indexes/membership, fault log.</summary>
    public string Summary()
    {
        var lines = new List<string> { $"seed {Seed}: {Options}", $"ops ok={CompletedOps} indeterminate={IndeterminateOps} lease-reads={LeaseReads} lease-intervals={LeaseIntervals} events={EventCount}" };
        foreach (var node in _nodes.Values)
        {
            foreach (var r in node.Replicas.Values)
            {
                lines.Add($"  n{node.Id} g{r.Group} {r.Raft.Role} term={r.Raft.Term} leader={r.Raft.Leader} commit={r.Raft.Committed} applied={r.Raft.Applied} last={r.Raft.LastIndex} first={r.Disk.FirstIndex} conf={r.Raft.ConfState} rate={node.Rate:F3}");
                if (r.Raft.Role == StateRole.Leader)
                {
                    foreach (var id in _nodes.Keys)
                    {
                        if (r.Raft.ProgressOf(id) is { } pr)
                        {
                            lines.Add($"      progress {id}: {pr}");
                        }
                    }
                }
            }
        }

        foreach (var c in _clients)
        {
            lines.Add($"  client {c.Id} g{c.Group} target={c.Target} op={c.Op?.Command} attempt={c.Op?.Attempt} done={c.Op?.Done} call={c.Op?.Call}");
        }

        lines.AddRange(FaultLog);
        return string.Join('\n', lines);
    }

    private void Schedule(long at, int kind, ulong a, ulong b, Action action)
    {
        var seq = ++_seq;
        _events.Enqueue(
            () =>
            {
                Mix((ulong)Now);
                Mix((ulong)kind);
                Mix(a);
                Mix(b);
                action();
            },
            (at, seq));
    }

    private void Mix(ulong value)
    {
        _trace ^= value;
        _trace *= 1099511628211UL;
    }

    /// <summary>Runs <paramref name="action"/> on <paramref name="node"/> now, later if it is paused, never if it is down.</summary>
    private void OnNode(SimNode node, int incarnation, Action action)
    {
        if (!node.Up || node.Incarnation != incarnation)
        {
            return;
        }

        if (node.IsPaused(Now))
        {
            Schedule(Math.Max(node.PausedUntil, Now), 60, node.Id, 0, () => OnNode(node, incarnation, action));
            return;
        }

        action();
    }

    private void Fail(string what)
    {
        Violation ??= $"seed {Seed} at t={Now} (event {_eventCount}): {what}\n  replay: {Replay}";
    }
}
