using System.Text;

namespace Strata.Consensus.Tests;

/// <summary>
/// A tiny synchronous cluster for scenario tests: every node's Ready is handled immediately (persist, send, apply,
/// advance) and messages are delivered in FIFO order by <see cref="Stabilize"/>, unless a link is cut.
/// </summary>
internal sealed class TestCluster
{
    private readonly Func<ulong, RaftConfig, RaftConfig> _configure;
    private readonly Queue<Message> _network = new();
    private readonly HashSet<(ulong From, ulong To)> _cut = [];

    public TestCluster(int voters, Func<ulong, RaftConfig, RaftConfig>? configure = null)
    {
        _configure = configure ?? ((_, c) => c);
        var members = new ConfState { Voters = [.. Enumerable.Range(1, voters).Select(i => (ulong)i)] };
        foreach (var id in members.Voters)
        {
            Start(id, new MemoryRaftLog(members));
        }
    }

    public Dictionary<ulong, RaftNode> Nodes { get; } = [];

    public Dictionary<ulong, MemoryRaftLog> Logs { get; } = [];

    /// <summary>Payloads applied by each node, in order (the "state machine").</summary>
    public Dictionary<ulong, List<string>> Applied { get; } = [];

    public Dictionary<ulong, List<ReadState>> Reads { get; } = [];

    /// <summary>Every message delivered, for assertions on traffic.</summary>
    public List<Message> Delivered { get; } = [];

    /// <summary>Optional extra filter: return false to drop a message.</summary>
    public Func<Message, bool>? Filter { get; set; }

    public RaftNode this[ulong id] => Nodes[id];

    public RaftNode Leader => Nodes.Values.Single(n => n.Role == StateRole.Leader);

    public void Start(ulong id, MemoryRaftLog log, ulong applied = 0, List<string>? state = null)
    {
        Logs[id] = log;
        Applied[id] = state ?? [];
        Reads[id] = [];
        Nodes[id] = new RaftNode(_configure(id, new RaftConfig
        {
            Id = id,
            Storage = log,
            Applied = applied,
            ElectionTick = 10,
            HeartbeatTick = 1,
            RandomSeed = 42,
        }));
    }

    /// <summary>Loses the node's memory; the durable log stays. Restarts from its last snapshot.</summary>
    public void Restart(ulong id)
    {
        var log = Logs[id];
        var snap = log.Snapshot();
        Start(id, log, snap.Index, Decode(snap.Data));
    }

    public void Isolate(ulong id)
    {
        foreach (var other in Nodes.Keys.Where(o => o != id))
        {
            Cut(id, other);
        }
    }

    public void Cut(ulong a, ulong b)
    {
        _cut.Add((a, b));
        _cut.Add((b, a));
    }

    public void Heal() => _cut.Clear();

    public void Tick(ulong id, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            Nodes[id].Tick();
            Stabilize();
        }
    }

    public void TickAll(int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            foreach (var n in Nodes.Values)
            {
                n.Tick();
            }

            Stabilize();
        }
    }

    /// <summary>Makes <paramref name="id"/> campaign and runs the cluster until quiet.</summary>
    public void Elect(ulong id)
    {
        Nodes[id].Campaign();
        Stabilize();
    }

    public ProposalOutcome Propose(ulong id, string data)
    {
        var outcome = Nodes[id].Propose(Encoding.UTF8.GetBytes(data));
        Stabilize();
        return outcome;
    }

    /// <summary>Handles every Ready and delivers every message until nothing is left.</summary>
    public void Stabilize(int maxRounds = 10_000)
    {
        for (var round = 0; round < maxRounds; round++)
        {
            var progressed = false;
            foreach (var (id, node) in Nodes.ToList())
            {
                while (node.HasReady)
                {
                    HandleReady(id, node);
                    progressed = true;
                }
            }

            while (_network.TryDequeue(out var m))
            {
                progressed = true;
                if (_cut.Contains((m.From, m.To)) || !Nodes.TryGetValue(m.To, out var target) || Filter?.Invoke(m) == false)
                {
                    continue;
                }

                Delivered.Add(m);
                target.Step(m);
            }

            if (!progressed)
            {
                return;
            }
        }

        throw new InvalidOperationException("cluster did not stabilize");
    }

    /// <summary>Snapshots node <paramref name="id"/>'s state machine at its applied index and compacts its log.</summary>
    public void Compact(ulong id)
    {
        var node = Nodes[id];
        var log = Logs[id];
        log.CreateSnapshot(node.Applied, node.ConfState, Encode(Applied[id]));
        log.Compact(node.Applied);
    }

    private void HandleReady(ulong id, RaftNode node)
    {
        var rd = node.Ready();
        var log = Logs[id];
        if (rd.Snapshot is { } snap)
        {
            log.ApplySnapshot(snap);
            Applied[id] = Decode(snap.Data);
        }

        log.Append(rd.Entries);
        if (rd.HardState is { } hs)
        {
            log.SetHardState(hs);
        }

        foreach (var m in rd.Messages)
        {
            _network.Enqueue(m);
        }

        foreach (var e in rd.CommittedEntries)
        {
            if (e.Type == EntryType.Normal && !e.Data.IsEmpty)
            {
                Applied[id].Add(Encoding.UTF8.GetString(e.Data.Span));
            }
        }

        Reads[id].AddRange(rd.ReadStates);
        node.Advance();
    }

    private static byte[] Encode(List<string> state) => Encoding.UTF8.GetBytes(string.Join('\n', state));

    private static List<string> Decode(ReadOnlyMemory<byte> data) =>
        data.IsEmpty ? [] : [.. Encoding.UTF8.GetString(data.Span).Split('\n')];
}
