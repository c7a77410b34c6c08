using System.Text.Json;
using Strata.Api.V1;
using Strata.Cli.Cluster;
using Strata.Client;

namespace Strata.Cli.Tests;

/// <summary>Real processes: a shard leader killed with SIGKILL, the survivors serving, the restarted node catching up.</summary>
[Collection(ProcessCollection.Name)]
public sealed class LocalClusterTests(LocalClusterFixture fixture)
{
    // The survivors answer UNAVAILABLE until a new leader is elected; retry long enough to cover an election.
    private static readonly StrataClientOptions Patient = new()
    {
        DefaultDeadline = TimeSpan.FromSeconds(5),
        Retry = new RetryPolicy { MaxAttempts = 100, MaxBackoff = TimeSpan.FromMilliseconds(500), MaxElapsed = TimeSpan.FromSeconds(30) },
    };

    private LocalCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Killing_a_shard_leader_keeps_the_data_served_and_the_restarted_node_serves_it_too()
    {
        await Cluster.WaitUntilReadyAsync(LocalClusterFixture.Patience, CancellationToken.None);
        string bucket = fixture.NewBucketName("failover");
        LocalNode first = Cluster.Nodes[0];
        using (StrataClient throughOne = StrataClient.Connect(first.Uri, Patient))
        {
            await throughOne.CreateBucketAsync(bucket);
            for (int i = 0; i < 10; i++)
            {
                await throughOne.PutObjectAsync(bucket, $"before/{i:D2}.ts", Attributes("before", i));
            }
        }

        ClusterObservation observed = await Cluster.WaitUntilReadyAsync(LocalClusterFixture.Patience, CancellationToken.None);
        ulong shard = observed.ShardOf(bucket).ShardId;
        ulong leader = observed.Leader(shard)!.Value.Node;
        LocalNode victim = Cluster.Node(leader);
        int pid = victim.ProcessId!.Value;

        await Cluster.KillAsync(leader);
        Assert.False(victim.IsRunning);
        Assert.False(ProcessExists(pid), $"process {pid} of node {leader} still exists after SIGKILL");

        CliResult statusWhileDown;
        using (StrataClient survivors = StrataClient.ConnectCluster(Cluster.RunningAddresses(), Patient))
        {
            for (int i = 0; i < 10; i++)
            {
                await survivors.PutObjectAsync(bucket, $"after/{i:D2}.ts", Attributes("after", i));
            }

            Assert.Equal(20, await CountObjectsAsync(survivors, bucket));
            Entry early = await survivors.StatAsync(bucket, "before/03.ts");
            Assert.Equal("before-3", early.Attributes.Etag);
            statusWhileDown = await Cli.RunAsync("cluster", "status", "--json", "--address", Cluster.RunningAddresses()[0].ToString());
        }

        Assert.True(statusWhileDown.ExitCode == 0, statusWhileDown.ToString());
        using (JsonDocument status = JsonDocument.Parse(statusWhileDown.Out))
        {
            JsonElement down = status.RootElement.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("id").GetUInt64() == leader);
            Assert.False(down.GetProperty("answers").GetBoolean());
            Assert.Contains("Unavailable", down.GetProperty("error").GetString(), StringComparison.Ordinal);
            JsonElement shardStatus = status.RootElement.GetProperty("shards").EnumerateArray().Single(s => s.GetProperty("shardId").GetUInt64() == shard);
            Assert.NotEqual(0UL, shardStatus.GetProperty("leader").GetUInt64());
            Assert.NotEqual(leader, shardStatus.GetProperty("leader").GetUInt64());
        }

