using Xunit.Abstractions;

namespace Strata.Cluster.Tests;

/// <summary>How far the clients of a run have got (operations finished, whatever their outcome).</summary>
internal interface IOperationProgress
{
    int Completed { get; }
}

internal static class OperationProgress
{
    /// <summary>Waits until <paramref name="target"/> operations finished; false when the clients finished first.</summary>
    public static async Task<bool> WaitForAsync(this IOperationProgress progress, int target, Task clientsDone)
    {
        while (progress.Completed < target)
        {
            if (clientsDone.IsCompleted)
            {
                return false;
            }

            await Task.Delay(5);
        }

        return true;
    }
}

/// <summary>Faults injected between client operations, paced by how many operations finished.</summary>
internal interface IFaultSchedule
{
    /// <summary>What was injected, in order.</summary>
    List<string> Log { get; }

    /// <summary>Injects faults, one every <paramref name="every"/> finished operations, until the clients are done;
    /// returns how many.</summary>
    Task<int> RunAsync(int every);

    /// <summary>Undoes what is still in effect and waits until the cluster serves.</summary>
    Task HealAndRestartAsync();
}

/// <summary>
/// Injects faults into a running <see cref="TestCluster"/> between client operations: once <c>every</c> more
/// operations have finished (fault k is due at k times <c>every</c>), the next fault in the cycle hits the shard's current leader — kill it (power cut) and restart it once
/// a new leader serves; isolate it from every other node and heal once a new leader serves; or ask it to hand
/// leadership to another node. Faults are paced by operation counts, not durations; the choice of transfer target
/// comes from the seeded <see cref="Random"/>.
/// </summary>
internal sealed class FaultSchedule(TestCluster cluster, ulong shard, Random random, IOperationProgress progress, Task clientsDone,
    ITestOutputHelper output) : IFaultSchedule
{
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    /// <summary>What was injected, in order (printed with the seed).</summary>
    public List<string> Log { get; } = [];

    /// <summary>Injects faults until the clients are done; returns how many.</summary>
    public async Task<int> RunAsync(int every)
    {
        every = Math.Max(1, every);
        int injected = 0;
        for (int fault = 0; ; fault++)
        {
            // Absolute thresholds: a slow fault (an election under load) does not push the later ones back.
            if (!await WaitForProgressAsync((fault + 1) * every))
            {
                return injected;
            }

            ulong leader = await cluster.LeaderAsync(shard);
            output.WriteLine($"fault {fault}: leader {leader} ({progress.Completed} operations, {_clock.ElapsedMilliseconds} ms)");
            switch (fault % 3)
            {
                case 0:
                    await cluster.KillAsync(leader);
                    ulong successor = await cluster.NewLeaderAsync(shard, leader);
                    Record($"killed leader {leader}, {successor} took over");
                    await WaitForProgressAsync(progress.Completed + Math.Max(1, every / 2));
                    cluster.Start(leader);
                    Record($"restarted {leader}");
                    break;
                case 1:
                    cluster.Network.Isolate(leader, cluster.MemberIds);
                    ulong majorityLeader = await cluster.NewLeaderAsync(shard, leader);
                    Record($"isolated leader {leader}, {majorityLeader} took over");
                    await WaitForProgressAsync(progress.Completed + Math.Max(1, every / 2));
                    cluster.Network.HealAll();
                    Record("healed");
                    break;
                default:
                    ulong[] others = [.. cluster.Nodes.Keys.Where(id => id != leader).Order()];
                    ulong target = others[random.Next(others.Length)];
                    await cluster[leader].TransferLeadershipAsync(shard, target);
                    bool moved = await TestCluster.WaitUntilAsync(() => cluster.Nodes.TryGetValue(target, out ClusterNode? t) && t.LeaderOf(shard) == target,
                        TimeSpan.FromSeconds(3));
                    Record($"asked {leader} to hand leadership to {target}: {(moved ? "moved" : "did not move")}");
                    break;
            }

            injected++;
        }
    }

    /// <summary>Heals the network and restarts any node still down, then waits for the cluster to serve.</summary>
    public async Task HealAndRestartAsync()
    {
        cluster.Network.HealAll();
        foreach (ulong id in cluster.MemberIds.Where(id => !cluster.Nodes.ContainsKey(id)).ToList())
        {
            cluster.Start(id);
        }

        await cluster.WaitReadyAsync();
    }

    private void Record(string what)
    {
        lock (Log)
        {
            Log.Add(what);
        }

        output.WriteLine($"fault: {what} (after {progress.Completed} operations, {_clock.ElapsedMilliseconds} ms)");
    }

    private Task<bool> WaitForProgressAsync(int target) => progress.WaitForAsync(target, clientsDone);
}
