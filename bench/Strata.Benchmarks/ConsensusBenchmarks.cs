using BenchmarkDotNet.Attributes;
using Strata.Consensus;

namespace Strata.Benchmarks;

/// <summary>
/// Steady-state replication throughput of the Raft core alone: a 3-replica group in one thread, every Ready handled
/// at once (append to <see cref="MemoryRaftLog"/>, hand each message to the destination's <see cref="RaftNode.Step"/>,
/// advance), proposing at the leader whenever the group is quiet. One operation = one message stepped, so Mean is the
/// cost of a message including its share of proposing, Ready handling and log appends: 1e9 / Mean = messages per
/// second on one core.
/// </summary>
/// <remarks>
/// <see cref="EntriesPerProposalRound"/> = 1 is the worst case (each append carries one entry); 16 proposals per
/// round show batching. Payload 64 bytes.
/// Run: <c>dotnet run -c Release --project bench/Strata.Benchmarks -- --filter '*ConsensusReplication*'</c>.
/// </remarks>
[MemoryDiagnoser]
public class ConsensusReplicationBenchmarks
{
    private const int MessagesPerInvoke = 16_384;
    private static readonly byte[] Payload = new byte[64];

    private InMemoryGroup _group = null!;

    /// <summary>Proposals made at the leader each time the group is quiet.</summary>
    [Params(1, 16)]
    public int EntriesPerProposalRound { get; set; }

    [GlobalSetup]
    public void Setup() => _group = new InMemoryGroup(3);

    [Benchmark(OperationsPerInvoke = MessagesPerInvoke)]
    public int StepMessages() => _group.PumpMessages(MessagesPerInvoke, EntriesPerProposalRound, Payload);
}

/// <summary>
/// The host's cost of idle groups: 10,000 single-replica groups on one node, elected, caught up and quiesced.
/// <see cref="TickActiveGroups"/> is the host design (tick only groups not quiesced; idle costs nothing);
/// <see cref="ScanAllGroupsSkippingQuiesced"/> is a host that walks every group and skips quiesced ones;
/// <see cref="TickAllGroups"/> is the baseline without quiescence (every group ticked and its Ready checked).
/// Run: <c>dotnet run -c Release --project bench/Strata.Benchmarks -- --filter '*ConsensusQuiescence*'</c>.
/// </summary>
[MemoryDiagnoser]
public class ConsensusQuiescenceBenchmarks
{
    private const int Groups = 10_000;
    private readonly List<RaftNode> _all = [];
    private readonly HashSet<RaftNode> _active = [];

    [GlobalSetup]
    public void Setup()
    {
        for (var g = 1; g <= Groups; g++)
        {
            var log = new MemoryRaftLog(new ConfState { Voters = [1] });
            var node = new RaftNode(new RaftConfig { Id = 1, GroupId = (ulong)g, Storage = log, RandomSeed = (ulong)g });
            node.Campaign();
            InMemoryGroup.Drain(node, log);
            if (!node.Quiesce())
            {
                throw new InvalidOperationException($"group {g} is not idle");
            }

            _all.Add(node);
        }

        // The host's active set holds only groups that are not quiesced: none, once everything is idle.
        _active.UnionWith(_all.Where(n => !n.IsQuiesced));
    }

    [Benchmark]
    public int TickActiveGroups()
    {
        var ticked = 0;
        foreach (var node in _active)
        {
            node.Tick();
            ticked++;
        }

        return ticked;
    }

    [Benchmark]
    public int ScanAllGroupsSkippingQuiesced()
    {
        var ticked = 0;
        foreach (var node in _all)
        {
            if (!node.IsQuiesced)
            {
                node.Tick();
                ticked++;
            }
        }

        return ticked;
    }

    [Benchmark(Baseline = true)]
    public int TickAllGroups()
    {
        var ready = 0;
        foreach (var node in _all)
        {
            node.Tick();
            if (node.HasReady)
            {
                ready++;
            }
        }

        // Ticking a lone leader produces no messages, but un-quiesces it: re-quiesce so every invocation is alike.
        foreach (var node in _all)
        {
            node.Quiesce();
        }

        return ready;
    }

}

/// <summary>A whole group in one thread: every replica's Ready is handled immediately and messages delivered in order.</summary>
internal sealed class InMemoryGroup
{
    private readonly RaftNode[] _nodes;
    private readonly MemoryRaftLog[] _logs;
    private readonly Queue<Message> _inflight = new();

    public InMemoryGroup(int replicas)
    {
        var members = new ConfState { Voters = [.. Enumerable.Range(1, replicas).Select(i => (ulong)i)] };
        _logs = [.. Enumerable.Range(0, replicas).Select(_ => new MemoryRaftLog(members))];
        _nodes = [.. Enumerable.Range(0, replicas).Select(i => new RaftNode(new RaftConfig
        {
            Id = (ulong)(i + 1),
            Storage = _logs[i],
            RandomSeed = (ulong)i,
            MaxInflightMessages = 256,
        }))];
        _nodes[0].Campaign();
        Pump();
        Leader = _nodes[0];
        if (Leader.Role != StateRole.Leader)
        {
            throw new InvalidOperationException("node 1 did not become leader");
        }
    }

    public RaftNode Leader { get; }

    /// <summary>Handles Readies and delivers messages until the group is quiet; returns the number of messages stepped.</summary>
    public int Pump()
    {
        var stepped = 0;
        while (true)
        {
            var any = false;
            for (var i = 0; i < _nodes.Length; i++)
            {
                if (_nodes[i].HasReady)
                {
                    any = true;
                    HandleReady(_nodes[i], _logs[i], _inflight);
                }
            }

            while (_inflight.TryDequeue(out var m))
            {
                any = true;
                _nodes[(int)m.To - 1].Step(m);
                stepped++;
            }

            if (!any)
            {
                return stepped;
            }
        }
    }

    /// <summary>Steps exactly <paramref name="budget"/> messages, proposing a round whenever the group is quiet.</summary>
    public int PumpMessages(int budget, int entriesPerRound, byte[] payload)
    {
        var stepped = 0;
        while (stepped < budget)
        {
            var any = false;
            for (var i = 0; i < _nodes.Length; i++)
            {
                if (_nodes[i].HasReady)
                {
                    any = true;
                    HandleReady(_nodes[i], _logs[i], _inflight);
                }
            }

            while (stepped < budget && _inflight.TryDequeue(out var m))
            {
                any = true;
                _nodes[(int)m.To - 1].Step(m);
                stepped++;
            }

            if (!any)
            {
                for (var e = 0; e < entriesPerRound; e++)
                {
                    Leader.Propose(payload);
                }
            }
        }

        return stepped;
    }

    public static void Drain(RaftNode node, MemoryRaftLog log)
    {
        var sink = new Queue<Message>();
        while (node.HasReady)
        {
            HandleReady(node, log, sink);
        }
    }

    private static void HandleReady(RaftNode node, MemoryRaftLog log, Queue<Message> outbox)
    {
        var rd = node.Ready();
        if (rd.Snapshot is { } snapshot)
        {
            log.ApplySnapshot(snapshot);
        }

        log.Append(rd.Entries);
        if (rd.HardState is { } hs)
        {
            log.SetHardState(hs);
        }

        foreach (var m in rd.Messages)
        {
            outbox.Enqueue(m);
        }

        node.Advance();
        if (log.Count > 4096)
        {
            log.Compact(node.Applied - 64); // keep memory flat: the benchmark measures replication, not a growing log
        }
    }
}