        Cluster.Start(leader);
        await Cluster.WaitUntilReadyAsync(LocalClusterFixture.Patience, CancellationToken.None);
        using StrataClient restarted = StrataClient.Connect(victim.Uri, Patient);
        Entry late = await restarted.StatAsync(bucket, "after/09.ts");
        Assert.Equal("after-9", late.Attributes.Etag);
        Assert.Equal(20, await CountObjectsAsync(restarted, bucket));
    }

    [Fact]
    public async Task Settled_leadership_spreads_the_four_shards_two_one_one_over_the_three_nodes()
    {
        ClusterObservation settled = await Cluster.WaitUntilSettledAsync(LocalClusterFixture.Patience, CancellationToken.None);

        Assert.Null(settled.PendingLeadershipTransfer());
        int[] led = [.. Cluster.Nodes.Select(n => settled.Map.Shards.Count(s => settled.Leader(s.ShardId)?.Node == n.Id)).Order()];
        Assert.Equal([1, 1, 2], led);
    }

    [Fact]
    public async Task Cluster_status_and_shards_describe_the_running_cluster()
    {
        // Settled: the tests before may have restarted a node, after which the balancer moves leaders back.
        await Cluster.WaitUntilSettledAsync(LocalClusterFixture.Patience, CancellationToken.None);
        string address = Cluster.Nodes[1].Uri.ToString();

        CliResult table = await Cli.RunAsync("cluster", "status", "--address", address);
        CliResult shardsTable = await Cli.RunAsync("shards", "--address", address);
        CliResult shardsJson = await Cli.RunAsync("shards", "--json", "--address", address);
        CliResult statusJson = await StatusWithOneLeaderPerShardAsync(address);

        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("cluster cli-tests: 3 nodes (3 answering), 4 shards, replication factor 3; map from node 2", table.Out, StringComparison.Ordinal);
        foreach (LocalNode node in Cluster.Nodes)
        {
            Assert.Contains(node.ApiAddress, table.Out, StringComparison.Ordinal);
            Assert.Contains(node.RaftAddress, table.Out, StringComparison.Ordinal);
        }

        Assert.Contains("0 (meta)", table.Out, StringComparison.Ordinal);
        Assert.True(shardsTable.ExitCode == 0, shardsTable.ToString());
        Assert.Contains("[0000000000000000, 4000000000000000)", shardsTable.Out, StringComparison.Ordinal);
        Assert.Contains("[c000000000000000, max)", shardsTable.Out, StringComparison.Ordinal);

        Assert.True(shardsJson.ExitCode == 0, shardsJson.ToString());
        using JsonDocument shards = JsonDocument.Parse(shardsJson.Out);
        JsonElement[] ranges = [.. shards.RootElement.GetProperty("shards").EnumerateArray()];
        Assert.Equal(4, ranges.Length);
        Assert.Equal("0000000000000000", ranges[0].GetProperty("start").GetString());
        Assert.Equal(JsonValueKind.Null, ranges[^1].GetProperty("end").ValueKind);
        for (int i = 0; i < ranges.Length; i++)
        {
            if (i > 0)
            {
                Assert.Equal(ranges[i - 1].GetProperty("end").GetString(), ranges[i].GetProperty("start").GetString());
            }

            Assert.Equal(3, ranges[i].GetProperty("replicas").GetArrayLength());
            Assert.InRange(ranges[i].GetProperty("leader").GetUInt64(), 1UL, 3UL);
        }

        Assert.True(statusJson.ExitCode == 0, statusJson.ToString());
        using JsonDocument status = JsonDocument.Parse(statusJson.Out);
        JsonElement[] nodes = [.. status.RootElement.GetProperty("nodes").EnumerateArray()];
        Assert.Equal(new ulong[] { 1, 2, 3 }, nodes.Select(n => n.GetProperty("id").GetUInt64()));
        Assert.All(nodes, n => Assert.True(n.GetProperty("answers").GetBoolean()));
        Assert.All(nodes, n => Assert.Equal(5, n.GetProperty("replicas").GetArrayLength()));
        // Every shard (the meta shard included) is led by exactly one node, and its leader reports every follower's lag.
        JsonElement[] shardStatus = [.. status.RootElement.GetProperty("shards").EnumerateArray()];
        Assert.Equal(5, shardStatus.Length);
        Assert.Equal(5, nodes.Sum(n => n.GetProperty("leads").GetArrayLength()));
        Assert.All(shardStatus, s => Assert.Equal(2, s.GetProperty("lag").EnumerateObject().Count()));
    }

    /// <summary>
    /// <c>cluster status --json</c>, asked again (while <see cref="LocalClusterFixture.Patience"/> lasts) until each shard
    /// is claimed by one leader: the status is each node's own view, asked one node after the other, so while
    /// leadership moves (an election on a slow machine) a deposed leader and its successor can both say they lead.
    /// </summary>
    private static Task<CliResult> StatusWithOneLeaderPerShardAsync(string address) =>
        Cli.RunUntilAsync(status => status.ExitCode != 0 || OneLeaderClaimPerShard(status.Out), LocalClusterFixture.Patience,
            "cluster", "status", "--json", "--address", address);

    private static bool OneLeaderClaimPerShard(string statusJson)
    {
        using JsonDocument document = JsonDocument.Parse(statusJson);
        int claims = document.RootElement.GetProperty("nodes").EnumerateArray()
            .Sum(n => n.GetProperty("leads").ValueKind == JsonValueKind.Array ? n.GetProperty("leads").GetArrayLength() : 0);
        return claims == document.RootElement.GetProperty("shards").GetArrayLength();
    }

    private static ObjectAttributes Attributes(string phase, int i) =>
        new() { Size = (ulong)(1000 + i), Etag = $"{phase}-{i}", ContentType = "video/mp2t", Tier = Tier.Ssd };

    private static async Task<int> CountObjectsAsync(StrataClient client, string bucket)
    {
        int count = 0;
        await foreach (Entry entry in client.ListAllAsync(new ListRequest { Bucket = bucket, Delimiter = "" }))
        {
            count += entry.Kind == EntryKind.Object ? 1 : 0;
        }

        return count;
    }

    internal static bool ProcessExists(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
