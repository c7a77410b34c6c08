using Strata.Consensus;
using Strata.Storage;

namespace Strata.Replication.Tests;

/// <summary>
/// Three (or more) stores in one process over an <see cref="InMemoryNetwork"/>, each with its own in-memory engine,
/// stepped in turn by the test (no timers). Checks on every step that no node sent more than one frame to any other
/// (more only when the step's messages exceed the frame budget).
/// </summary>
internal sealed class StoreCluster : IDisposable
{
    private readonly Dictionary<ulong, IKvEngine> _engines = [];

    public StoreCluster(int nodes, int groups, Func<ulong, StoreOptions, StoreOptions>? configure = null,
        Func<ulong, IKvEngine>? engineFor = null)
    {
        NodeIds = [.. Enumerable.Range(1, nodes).Select(i => (ulong)i)];
        GroupIds = [.. Enumerable.Range(1, groups).Select(g => (ulong)(100 + g))];
        Configure = configure ?? ((_, o) => o);
        foreach (var id in NodeIds)
        {
            _engines[id] = engineFor?.Invoke(id) ?? new InMemoryKvEngine();
            StartNode(id);
            var members = new ConfState { Voters = NodeIds };
            Stores[id].CreateGroups(GroupIds.Select(g => (g, (ConfState?)members)));
        }
    }

    public ulong[] NodeIds { get; }

    public ulong[] GroupIds { get; }

    public InMemoryNetwork Network { get; } = new();

    public Dictionary<ulong, Store> Stores { get; } = [];

    public Dictionary<ulong, RecordingStateMachine> Machines { get; } = [];

    public HashSet<ulong> Down { get; } = [];

    private Func<ulong, StoreOptions, StoreOptions> Configure { get; }

    public IKvEngine Engine(ulong node) => _engines[node];

    public Store this[ulong node] => Stores[node];

    /// <summary>Starts (or restarts) a node; with <paramref name="keepStateMachine"/> its state machine survived the
    /// crash (a durable one, whose applied index is persisted with its changes).</summary>
    public void StartNode(ulong id, bool keepStateMachine = false)
    {
        if (!keepStateMachine || !Machines.ContainsKey(id))
        {
            Machines[id] = new RecordingStateMachine();
        }

        var options = Configure(id, new StoreOptions
        {
            NodeId = id,
            Peers = [.. NodeIds.Where(n => n != id)],
            RandomSeed = 1000 + id,
        });
        Stores[id] = new Store(options, _engines[id], Network.Endpoint(id), Machines[id]);
        Down.Remove(id);
        Network.Up(id);
    }

    /// <summary>The process of <paramref name="id"/> dies: unsynced writes are lost, the store is discarded.</summary>
    public void Crash(ulong id, int survivingUnsyncedBatches = 0)
    {
        Network.Down(id);
        Down.Add(id);
        Stores[id].Dispose();
        Stores.Remove(id);
        switch (_engines[id])
        {
            case InMemoryKvEngine memory:
                memory.SimulateCrash(survivingUnsyncedBatches);
                break;
            case RocksDbEngine rocks:
                // Every write of the store is synced, so closing and reopening loses exactly what a crash would.
                rocks.Dispose();
                _engines[id] = RocksDbEngine.Open(rocks.Directory);
                break;
        }
    }

    /// <summary>Steps every live node once, in order, and checks the one-frame-per-destination rule.</summary>
    public void Step()
    {
        foreach (var id in NodeIds)
        {
            if (!Down.Contains(id))
            {
                StepNode(id);
            }
        }
    }

    /// <summary>
    /// Steps one node and checks that it sent at most one frame to each other node, unless what it sent there exceeds
    /// its frame budget (<see cref="StoreOptions.MaxFrameBytes"/>) and so had to be split.
    /// </summary>
    public void StepNode(ulong id)
    {
        var before = NodeIds.Select(to => (Frames: Network.FramesSent(id, to), Bytes: Network.BytesSent(id, to))).ToArray();
        Stores[id].Step();
        for (var i = 0; i < NodeIds.Length; i++)
        {
            var frames = Network.FramesSent(id, NodeIds[i]) - before[i].Frames;
            var bytes = Network.BytesSent(id, NodeIds[i]) - before[i].Bytes;
            Assert.True(frames <= 1 || bytes > Stores[id].Options.MaxFrameBytes,
                $"node {id} sent {frames} frames ({bytes} bytes) to {NodeIds[i]} in a step, within one frame's budget");
        }
    }

    public void Run(int steps)
    {
        for (var i = 0; i < steps; i++)
        {
            Step();
        }
    }

    /// <summary>Steps until <paramref name="condition"/> holds; fails after <paramref name="maxSteps"/>.</summary>
    public int RunUntil(Func<bool> condition, int maxSteps, string what)
    {
        for (var i = 0; i < maxSteps; i++)
        {
            if (condition())
            {
                return i;
            }

            Step();
        }

        Assert.True(condition(), $"not reached after {maxSteps} steps: {what}");
        return maxSteps;
    }

    /// <summary>The node whose replica of <paramref name="group"/> leads, if every live replica agrees on one.</summary>
    public ulong? LeaderOf(ulong group)
    {
        var leaders = NodeIds.Where(n => !Down.Contains(n) && Stores[n].Find(group)!.Role == StateRole.Leader).ToList();
        return leaders.Count == 1 ? leaders[0] : null;
    }

    public bool AllGroupsHaveLeaders() => GroupIds.All(g => LeaderOf(g) is not null);

    public void Dispose()
    {
        foreach (var store in Stores.Values)
        {
            store.Dispose();
        }

        foreach (var engine in _engines.Values)
        {
            engine.Dispose();
        }
    }
}
