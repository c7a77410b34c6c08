using Strata.Namespace.Commands;
using Xunit.Abstractions;

namespace Strata.Cluster.Tests;

/// <summary>
/// A follower that was down while writes continued restarts from its own log (its unsynced applied state lost in the
/// crash) and catches up: from the leader's log when the leader still has the entries it missed, by a snapshot when
/// the leader compacted past them. Either way every node ends with the same objects, equal to what the writes say.
/// </summary>
public sealed class CatchUpTests(ITestOutputHelper output)
{
    [Fact]
    public async Task FollowerDownWhileWritesContinueCatchesUpFromTheLeadersLog()
    {
        await using var cluster = new TestCluster(nodes: 3, shards: 1);
        (ulong shard, ulong leader, ulong follower, ulong appliedAtKill, Dictionary<string, ulong> expected) =
            await WriteWhileAFollowerIsDownAsync(cluster, "logcatchup", 10, 60);

        ReplicaStatus leaderReplica = await ReplicaAsync(cluster[leader], shard);
        Assert.True(leaderReplica.SnapshotIndex <= appliedAtKill,
            $"the leader compacted to {leaderReplica.SnapshotIndex}, past the follower's {appliedAtKill}: this is not a log catch-up");

        cluster.Start(follower);
        await cluster.WaitReadyAsync();
        Assert.False(cluster[follower].FoundedNow);
        await AssertEveryNodeHoldsAsync(cluster, shard, "logcatchup", expected);
    }

    [Fact]
    public async Task FollowerDownPastTheLeadersCompactionCatchesUpBySnapshot()
    {
        await using var cluster = new TestCluster(nodes: 3, shards: 1, configure: o => o with { CompactionThreshold = 16 });
        (ulong shard, ulong leader, ulong follower, ulong appliedAtKill, Dictionary<string, ulong> expected) =
            await WriteWhileAFollowerIsDownAsync(cluster, "snapcatchup", 10, 90);

        // Compaction is written with the step after it is staged: wait for it rather than assume it.
        ReplicaStatus leaderReplica = await ReplicaAsync(cluster[leader], shard);
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            while (leaderReplica.SnapshotIndex <= appliedAtKill)
            {
                await Task.Delay(10, timeout.Token);
                leaderReplica = await ReplicaAsync(cluster[leader], shard);
            }
        }

        output.WriteLine($"follower {follower} applied {appliedAtKill} when killed; leader {leader} compacted to {leaderReplica.SnapshotIndex}");
        cluster.Start(follower);
        await cluster.WaitReadyAsync();
        Assert.False(cluster[follower].FoundedNow);
        await AssertEveryNodeHoldsAsync(cluster, shard, "snapcatchup", expected);
        ReplicaStatus caughtUp = await ReplicaAsync(cluster[follower], shard);
        Assert.True(caughtUp.SnapshotIndex > appliedAtKill, "the follower's log should start from the snapshot it received");
    }

    /// <summary>
    /// Writes <paramref name="before"/> objects, kills a follower, then does <paramref name="during"/> more writes
    /// through the leader (new objects, overwrites and deletes); returns what the bucket must hold.
    /// </summary>
    private static async Task<(ulong Shard, ulong Leader, ulong Follower, ulong AppliedAtKill, Dictionary<string, ulong> Expected)>
        WriteWhileAFollowerIsDownAsync(TestCluster cluster, string bucket, int before, int during)
    {
        await cluster.WaitReadyAsync();
        ulong shard = cluster.ShardOf(bucket);
        ulong leader = await cluster.LeaderAsync(shard);
        ulong follower = cluster.Nodes.Keys.Where(id => id != leader).Min();
        var expected = new Dictionary<string, ulong>();
        Assert.Equal(ResultCode.ResultOk, (await cluster[leader].ProposeAsync(shard, TestCluster.CreateBucket(bucket))).Code);
        for (int i = 0; i < before; i++)
        {
            await PutAsync(cluster[leader], shard, bucket, $"d{i % 3}/o{i}", (ulong)i, expected);
        }

        // Let the follower apply everything so far, then kill it.
        ulong committed = (await ReplicaAsync(cluster[leader], shard)).Committed;
        ulong appliedAtKill;
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            while ((appliedAtKill = (await ReplicaAsync(cluster[follower], shard)).Applied) < committed)
            {
                await Task.Delay(5, timeout.Token);
            }
        }

        await cluster.KillAsync(follower);
        var random = new Random(ClusterTestKnobs.Seed);
        for (int i = 0; i < during; i++)
        {
            int n = before + i;
            switch (i % 5)
            {
                case 3 when expected.Count > 0:
                    string victim = expected.Keys.Order(StringComparer.Ordinal).ElementAt(random.Next(expected.Count));
                    CommandResult deleted = await cluster[leader].ProposeAsync(shard, new Command { Delete = new DeleteObject { Bucket = bucket, Path = victim } });
                    Assert.Equal(ResultCode.ResultOk, deleted.Code);
                    expected.Remove(victim);
                    break;
                case 4 when expected.Count > 0:
                    string overwritten = expected.Keys.Order(StringComparer.Ordinal).ElementAt(random.Next(expected.Count));
                    await PutAsync(cluster[leader], shard, bucket, overwritten, 100_000UL + (ulong)n, expected);
                    break;
                default:
                    await PutAsync(cluster[leader], shard, bucket, $"d{n % 3}/o{n}", (ulong)n, expected);
                    break;
            }
        }

        return (shard, leader, follower, appliedAtKill, expected);
    }

    private static async Task PutAsync(ClusterNode via, ulong shard, string bucket, string path, ulong size, Dictionary<string, ulong> expected)
    {
        Assert.Equal(ResultCode.ResultOk, (await via.ProposeAsync(shard, TestCluster.Put(bucket, path, size))).Code);
        expected[path] = size;
    }

    private static async Task<ReplicaStatus> ReplicaAsync(ClusterNode node, ulong shard) =>
        (await node.StatusAsync()).Replicas.Single(r => r.ShardId == shard);

    /// <summary>Every node's listing (read through that node) equals <paramref name="expected"/>, generations included.</summary>
    private static async Task AssertEveryNodeHoldsAsync(TestCluster cluster, ulong shard, string bucket, Dictionary<string, ulong> expected)
    {
        IReadOnlyList<(string Path, ulong Size, ulong Generation)>? first = null;
        foreach (ClusterNode node in cluster.Running.OrderBy(n => n.NodeId))
        {
            IReadOnlyList<(string Path, ulong Size, ulong Generation)> listing =
                await TestCluster.RetryUnavailableAsync(() => TestCluster.ListAsync(node, shard, bucket));
            Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => (e.Key, e.Value)),
                listing.OrderBy(e => e.Path, StringComparer.Ordinal).Select(e => (e.Path, e.Size)));
            if (first is null)
            {
                first = listing;
            }
            else
            {
                Assert.Equal(first, listing);
            }
        }
    }
}
