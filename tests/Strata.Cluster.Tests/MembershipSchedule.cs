using Strata.Cluster.Meta;
using Xunit.Abstractions;

namespace Strata.Cluster.Tests;

/// <summary>
/// Changes the membership of a running <see cref="TestCluster"/> between client operations: once <c>every</c> more
/// operations have finished, the next change in the cycle — a new node joins; the shard's current leader is
/// decommissioned (it hands leadership over and its replica moves to the newcomer by joint consensus); another node
/// joins; a follower of the shard is decommissioned; and, every other round, the shard's leader is killed and
/// restarted in the middle of a move. Each change is followed until the cluster has settled (no move in flight or
/// left to plan), so the clients run through every phase of a move: learner, catch-up, joint configuration, removal.
/// </summary>
internal sealed class MembershipSchedule(TestCluster cluster, ulong shard, IOperationProgress progress, Task clientsDone,
    ITestOutputHelper output) : IFaultSchedule
{
    private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(60);
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private ulong _nextId = (ulong)cluster.Members.Count + 1;

    public List<string> Log { get; } = [];

    public async Task<int> RunAsync(int every)
    {
        every = Math.Max(1, every);
        int injected = 0;
        for (int change = 0; ; change++)
        {
            if (!await WaitForProgressAsync((change + 1) * every))
            {
                return injected;
            }

            switch (change % 4)
            {
                case 0:
                case 2:
                    ulong joining = _nextId++;
                    await cluster.JoinAsync(joining);
                    Record($"node {joining} joined");
                    break;
                case 1:
                    ulong leader = await cluster.LeaderAsync(shard);
                    await cluster.DecommissionAsync(leader);
                    Record($"decommissioning leader {leader}");
                    if (change % 8 == 1)
                    {
                        // A crash in the middle of the move: the plan is in the meta shard, the next leader carries on.
                        await Task.Delay(30);
                        ulong current = await cluster.LeaderAsync(shard);
                        await cluster.KillAsync(current);
                        await cluster.NewLeaderAsync(shard, current);
                        cluster.Start(current);
                        Record($"killed and restarted {current} during the move");
                    }

                    break;
                default:
                    ulong active = ActiveReplicas().FirstOrDefault(id => id != cluster.Running.First().LeaderOf(shard));
                    if (active == 0)
                    {
                        continue;
                    }

                    await cluster.DecommissionAsync(active);
                    Record($"decommissioning follower {active}");
                    break;
            }

            bool settled = await TestCluster.WaitUntilAsync(Settled, SettleLimit);
            Record(settled ? "settled: " + Layout() : "did not settle: " + Layout());
            Assert.True(settled, $"the cluster did not settle after membership change {change}: {Layout()}");
            injected++;
        }
    }

    public async Task HealAndRestartAsync()
    {
        foreach (ulong id in cluster.MemberIds.Where(id => !cluster.Nodes.ContainsKey(id)).ToList())
        {
            cluster.Start(id);
        }

        Assert.True(await TestCluster.WaitUntilAsync(Settled, SettleLimit), $"the cluster did not settle: {Layout()}");
    }

    private IEnumerable<ulong> ActiveReplicas()
    {
        ShardMap map = cluster.Running.First(n => n.Map.FindNode(n.NodeId)?.State == NodeState.Active).Map;
        return map.FindShard(shard)!.Replicas.Where(id => map.FindNode(id)?.State == NodeState.Active && cluster.Nodes.ContainsKey(id));
    }

    private bool Settled()
    {
        // A decommissioned node's map stops where it learned it was decommissioned.
        ShardMap[] maps = [.. cluster.Running.Where(n => n.Map.FindNode(n.NodeId)?.State != NodeState.Decommissioned).Select(n => n.Map)];
        return maps.All(m => m.Moves.Count == 0 && ClusterNode.PlanMove(m) is null
                && m.Nodes.All(n => n.State != NodeState.Decommissioning))
            && maps.Select(m => string.Join(",", m.Shards.Select(s => s.Generation))).Distinct().Count() == 1;
    }

    private string Layout()
    {
        ShardMap map = cluster.Running.MaxBy(n => n.Map.Shards.Sum(s => (long)s.Generation) + n.Map.Nodes.Count)!.Map;
        return string.Join(" ", map.Shards.Select(s => $"shard {s.ShardId}@{s.Generation}=[{string.Join(",", s.Replicas)}]"))
            + " nodes " + string.Join(",", map.Nodes.Select(n => $"{n.Id}:{n.State.Describe()}"))
            + " meta replicas: " + string.Join("; ", cluster.Running.Select(n =>
            {
                ReplicaStatus meta = n.StatusAsync(CancellationToken.None).GetAwaiter().GetResult().Replicas.First(r => r.ShardId == MetaShard.Id);
                return $"{n.NodeId} {meta.Role} leader {meta.Leader} t{meta.Term} c{meta.Committed} a{meta.Applied} voters [{string.Join(",", meta.Voters)}] match [{string.Join(",", meta.FollowerMatch.Select(p => $"{p.Key}:{p.Value}"))}]";
            }));
    }

    private void Record(string what)
    {
        lock (Log)
        {
            Log.Add(what);
        }

        output.WriteLine($"membership: {what} (after {progress.Completed} operations, {_clock.ElapsedMilliseconds} ms)");
    }

    private Task<bool> WaitForProgressAsync(int target) => progress.WaitForAsync(target, clientsDone);
}
