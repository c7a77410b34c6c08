using System.Collections.Concurrent;
using Google.Protobuf;
using Strata.Namespace.Commands;
using Xunit.Abstractions;

namespace Strata.Cluster.Tests;

/// <summary>
/// Failover of a shard's leader: acknowledged writes survive it, a new leader serves within a bounded number of
/// attempts, the killed node comes back from its own (crash-truncated) engine and catches up, and a mutation retried
/// across the failover with the same (client id, sequence) applies once.
/// </summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    private const int Writers = 4;
    private const int WritesPerWriter = 40;
    private const int MaxAttempts = 150;

    [Fact]
    public async Task AcknowledgedWritesSurviveTheLeadersDeathAndReachTheRestartedNode()
    {
        int seed = ClusterTestKnobs.Seed;
        await using var cluster = new TestCluster(nodes: 3, shards: 1, configure: o => o with
        {
            ProposalTimeout = TimeSpan.FromSeconds(2),
            ReadTimeout = TimeSpan.FromSeconds(1),
        });
        await cluster.WaitReadyAsync();
        ulong shard = cluster.ShardOf("failover");
        Assert.Equal(ResultCode.ResultOk, (await TestCluster.ProposeWithRetryAsync(cluster[await cluster.LeaderAsync(shard)], shard, TestCluster.CreateBucket("failover"))).Code);

        var acknowledged = new ConcurrentDictionary<string, (ulong Size, ulong Generation)>();
        int acknowledgedAfterKill = 0;
        int mostAttempts = 0;
        var killed = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task WriterAsync(int writer)
        {
            var random = new Random(seed * 17 + writer);
            var clientId = new byte[16];
            random.NextBytes(clientId);
            for (int i = 0; i < WritesPerWriter; i++)
            {
                string path = $"w{writer}/o{i}";
                Command command = TestCluster.Put("failover", path, (ulong)(writer * 1000 + i),
                    new ByteStringOrNull(ByteString.CopyFrom(clientId)), (ulong)i + 1);
                (CommandResult result, int attempts) = await ProposeUntilAcknowledgedAsync(cluster, shard, command, random);
                Assert.True(result.Code == ResultCode.ResultOk, $"{path}: {result.Code} {result.Message}");
                acknowledged[path] = (result.Entry.Attributes.Size, result.Entry.Generation);
                if (killed.Task.IsCompleted)
                {
                    Interlocked.Increment(ref acknowledgedAfterKill);
                }

                int seen;
                while ((seen = Volatile.Read(ref mostAttempts)) < attempts && Interlocked.CompareExchange(ref mostAttempts, attempts, seen) != seen)
                {
                }
            }
        }

        Task writers = Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(() => WriterAsync(w))));
        while (acknowledged.Count < Writers * WritesPerWriter / 4 && !writers.IsCompleted)
        {
            await Task.Delay(5);
        }

        ulong victim = await cluster.LeaderAsync(shard);
        await cluster.KillAsync(victim);
        killed.SetResult(victim);
        output.WriteLine($"killed leader {victim} after {acknowledged.Count} acknowledged writes");
        await writers;

        output.WriteLine($"{acknowledged.Count} writes acknowledged, {acknowledgedAfterKill} after the kill; the most attempts one write needed: {mostAttempts}");
        Assert.Equal(Writers * WritesPerWriter, acknowledged.Count);
        Assert.True(acknowledgedAfterKill > 0, "no write was acknowledged after the leader died");

        foreach (ClusterNode survivor in cluster.Running)
        {
            AssertHoldsEvery(acknowledged, await ListingAsync(survivor, shard), $"surviving node {survivor.NodeId}");
        }

        // The killed node restarts over what its engine kept (the applied state it never synced is gone) and catches up.
        cluster.Start(victim);
        await cluster.WaitReadyAsync();
        Assert.False(cluster[victim].FoundedNow);
        Dictionary<string, (ulong, ulong)> restarted = await ListingAsync(cluster[victim], shard);
        AssertHoldsEvery(acknowledged, restarted, $"restarted node {victim}");
        foreach (ClusterNode node in cluster.Running)
        {
            Assert.Equal(restarted.OrderBy(e => e.Key), (await ListingAsync(node, shard)).OrderBy(e => e.Key));
        }
    }

    [Fact]
    public async Task MutationWhoseAcknowledgmentWasLostAppliesOnceWhenRetriedOnAnotherNode()
    {
        await using var cluster = new TestCluster(nodes: 3, shards: 1, configure: o => o with { ProposalTimeout = TimeSpan.FromSeconds(1) });
        await cluster.WaitReadyAsync();
        ulong shard = cluster.ShardOf("once");
        ulong leader = await cluster.LeaderAsync(shard);
        await cluster[leader].ProposeAsync(shard, TestCluster.CreateBucket("once"));
        ulong[] followers = [.. cluster.Nodes.Keys.Where(id => id != leader).Order()];
        ulong proposer = followers[0], other = followers[1];
        Command create = CreateOnly("once", "x", 7, clientByte: 1);

        // The proposer can still reach the leader (the proposal is forwarded, committed with the other follower and
        // applied there) but hears nothing back, so its caller is told the outcome is unknown.
        cluster.Network.CutOneWay(leader, proposer);
        await Assert.ThrowsAsync<OutcomeUnknownException>(() => cluster[proposer].ProposeAsync(shard, create.Clone()));
        EntryInfo applied = await TestCluster.StatAsync(cluster[other], shard, "once", "x");

        // The retry elsewhere returns the first outcome; a second application would fail the create-only precondition.
        CommandResult retry = await TestCluster.ProposeWithRetryAsync(cluster[other], shard, create);
        Assert.Equal(ResultCode.ResultOk, retry.Code);
        Assert.Equal(applied.Generation, retry.Entry.Generation);

        cluster.Network.HealAll();
        foreach (ClusterNode node in cluster.Running)
        {
            EntryInfo stored = await TestCluster.RetryUnavailableAsync(() => TestCluster.StatAsync(node, shard, "once", "x"));
            Assert.Equal(applied.Generation, stored.Generation);
            Assert.Equal(1UL, stored.Metageneration);
            Assert.Equal(7UL, stored.Attributes.Size);
        }
    }

    [Fact]
    public async Task MutationStrandedOnAnIsolatedLeaderAppliesOnceWhenRetriedOnTheNewLeader()
    {
        await using var cluster = new TestCluster(nodes: 3, shards: 1, configure: o => o with { ProposalTimeout = TimeSpan.FromSeconds(1) });
        await cluster.WaitReadyAsync();
        ulong shard = cluster.ShardOf("stranded");
        ulong leader = await cluster.LeaderAsync(shard);
        await cluster[leader].ProposeAsync(shard, TestCluster.CreateBucket("stranded"));
        Command create = CreateOnly("stranded", "y", 9, clientByte: 2);

        // The isolated leader appends the entry but cannot commit it; its caller cannot know whether it applied.
        cluster.Network.Isolate(leader, cluster.MemberIds);
        await Assert.ThrowsAsync<OutcomeUnknownException>(() => cluster[leader].ProposeAsync(shard, create.Clone()));
        ulong successor = await cluster.NewLeaderAsync(shard, leader);
        CommandResult retry = await TestCluster.ProposeWithRetryAsync(cluster[successor], shard, create.Clone());
        Assert.Equal(ResultCode.ResultOk, retry.Code);

        // Once healed, the old leader's uncommitted copy is overwritten, and retrying yet again still answers the
        // first outcome everywhere.
        cluster.Network.HealAll();
        await cluster.LeaderAsync(shard);
        CommandResult again = await TestCluster.ProposeWithRetryAsync(cluster[leader], shard, create.Clone());
        Assert.Equal(ResultCode.ResultOk, again.Code);
        Assert.Equal(retry.Entry.Generation, again.Entry.Generation);
        foreach (ClusterNode node in cluster.Running)
        {
            EntryInfo stored = await TestCluster.RetryUnavailableAsync(() => TestCluster.StatAsync(node, shard, "stranded", "y"));
            Assert.Equal(retry.Entry.Generation, stored.Generation);
            Assert.Equal(1UL, stored.Metageneration);
        }
    }

    /// <summary>A create-only put (if-generation-match 0) with exactly-once bookkeeping: applying it twice would fail.</summary>
    private static Command CreateOnly(string bucket, string path, ulong size, byte clientByte)
    {
        Command command = TestCluster.Put(bucket, path, size, new ByteStringOrNull(ByteString.CopyFrom(Enumerable.Repeat(clientByte, 16).ToArray())), 1);
        command.Put.Preconditions = new Preconditions { IfGenerationMatch = 0 };
        return command;
    }

    /// <summary>Proposes through random running nodes until one acknowledges, retrying refusals and unknown outcomes
    /// with the same (client id, sequence); fails the test after <see cref="MaxAttempts"/> attempts.</summary>
    private static async Task<(CommandResult, int)> ProposeUntilAcknowledgedAsync(TestCluster cluster, ulong shard, Command command, Random random)
    {
        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            ClusterNode node = cluster.PickRunning(random);
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
                CommandResult result = await node.ProposeAsync(shard, command.Clone(), timeout.Token);
                if (cluster.IsRunning(node))
                {
                    return (result, attempt);
                }
            }
            catch (Exception e) when (CallOutcome.NothingDone(e) || CallOutcome.Unknown(e))
            {
            }

            await Task.Delay(20);
        }

        throw new Xunit.Sdk.XunitException($"no node acknowledged the write within {MaxAttempts} attempts");
    }

    private static async Task<Dictionary<string, (ulong, ulong)>> ListingAsync(ClusterNode node, ulong shard) =>
        (await TestCluster.RetryUnavailableAsync(() => TestCluster.ListAsync(node, shard, "failover")))
            .ToDictionary(e => e.Path, e => (e.Size, e.Generation));

    private static void AssertHoldsEvery(IReadOnlyDictionary<string, (ulong Size, ulong Generation)> acknowledged,
        Dictionary<string, (ulong, ulong)> listing, string where)
    {
        foreach ((string path, (ulong Size, ulong Generation) write) in acknowledged)
        {
            Assert.True(listing.TryGetValue(path, out (ulong, ulong) found), $"{where} lost the acknowledged write of {path}");
            Assert.Equal(write, found);
        }
    }
}
