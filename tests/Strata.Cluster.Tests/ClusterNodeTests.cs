using Google.Protobuf;
using Strata.Namespace.Commands;

namespace Strata.Cluster.Tests;

public sealed class ClusterNodeTests
{
    [Fact]
    public async Task SingleNodeClusterBootstrapsAndServes()
    {
        await using var cluster = new TestCluster(nodes: 1, shards: 3);
        await cluster.WaitReadyAsync();
        ClusterNode node = cluster[1];
        Assert.True(node.Map.IsBootstrapped);
        Assert.Equal(3, node.Map.Shards.Count);
        Assert.Equal([0UL, 1, 2, 3], node.HostedShards);

        ulong shard = cluster.ShardOf("media");
        Assert.Equal(ResultCode.ResultOk, (await node.ProposeAsync(shard, TestCluster.CreateBucket("media"))).Code);
        CommandResult put = await node.ProposeAsync(shard, TestCluster.Put("media", "a/b.mp4", 42));
        Assert.Equal(ResultCode.ResultOk, put.Code);

        EntryInfo entry = await TestCluster.StatAsync(node, shard, "media", "a/b.mp4");
        Assert.Equal(42UL, entry.Attributes.Size);
        Assert.Equal(put.Entry.Generation, entry.Generation);
        await AssertLeaseReadsAsync(node, shard, "media", "a/b.mp4", 42);
    }

    /// <summary>Reads until one is served from the lease (reads keep the group awake, so its lease renews).</summary>
    private static async Task AssertLeaseReadsAsync(ClusterNode leader, ulong shard, string bucket, string path, ulong size)
    {
        long before = leader.LeaseReads;
        await ReadUntilAsync(leader, shard, bucket, path, size, () => leader.LeaseReads > before);
        Assert.True(leader.LeaseReads > before, "a leader whose heartbeats a quorum acknowledged must serve reads from its lease");
    }

