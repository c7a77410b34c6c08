using Strata.Namespace.Commands;

namespace Strata.Cluster.Tests;

/// <summary>
/// A write acknowledged by a follower must be visible to a lease read on the leader that starts after the
/// acknowledgment. The follower applies (and acknowledges) an entry as soon as the leader's message tells it the entry
/// is committed; the leader sends that message before it applies the entry itself, so the leader's lease reads must
/// not serve a state older than the commit index it has already sent.
/// </summary>
public sealed class LeaseReadFloorTests
{
    [Fact]
    public async Task LeaseReadOnTheLeaderSeesAWriteAFollowerAcknowledged()
    {
        await using var cluster = new TestCluster(nodes: 3, shards: 1);
        await cluster.WaitReadyAsync();
        ulong shard = cluster.ShardOf("floor");
        ulong leaderId = await cluster.LeaderAsync(shard);
        ClusterNode leader = cluster[leaderId];
        ClusterNode[] followers = [.. cluster.Running.Where(n => n.NodeId != leaderId)];
        await leader.ProposeAsync(shard, TestCluster.CreateBucket("floor"));

        long leaseReadsBefore = leader.LeaseReads;
        for (ulong i = 1; i <= 1000; i++)
        {
            ClusterNode follower = followers[(int)(i % 2)];
            Assert.Equal(ResultCode.ResultOk, (await follower.ProposeAsync(shard, TestCluster.Put("floor", "k", i))).Code);
            ulong read = (await TestCluster.StatAsync(leader, shard, "floor", "k")).Attributes.Size;
            Assert.True(read == i, $"write {i} was acknowledged by node {follower.NodeId}, then the leader read {read}");
        }

        Assert.True(leader.LeaseReads > leaseReadsBefore, "the leader should have served some of these reads from its lease");
    }
}
