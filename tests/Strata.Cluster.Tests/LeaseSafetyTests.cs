using System.Collections.Concurrent;
using Strata.Namespace;
using Strata.Namespace.Commands;
using Xunit.Abstractions;

namespace Strata.Cluster.Tests;

/// <summary>
/// Leases under partitions: once the majority side of a partition has elected a new leader and acknowledged a write,
/// no read that starts after that acknowledgment may miss the write, on any node — in particular the old leader must
/// have stopped serving from its lease before the new leader could be elected, and its later reads must fail (or go
/// through ReadIndex and time out), never return the old value.
/// </summary>
/// <remarks>
/// Readers hammer every node (the old leader included) through the whole round; each read records the instants it
/// started and returned on one counter shared with the writer. Rounds: <c>STRATA_CLUSTER_LEASE_ROUNDS</c>.
/// </remarks>
public sealed class LeaseSafetyTests(ITestOutputHelper output)
{
    private const string Bucket = "leases";
    private const string Key = "k";

    [Fact]
    public async Task IsolatedLeaderServesNoReadThatMissesTheMajoritysAcknowledgedWrite() =>
        await RunRoundsAsync(leaderHearsOthers: false);

    [Fact]
    public async Task LeaderThatCanOnlyReceiveServesNoReadThatMissesTheMajoritysAcknowledgedWrite() =>
        await RunRoundsAsync(leaderHearsOthers: true);

    private async Task RunRoundsAsync(bool leaderHearsOthers)
    {
        await using var cluster = new TestCluster(nodes: 3, shards: 1, configure: o => o with
        {
            ReadTimeout = TimeSpan.FromMilliseconds(300),
            ProposalTimeout = TimeSpan.FromSeconds(2),
        });
        await cluster.WaitReadyAsync();
        ulong shard = cluster.ShardOf(Bucket);
        Assert.Equal(ResultCode.ResultOk, (await TestCluster.ProposeWithRetryAsync(cluster[await cluster.LeaderAsync(shard)], shard, TestCluster.CreateBucket(Bucket))).Code);
        Assert.Equal(ResultCode.ResultOk, (await TestCluster.ProposeWithRetryAsync(cluster[await cluster.LeaderAsync(shard)], shard, TestCluster.Put(Bucket, Key, 0))).Code);

        long clock = 0;
        for (ulong round = 1; round <= (ulong)ClusterTestKnobs.LeaseRounds; round++)
        {
            ulong oldLeader = await cluster.LeaderAsync(shard);
            ClusterNode old = cluster[oldLeader];
            long leaseReadsBefore = old.LeaseReads;
            for (int i = 0; i < 400 && old.LeaseReads == leaseReadsBefore; i++)
            {
                await TestCluster.RetryUnavailableAsync(() => ReadKeyAsync(old, shard));
                await Task.Delay(5);
            }

            Assert.True(old.LeaseReads > leaseReadsBefore, $"round {round}: leader {oldLeader} never served a lease read before the cut");

            var reads = new ConcurrentQueue<ReadRecord>();
            using var stop = new CancellationTokenSource();
            Task[] readers = [.. cluster.Running.Select(node => Task.Run(() => ReadUntilStoppedAsync(node, shard, reads, () => Interlocked.Increment(ref clock), stop.Token)))];

            if (leaderHearsOthers)
            {
                foreach (ulong other in cluster.MemberIds.Where(id => id != oldLeader))
                {
                    cluster.Network.CutOneWay(oldLeader, other);
                }
            }
            else
            {
                cluster.Network.Isolate(oldLeader, cluster.MemberIds);
            }

            ulong newLeader = await cluster.NewLeaderAsync(shard, oldLeader);
            CommandResult written = await TestCluster.ProposeWithRetryAsync(cluster[newLeader], shard, TestCluster.Put(Bucket, Key, round));
            Assert.Equal(ResultCode.ResultOk, written.Code);
            long acknowledgedAt = Interlocked.Increment(ref clock);

            // Keep reading until the old leader has given up and has attempted reads after the acknowledgment.
            using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                while (old.LeaderOf(shard) == oldLeader || reads.Count(r => r.Node == oldLeader && r.Started > acknowledgedAt) < 5)
                {
                    await Task.Delay(5, timeout.Token);
                }
            }

            await stop.CancelAsync();
            await Task.WhenAll(readers);
            cluster.Network.HealAll();

            ReadRecord[] after = [.. reads.Where(r => r.Started > acknowledgedAt)];
            ReadRecord[] stale = [.. after.Where(r => r.Value is { } v && v != round)];
            int servedByOld = after.Count(r => r.Node == oldLeader && r.Value is not null);
            output.WriteLine($"round {round}: leader {oldLeader} cut off ({(leaderHearsOthers ? "can only receive" : "isolated")}), {newLeader} took over; " +
                $"{reads.Count} reads, {after.Length} started after the write was acknowledged ({after.Count(r => r.Value is null)} failed, " +
                $"{servedByOld} answered by the old leader)");
            Assert.True(stale.Length == 0, $"round {round}: reads that started after the acknowledgment of {round} returned an older value: " +
                string.Join(", ", stale.Select(r => $"node {r.Node} read {r.Value} [{r.Started}..{r.Returned}], acknowledged at {acknowledgedAt}")));

            // Healed, the old leader serves the new value.
            await cluster.LeaderAsync(shard);
            Assert.Equal(round, await TestCluster.RetryUnavailableAsync(() => ReadKeyAsync(old, shard)));
        }
    }

    private static async Task ReadUntilStoppedAsync(ClusterNode node, ulong shard, ConcurrentQueue<ReadRecord> reads, Func<long> now, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            long started = now();
            ulong? value = null;
            try
            {
                value = await ReadKeyAsync(node, shard);
            }
            catch (Exception e) when (CallOutcome.NothingDone(e) || CallOutcome.Unknown(e))
            {
            }

            reads.Enqueue(new ReadRecord(node.NodeId, started, now(), value));
            await Task.Delay(1, CancellationToken.None);
        }
    }

    private static Task<ulong> ReadKeyAsync(ClusterNode node, ulong shard) =>
        node.ReadAsync(shard, (NamespaceReader reader) => reader.Stat(Bucket, Key).Attributes.Size);

    /// <summary>One read: where, when (on the shared counter) and what it returned (null: it failed).</summary>
    private sealed record ReadRecord(ulong Node, long Started, long Returned, ulong? Value);
}
