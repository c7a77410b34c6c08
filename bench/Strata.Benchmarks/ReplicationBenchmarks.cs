using BenchmarkDotNet.Attributes;
using Strata.Consensus;
using Strata.Replication;
using Strata.Storage;

namespace Strata.Benchmarks;

/// <summary>
/// The per-tick cost of a replication host (<see cref="Store"/>) with many groups: three stores over the in-memory
/// network and in-memory engines, each hosting a replica of every group (node 1 leads all of them). One operation is
/// one <see cref="Store.Step"/> of one store (the three are stepped in turn, so every step also receives the peers'
/// frames): Mean is the cost of one tick on one node.
/// </summary>
/// <remarks>
/// <see cref="TickIdle"/>: every group quiesced — the step receives the peers' liveness beats, sends its own, and ticks
/// nothing; the target is microseconds and zero allocation whatever the number of groups.
/// <see cref="TickOneActive"/>: one group gets a 64-byte proposal every tick (replicated, fsync'd on the in-memory
/// engine, applied) while the other groups stay quiesced; compare <see cref="Groups"/> = 1 with 10,000 to see that idle
/// groups add nothing.
/// Run: <c>dotnet run -c Release --project bench/Strata.Benchmarks -- --filter '*ReplicationHost*'</c>.
/// </remarks>
[MemoryDiagnoser]
public class ReplicationHostBenchmarks
{
    private static readonly ulong[] Nodes = [1, 2, 3];
    private static readonly byte[] Payload = new byte[64];
    private readonly Dictionary<ulong, Store> _stores = [];
    private readonly List<IDisposable> _owned = [];

    /// <summary>Groups hosted by every node.</summary>
    [Params(1, 10_000)]
    public int Groups { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var network = new InMemoryNetwork();
        var members = new ConfState { Voters = Nodes };
        foreach (var id in Nodes)
        {
            var engine = new InMemoryKvEngine();
            var store = new Store(new StoreOptions { NodeId = id, Peers = [.. Nodes.Where(n => n != id)], RandomSeed = id },
                engine, network.Endpoint(id), new DiscardingStateMachine());
            store.CreateGroups(Enumerable.Range(1, Groups).Select(g => ((ulong)g, (ConfState?)members)));
            _stores[id] = store;
            _owned.Add(store);
            _owned.Add(engine);
        }

        for (var g = 1; g <= Groups; g++)
        {
            _stores[1].Campaign((ulong)g);
        }

        for (var i = 0; i < 200 && _stores.Values.Any(s => s.AwakeCount > 0); i++)
        {
            StepAll();
        }

        if (_stores.Values.Any(s => s.AwakeCount > 0) || _stores[1].Replicas.Any(r => r.Role != StateRole.Leader))
        {
            throw new InvalidOperationException("the groups did not elect node 1 and quiesce");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _owned.ForEach(d => d.Dispose());

    [Benchmark(OperationsPerInvoke = 3)]
    public int TickIdle() => StepAll();

    [Benchmark(OperationsPerInvoke = 3)]
    public int TickOneActive()
    {
        if (_stores[1].Propose(1, Payload) != ProposalOutcome.Appended)
        {
            throw new InvalidOperationException("group 1 lost its leader");
        }

        return StepAll();
    }

    private int StepAll()
    {
        var awake = 0;
        foreach (var id in Nodes)
        {
            awake += _stores[id].Step().AwakeGroups;
        }

        return awake;
    }

    /// <summary>Applies nothing: the benchmark measures the host, not a state machine.</summary>
    private sealed class DiscardingStateMachine : IReplicatedStateMachine
    {
        private readonly Dictionary<ulong, ulong> _applied = [];

        public ulong AppliedIndex(ulong groupId) => _applied.GetValueOrDefault(groupId);

        public void Apply(ulong groupId, IReadOnlyList<Entry> entries) => _applied[groupId] = entries[^1].Index;

        public ReadOnlyMemory<byte> TakeSnapshot(ulong groupId) => ReadOnlyMemory<byte>.Empty;

        public void Restore(ulong groupId, Snapshot snapshot) => _applied[groupId] = snapshot.Index;
    }
}

/// <summary>
/// Group commit of the durable Raft log on RocksDB: one <see cref="RaftLogWriter.Flush"/> (one batch, one fsync) that
/// appends one 64-byte entry and a hard state to each of <see cref="GroupsPerFlush"/> groups. Mean is the cost of a
/// whole flush; divide by the group count for the amortized cost per group (the point of group commit).
/// Run: <c>dotnet run -c Release --project bench/Strata.Benchmarks -- --filter '*ReplicationLogWrite*'</c>.
/// </summary>
[MemoryDiagnoser]
public class ReplicationLogWriteBenchmarks
{
    private static readonly byte[] Payload = new byte[64];
    private readonly List<DurableRaftLog> _logs = [];
    private string _directory = "";
    private RocksDbEngine _engine = null!;
    private RaftLogWriter _writer = null!;
    private ulong _next = 2;

    /// <summary>Groups written by each flush.</summary>
    [Params(1, 16, 256)]
    public int GroupsPerFlush { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "strata-bench-raftlog-" + Path.GetRandomFileName());
        _engine = RocksDbEngine.Open(_directory);
        _writer = new RaftLogWriter(_engine);
        var members = new ConfState { Voters = [1, 2, 3] };
        for (var g = 1; g <= GroupsPerFlush; g++)
        {
            _logs.Add(DurableRaftLog.Create(_writer, (ulong)g, members));
        }

        _writer.Flush();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _writer.Dispose();
        _engine.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public int FlushOneEntryPerGroup()
    {
        var index = _next++;
        var ready = new Ready
        {
            Entries = [new Entry(index, 2, EntryType.Normal, Payload)],
            HardState = new HardState(2, 1, index - 1),
            MustSync = true,
        };
        foreach (var log in _logs)
        {
            _writer.StageReady(log, ready);
        }

        return _writer.Flush();
    }
}
