using Strata.Cluster.Meta;
using Strata.Namespace.Commands;
using Xunit.Abstractions;

namespace Strata.Cluster.Tests;

/// <summary>
/// Nodes join and leave a running in-process cluster: replicas move by learner, catch-up and joint consensus, the map
/// follows, and no acknowledged write is lost on the way.
/// </summary>
public sealed class MembershipTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AJoinedNodeGetsTheMapAndItsShareOfReplicas()
    {
        await using var cluster = new TestCluster(nodes: 3, shards: 4);
        await cluster.WaitReadyAsync();
        Dictionary<string, ulong> buckets = OneBucketPerShard(cluster);
        Dictionary<string, List<string>> written = await WriteObjectsAsync(cluster, buckets, perBucket: 15);

        await cluster.JoinAsync(4);
        Assert.True(await TestCluster.WaitUntilAsync(() => Settled(cluster) && cluster[4].Map.Nodes.Count == 4, Settle),
            $"the cluster did not settle after the join: {Describe(cluster)}");

        ShardMap map = cluster[4].Map;
        output.WriteLine(Describe(cluster));
        // 4 shards x 3 replicas over 4 nodes: three each, node 4's taken from the fullest nodes by three moves.
        foreach (NodeRecord node in map.Nodes)
        {
            Assert.Equal(3, map.Shards.Count(s => s.Replicas.Contains(node.Id)));
        }

        Assert.Equal(3, cluster.Running.Sum(n => n.RemovedReplicas));
        Assert.Equal(3, map.Shards.Count(s => s.Generation > 1));
        foreach (ClusterNode node in cluster.Running)
        {
            ulong[] assigned = [MetaShard.Id, .. map.Shards.Where(s => s.Replicas.Contains(node.NodeId)).Select(s => s.ShardId).Order()];
            Assert.Equal(assigned, node.HostedShards);
        }

        // Node 4 serves what it took over (reads through its own replica), with everything written before the join.
        foreach ((string bucket, ulong shard) in buckets.Where(b => map.FindShard(b.Value)!.Replicas.Contains(4UL)))
        {
            IReadOnlyList<(string Path, ulong Size, ulong Generation)> listed =
                await TestCluster.RetryUnavailableAsync(() => TestCluster.ListAsync(cluster[4], shard, bucket));
            Assert.Equal(written[bucket].Order(StringComparer.Ordinal), listed.Select(o => o.Path).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task ADecommissionedLeaderHandsOverAndNoAcknowledgedWriteIsLost()
    {
        await using var cluster = new TestCluster(nodes: 4, shards: 3);
        await cluster.WaitReadyAsync();
        Dictionary<string, ulong> buckets = OneBucketPerShard(cluster);
        await WriteObjectsAsync(cluster, buckets, perBucket: 1);
        (string bucket, ulong shard) = buckets.First();
        ulong leaving = await cluster.LeaderAsync(shard);
        Assert.Contains(leaving, cluster[leaving].Map.FindShard(shard)!.Replicas);
        int held = cluster[leaving].HostedShards.Count - 1;

        // A writer keeps going through the nodes that stay while the leader is drained.
        using var stop = new CancellationTokenSource();
        var acknowledged = new List<string>();
        var failures = new List<string>();
        int ackedCount = 0;
        Task writer = Task.Run(async () =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                string path = $"during/{i:D5}";
                ClusterNode via = cluster.Running.Where(n => n.NodeId != leaving).ElementAt(i % 3);
                try
                {
                    CommandResult result = await via.ProposeAsync(shard, TestCluster.Put(bucket, path, (ulong)i));
                    Assert.Equal(ResultCode.ResultOk, result.Code);
                    acknowledged.Add(path);
                    Interlocked.Increment(ref ackedCount);
                }
                catch (Exception e) when (CallOutcome.NothingDone(e) || CallOutcome.Unknown(e))
                {
                    lock (failures)
                    {
                        failures.Add($"{via.NodeId}: {e.GetType().Name}: {e.Message}");
                    }

                    await Task.Delay(5);
                }
            }
        });

        // Writes straddle the drain: some before it starts, the rest while it runs and just after.
        Assert.True(await TestCluster.WaitUntilAsync(() => Volatile.Read(ref ackedCount) >= 5, Settle), "the writer got nothing through");
        await cluster.DecommissionAsync(leaving);
        bool drained = await TestCluster.WaitUntilAsync(
            () => cluster.Running.Where(n => n.NodeId != leaving).All(n => n.Map.FindNode(leaving)?.State == NodeState.Decommissioned) && Settled(cluster),
            Settle);
        bool enough = await TestCluster.WaitUntilAsync(() => Volatile.Read(ref ackedCount) >= 40, Settle);
        await stop.CancelAsync();
        await writer;
        Assert.True(drained, $"node {leaving} was not drained: {Describe(cluster)}");
        Assert.True(enough, $"only {acknowledged.Count} writes were acknowledged; failures: {string.Join(" | ", failures.Distinct().Take(10))}");
        output.WriteLine($"{acknowledged.Count} writes acknowledged around the drain; {Describe(cluster)}");

        ShardMap map = cluster.Running.First(n => n.NodeId != leaving).Map;
        Assert.All(map.Shards, s => Assert.DoesNotContain(leaving, s.Replicas));
        Assert.All(map.Shards, s => Assert.Equal(3, s.Replicas.Count));
        Assert.Equal([MetaShard.Id], cluster[leaving].HostedShards);
        Assert.Equal(held, cluster[leaving].RemovedReplicas);

        // The leaving node is gone for good: stop it; the three others still have every acknowledged write.
        await cluster.KillAsync(leaving);
        ClusterNode reader = cluster.Running.First();
        IReadOnlyList<(string Path, ulong Size, ulong Generation)> listed =
            await TestCluster.RetryUnavailableAsync(() => TestCluster.ListAsync(reader, shard, bucket));
        HashSet<string> present = [.. listed.Select(o => o.Path)];
        Assert.All(acknowledged, path => Assert.Contains(path, present));
    }

    [Fact]
    public async Task ASingleNodeGrowsToThreeAndSurvivesLosingTheFirst()
    {
        await using var cluster = new TestCluster(nodes: 1, shards: 2, configure: o => o with { ReplicationFactor = 3 });
        await cluster.WaitReadyAsync();
        Dictionary<string, ulong> buckets = OneBucketPerShard(cluster);
        Dictionary<string, List<string>> written = await WriteObjectsAsync(cluster, buckets, perBucket: 10);

        await cluster.JoinAsync(2);
        await cluster.JoinAsync(3);
        Assert.True(await TestCluster.WaitUntilAsync(
            () => Settled(cluster) && cluster[1].Map.Shards.All(s => s.Replicas.Count == 3) && MetaVoters(cluster[1]).Count == 3,
            Settle), $"the cluster did not grow to three replicas: {Describe(cluster)}");

        // The grown node led both shards; leadership balance hands one of them to a newcomer.
        Assert.True(await TestCluster.WaitUntilAsync(
            () => buckets.Values.Select(shard => cluster[2].LeaderOf(shard)).Where(l => l != 0).Distinct().Count() == 2, Settle),
            $"leadership stayed on one node: {string.Join(",", buckets.Values.Select(shard => cluster[2].LeaderOf(shard)))}");
        Assert.True(cluster[1].LeadershipTransfers >= 1);

        // Every shard now has a majority without node 1: kill it, and the others elect leaders and keep everything.
        await cluster.KillAsync(1);
        foreach ((string bucket, ulong shard) in buckets)
        {
            ulong leader = await cluster.NewLeaderAsync(shard, excluded: 1);
            Assert.NotEqual(1UL, leader);
            IReadOnlyList<(string Path, ulong Size, ulong Generation)> listed =
                await TestCluster.RetryUnavailableAsync(() => TestCluster.ListAsync(cluster[leader], shard, bucket));
            Assert.Equal(written[bucket].Order(StringComparer.Ordinal), listed.Select(o => o.Path).Order(StringComparer.Ordinal));
            CommandResult after = await TestCluster.ProposeWithRetryAsync(cluster[leader], shard, TestCluster.Put(bucket, "after-loss", 1));
            Assert.Equal(ResultCode.ResultOk, after.Code);
        }
    }

    [Fact]
    public async Task TheMetaShardRefusesBadMembershipChanges()
    {
        await using var cluster = new TestCluster(nodes: 2, shards: 1);
        await cluster.WaitReadyAsync();
        ClusterNode node = cluster[1];

        ArgumentException taken = await Assert.ThrowsAsync<ArgumentException>(() =>
            node.AddNodeAsync(new NodeRecord { Id = 2, ApiAddress = "127.0.0.1:9", RaftAddress = "127.0.0.1:10" }));
        Assert.Contains("node id 2 is taken", taken.Message);
        ArgumentException noAddress = await Assert.ThrowsAsync<ArgumentException>(() => node.AddNodeAsync(new NodeRecord { Id = 9 }));
        Assert.Contains("api address and a raft address", noAddress.Message);
        ArgumentException unknown = await Assert.ThrowsAsync<ArgumentException>(() => node.DecommissionAsync(42));
        Assert.Contains("node 42 is not a member", unknown.Message);

        // A retried join (same raft address) gets the same record; a new one gets the next free id.
        NodeRecord first = await node.AddNodeAsync(new NodeRecord { ApiAddress = "127.0.0.1:7103", RaftAddress = "127.0.0.1:7203" });
        NodeRecord again = await node.AddNodeAsync(new NodeRecord { ApiAddress = "127.0.0.1:7103", RaftAddress = "127.0.0.1:7203" });
        Assert.Equal(3UL, first.Id);
        Assert.Equal(first, again);

        // Node 3 never started; draining it and node 2 leaves node 1 alone, and the last active node cannot go.
        await node.DecommissionAsync(3);
        await node.DecommissionAsync(2);
        ArgumentException last = await Assert.ThrowsAsync<ArgumentException>(() => node.DecommissionAsync(1));
        Assert.Contains("last active node", last.Message);
        Assert.Equal(NodeState.Active, node.Map.FindNode(1)!.State);
    }

    [Fact]
    public async Task NodesBeyondTheFirstFiveFoundTheClusterAsMetaLearnersAndGetTheMap()
    {
        await using var cluster = new TestCluster(nodes: 7, shards: 3);
        await cluster.WaitReadyAsync();
        foreach (ClusterNode node in cluster.Running)
        {
            Assert.True(node.Map.IsBootstrapped, $"node {node.NodeId} has no map");
            Assert.Equal(7, node.Map.Nodes.Count);
        }

        NodeStatus status = await cluster[7].StatusAsync(CancellationToken.None);
        Assert.Equal([1UL, 2UL, 3UL, 4UL, 5UL], status.Replicas.First(r => r.ShardId == MetaShard.Id).Voters.Order());

        // Node 7 routes a write to a shard it does not host through the map it learned as a learner.
        Dictionary<string, ulong> buckets = OneBucketPerShard(cluster);
        (string bucket, ulong shard) = buckets.First(b => !cluster[7].HostedShards.Contains(b.Value));
        NotLeaderException redirect = await Assert.ThrowsAsync<NotLeaderException>(() => cluster[7].ProposeAsync(shard, TestCluster.CreateBucket(bucket)));
        Assert.Contains(redirect.LeaderHint, cluster[7].Map.FindShard(shard)!.Replicas);
    }

    [Fact]
    public void ThePlannerDrainsFirstThenFillsThenBalances()
    {
        static NodeRecord Node(ulong id, NodeState state = NodeState.Active) => new() { Id = id, State = state };
        static RangeDescriptor Shard(ulong id, ulong start, ulong end, params ulong[] replicas)
        {
            var d = new RangeDescriptor { ShardId = id, Start = start, End = end, Generation = 7 };
            d.Replicas.Add(replicas);
            return d;
        }

        var draining = new ShardMap("c", [Node(1), Node(2), Node(3, NodeState.Decommissioning), Node(4)],
            [Shard(1, 0, 100, 1, 2), Shard(2, 100, 0, 1, 2, 3)], replicationFactor: 3);
        ReplicaMove drain = ClusterNode.PlanMove(draining)!;
        Assert.Equal((2UL, 3UL, 4UL, 7UL), (drain.ShardId, drain.FromNode, drain.ToNode, drain.Generation));

        var under = new ShardMap("c", [Node(1), Node(2), Node(3)], [Shard(1, 0, 100, 1), Shard(2, 100, 0, 1, 2, 3)], replicationFactor: 3);
        ReplicaMove fill = ClusterNode.PlanMove(under)!;
        Assert.Equal((1UL, 0UL, 2UL), (fill.ShardId, fill.FromNode, fill.ToNode));

        var uneven = new ShardMap("c", [Node(1), Node(2), Node(3)], [Shard(1, 0, 100, 1), Shard(2, 100, 200, 1), Shard(3, 200, 0, 1, 2)],
            replicationFactor: 1);
        ReplicaMove balance = ClusterNode.PlanMove(uneven)!;
        Assert.Equal((1UL, 1UL, 3UL), (balance.ShardId, balance.FromNode, balance.ToNode));

        var even = new ShardMap("c", [Node(1), Node(2)], [Shard(1, 0, 100, 1, 2), Shard(2, 100, 0, 2, 1)], replicationFactor: 2);
        Assert.Null(ClusterNode.PlanMove(even));

        // A drained node's last replica of a shard with no other home is removed only when others remain.
        var shrink = new ShardMap("c", [Node(1), Node(2, NodeState.Decommissioning)], [Shard(1, 0, 0, 1, 2)], replicationFactor: 3);
        ReplicaMove remove = ClusterNode.PlanMove(shrink)!;
        Assert.Equal((2UL, 0UL), (remove.FromNode, remove.ToNode));
    }

    /// <summary>No moves in flight or left to plan, every running member agrees on the map (same generations, same
    /// nodes), and every node hosts exactly the replicas the map gives it.</summary>
    private static bool Settled(TestCluster cluster)
    {
        ShardMap[] maps = [.. cluster.Running.Select(n => n.Map)];
        return maps.All(m => m.IsBootstrapped && m.Moves.Count == 0 && ClusterNode.PlanMove(m) is null)
            && maps.Select(Fingerprint).Distinct().Count() == 1
            && cluster.Running.All(n => n.Map.FindNode(n.NodeId)?.State == NodeState.Decommissioned
                || n.HostedShards.Count == 1 + n.Map.Shards.Count(s => s.Replicas.Contains(n.NodeId)));
    }

    private static string Fingerprint(ShardMap map) =>
        string.Join(";", map.Nodes.Select(n => $"{n.Id}:{n.State}")) + "|"
        + string.Join(";", map.Shards.Select(s => $"{s.ShardId}@{s.Generation}={string.Join(",", s.Replicas)}"));

    private static string Describe(TestCluster cluster) => string.Join(" / ", cluster.Running.Select(n =>
        $"node {n.NodeId} hosts [{string.Join(",", n.HostedShards)}], map {Fingerprint(n.Map)} moves [{string.Join(",", n.Map.Moves.Select(m => $"{m.ShardId}:{m.FromNode}->{m.ToNode}"))}]"));

    private static IReadOnlyList<ulong> MetaVoters(ClusterNode node) =>
        node.StatusAsync(CancellationToken.None).GetAwaiter().GetResult().Replicas.First(r => r.ShardId == MetaShard.Id).Voters;

    /// <summary>A bucket name for every shard of the map (found by trying names in order).</summary>
    private static Dictionary<string, ulong> OneBucketPerShard(TestCluster cluster)
    {
        var found = new Dictionary<ulong, string>();
        for (int i = 0; found.Count < cluster.Shards; i++)
        {
            string name = $"bucket-{i}";
            found.TryAdd(cluster.ShardOf(name), name);
        }

        return found.ToDictionary(p => p.Value, p => p.Key);
    }

    private static async Task<Dictionary<string, List<string>>> WriteObjectsAsync(TestCluster cluster, Dictionary<string, ulong> buckets, int perBucket)
    {
        var written = new Dictionary<string, List<string>>();
        foreach ((string bucket, ulong shard) in buckets)
        {
            ClusterNode leader = cluster[await cluster.LeaderAsync(shard)];
            Assert.Equal(ResultCode.ResultOk, (await TestCluster.ProposeWithRetryAsync(leader, shard, TestCluster.CreateBucket(bucket))).Code);
            written[bucket] = [];
            for (int i = 0; i < perBucket; i++)
            {
                string path = $"before/{i:D3}";
                Assert.Equal(ResultCode.ResultOk, (await TestCluster.ProposeWithRetryAsync(leader, shard, TestCluster.Put(bucket, path, (ulong)i))).Code);
                written[bucket].Add(path);
            }
        }

        return written;
    }
}