    /// <summary>Reads (each must return <paramref name="size"/>) until <paramref name="done"/>, at most 400 times.</summary>
    private static async Task ReadUntilAsync(ClusterNode node, ulong shard, string bucket, string path, ulong size, Func<bool> done)
    {
        for (int i = 0; i < 400 && !done(); i++)
        {
            Assert.Equal(size, (await TestCluster.StatAsync(node, shard, bucket, path)).Attributes.Size);
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task ThreeNodesReplicateWritesAndServeReadsFromEveryNode()
    {
        await using var cluster = new TestCluster(nodes: 3, shards: 2);
        await cluster.WaitReadyAsync();
        ulong shard = cluster.ShardOf("photos");
        ulong leader = await cluster.LeaderAsync(shard);
        ulong follower = cluster.Nodes.Keys.First(id => id != leader);

        Assert.Equal(ResultCode.ResultOk, (await cluster[leader].ProposeAsync(shard, TestCluster.CreateBucket("photos"))).Code);
        // A follower forwards the proposal to the leader and answers when it applies the entry itself.
        CommandResult viaFollower = await cluster[follower].ProposeAsync(shard, TestCluster.Put("photos", "x.jpg", 7));
        Assert.Equal(ResultCode.ResultOk, viaFollower.Code);

        foreach (ClusterNode node in cluster.Running)
        {
            // Linearizable from anywhere: followers read through ReadIndex after applying the leader's commit index.
            EntryInfo entry = await TestCluster.StatAsync(node, shard, "photos", "x.jpg");
            Assert.Equal(7UL, entry.Attributes.Size);
        }

        Assert.True(cluster[follower].ReadIndexReads > 0);
        NodeStatus status = await cluster[leader].StatusAsync();
        ReplicaStatus replica = status.Replicas.Single(r => r.ShardId == shard);
        Assert.Equal("Leader", replica.Role);
        Assert.Equal(2, replica.FollowerMatch.Count);
    }

    [Fact]
    public async Task LeaderServesReadsFromItsLeaseOnceHeartbeatsAreAcknowledged()
    {
        await using var cluster = new TestCluster(nodes: 3, shards: 1);
        await cluster.WaitReadyAsync();
        ulong shard = cluster.ShardOf("hot");
        ulong leader = await cluster.LeaderAsync(shard);
        await cluster[leader].ProposeAsync(shard, TestCluster.CreateBucket("hot"));
        await cluster[leader].ProposeAsync(shard, TestCluster.Put("hot", "k", 1));

        await AssertLeaseReadsAsync(cluster[leader], shard, "hot", "k", 1);
        long followerLeaseReads = cluster.Running.Where(n => n.NodeId != leader).Sum(n => n.LeaseReads);
        Assert.Equal(0, followerLeaseReads);
    }

    /// <summary>A 3-node cluster of one shard holding <paramref name="bucket"/>/k = <paramref name="size"/>, its leader serving lease reads.</summary>
    private static async Task<(TestCluster Cluster, ulong Shard, ClusterNode Leader, ulong[] Others)> LeaseReadingClusterAsync(string bucket, ulong size)
    {
        var cluster = new TestCluster(nodes: 3, shards: 1);
        try
        {
            await cluster.WaitReadyAsync();
            ulong shard = cluster.ShardOf(bucket);
            ulong leader = await cluster.LeaderAsync(shard);
            ClusterNode node = cluster[leader];
            await node.ProposeAsync(shard, TestCluster.CreateBucket(bucket));
            await node.ProposeAsync(shard, TestCluster.Put(bucket, "k", size));
            await AssertLeaseReadsAsync(node, shard, bucket, "k", size);
            return (cluster, shard, node, [.. cluster.Nodes.Keys.Where(id => id != leader).Order()]);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Twenty reads at <paramref name="leader"/>, every one answered and none from its lease.</summary>
    private static async Task AssertNoLeaseReadsAsync(ClusterNode leader, ulong shard, string bucket, ulong size)
    {
        long leaseReads = leader.LeaseReads;
        long readIndexReads = leader.ReadIndexReads;
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(size, (await TestCluster.StatAsync(leader, shard, bucket, "k")).Attributes.Size);
        }

        Assert.Equal(leaseReads, leader.LeaseReads);
        Assert.True(leader.ReadIndexReads >= readIndexReads + 20);
    }

    [Fact]
    public async Task ALeaderWhoseClockRunsSlowAgainstAQuorumOfItsVotersGivesUpLeaseReads()
    {
        (TestCluster cluster, ulong shard, ClusterNode node, ulong[] others) = await LeaseReadingClusterAsync("skew", 5);
        await using TestCluster owned = cluster;
        ulong leader = node.NodeId;

        // One voter with a faster clock cannot elect a successor alone (the other still honours the lease): lease kept.
        cluster.Network.SetClockRate(leader, others[0], 2.0);
        Assert.True(await TestCluster.WaitUntilAsync(() => node.PeersWithFasterClocks.Count == 1, TimeSpan.FromSeconds(10)));
        await AssertLeaseReadsAsync(node, shard, "skew", "k", 5);
        Assert.Equal(0, node.LeaseClockRefusals);

        // Both: they could elect one while this leader's slow clock still counts its lease. Every read goes through ReadIndex.
        cluster.Network.SetClockRate(leader, others[1], 1.15);
        // Reads keep the group awake: a quiesced group holds no lease to refuse.
        await ReadUntilAsync(node, shard, "skew", "k", 5, () => node.LeaseClockRefusals > 0);

        Assert.True(node.LeaseClockRefusals > 0, "a leader whose clock runs slow against both other voters kept its lease");
        await AssertNoLeaseReadsAsync(node, shard, "skew", 5);

        // Clocks agree again: the lease comes back.
        cluster.Network.ClearClockRates();
        await AssertLeaseReadsAsync(node, shard, "skew", "k", 5);
    }

    [Fact]
    public async Task AVoterWhoseClockIsNotMeasuredYetCountsAsPossiblyFasterForTheLease()
    {
        (TestCluster cluster, ulong shard, ClusterNode node, ulong[] others) = await LeaseReadingClusterAsync("unmeasured", 7);
        await using TestCluster owned = cluster;
        ulong leader = node.NodeId;

        // One voter not measured (a new connection), the other measured at our rate: the measured one still honours the
        // lease and no successor can be elected without it, so the lease stays.
        cluster.Network.SetClockUnmeasured(leader, others[0]);
        Assert.True(await TestCluster.WaitUntilAsync(() => node.PeersWithUnmeasuredClocks.Count == 1, TimeSpan.FromSeconds(10)));
        await AssertLeaseReadsAsync(node, shard, "unmeasured", "k", 7);
        Assert.Equal(0, node.LeaseClockRefusals);

        // The other voter runs faster: the two could elect a successor while this leader counts its lease, and "not
        // measured" is no evidence of "not faster". Every read goes through ReadIndex.
        cluster.Network.SetClockRate(leader, others[1], 2.0);
        await ReadUntilAsync(node, shard, "unmeasured", "k", 7, () => node.LeaseClockRefusals > 0);
        await AssertNoLeaseReadsAsync(node, shard, "unmeasured", 7);

        // Neither measured (both connections new): refused too.
        cluster.Network.SetClockUnmeasured(leader, others[1]);
        Assert.True(await TestCluster.WaitUntilAsync(() => node.PeersWithUnmeasuredClocks.Count == 2, TimeSpan.FromSeconds(10)));
        long refusals = node.LeaseClockRefusals;
        await ReadUntilAsync(node, shard, "unmeasured", "k", 7, () => node.LeaseClockRefusals > refusals);
        await AssertNoLeaseReadsAsync(node, shard, "unmeasured", 7);

        // Both measured at our rate again: the lease comes back.
        cluster.Network.ClearClockRates();
        await AssertLeaseReadsAsync(node, shard, "unmeasured", "k", 7);
    }

    [Fact]
    public async Task RetriedMutationWithTheSameIdAppliesOnce()
    {
        await using var cluster = new TestCluster(nodes: 3, shards: 1);
        await cluster.WaitReadyAsync();
        ulong shard = cluster.ShardOf("once");
        ulong leader = await cluster.LeaderAsync(shard);
        await cluster[leader].ProposeAsync(shard, TestCluster.CreateBucket("once"));
        var client = new ByteStringOrNull(ByteString.CopyFrom(Enumerable.Range(1, 16).Select(i => (byte)i).ToArray()));

        CommandResult first = await cluster[leader].ProposeAsync(shard, TestCluster.Put("once", "f", 1, client, 5));
        // The retry goes to another node (as after a timeout): it must return the first outcome, not apply again.
        ulong other = cluster.Nodes.Keys.First(id => id != leader);
        CommandResult retry = await cluster[other].ProposeAsync(shard, TestCluster.Put("once", "f", 1, client, 5));
        Assert.Equal(first.Entry.Generation, retry.Entry.Generation);
        EntryInfo stored = await TestCluster.StatAsync(cluster[leader], shard, "once", "f");
        Assert.Equal(first.Entry.Generation, stored.Generation);
        Assert.Equal(1UL, stored.Metageneration);
    }

    [Fact]
    public async Task NodeWithoutAReplicaNamesOneThatHasIt()
    {
        await using var cluster = new TestCluster(nodes: 4, shards: 4, configure: o => o with { ReplicationFactor = 3 });
        await cluster.WaitReadyAsync();
        ClusterNode node = cluster[4];
        ulong notHosted = node.Map.Shards.First(s => !s.Replicas.Contains(4UL)).ShardId;
        var refused = await Assert.ThrowsAsync<NotLeaderException>(() => node.ReadAsync(notHosted, r => r.ListBuckets(string.Empty, 10)));
        Assert.Contains(refused.LeaderHint, node.Map.FindShard(notHosted)!.Replicas);
        await Assert.ThrowsAsync<NotLeaderException>(() => node.ProposeAsync(notHosted, TestCluster.CreateBucket("b")));
    }

    [Fact]
    public async Task StoppedNodeServesNoReadsEvenFromALeaseItStillHolds()
    {
        var cluster = new TestCluster(nodes: 1, shards: 1);
        await using (cluster)
        {
            await cluster.WaitReadyAsync();
            ulong shard = cluster.ShardOf("gone");
            ClusterNode node = cluster[1];
            await node.ProposeAsync(shard, TestCluster.CreateBucket("gone"));
            await AssertLeaseReadsAsync(node, shard, "gone-object-is-absent");
            await node.DisposeAsync();
            await Assert.ThrowsAsync<ObjectDisposedException>(() => node.ReadAsync(shard, r => r.ListBuckets(string.Empty, 10)));
        }
    }

    /// <summary>Reads until one is served from the lease (the bucket exists; the listing is the query).</summary>
    private static async Task AssertLeaseReadsAsync(ClusterNode leader, ulong shard, string label)
    {
        long before = leader.LeaseReads;
        for (int i = 0; i < 400 && leader.LeaseReads == before; i++)
        {
            Assert.NotEmpty(await leader.ReadAsync(shard, r => r.ListBuckets(string.Empty, 10)));
            await Task.Delay(5);
        }

        Assert.True(leader.LeaseReads > before, $"{label}: the leader never served a read from its lease");
    }

    [Fact]
    public async Task RestartedNodeRecoversItsReplicasFromItsLog()
    {
        await using var cluster = new TestCluster(nodes: 1, shards: 1);
        await cluster.WaitReadyAsync();
        ulong shard = cluster.ShardOf("durable");
        await cluster[1].ProposeAsync(shard, TestCluster.CreateBucket("durable"));
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(ResultCode.ResultOk, (await cluster[1].ProposeAsync(shard, TestCluster.Put("durable", $"o{i}", (ulong)i))).Code);
        }

        // Kill: the applied state was written without fsync and is lost; the synced Raft log is not.
        await cluster.KillAsync(1);
        cluster.Start(1);
        await cluster.WaitReadyAsync();
        Assert.False(cluster[1].FoundedNow);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal((ulong)i, (await TestCluster.StatAsync(cluster[1], shard, "durable", $"o{i}")).Attributes.Size);
        }
    }
}
