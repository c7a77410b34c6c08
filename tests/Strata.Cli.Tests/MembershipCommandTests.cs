using System.Text.Json;
using System.Text.RegularExpressions;

namespace Strata.Cli.Tests;

/// <summary>
/// <c>strata start --join</c> and <c>strata node decommission</c> through the command line: a single node grows to
/// three, the founder is drained and stopped, and a joined node restarts from its data directory — with the data
/// intact at every step.
/// </summary>
public sealed partial class MembershipCommandTests : IDisposable
{
    // A liveness bound, not a timing assertion: a node that never prints its banner fails instead of hanging.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("strata-cli-join-");
    private readonly List<(CancellationTokenSource Stop, Task<int> Exit)> _nodes = [];

    [GeneratedRegex(@"gRPC address\s+(http://[0-9.]+:[0-9]+)/?")]
    private static partial Regex AddressLine();

    [GeneratedRegex(@"other nodes reach it at [0-9.]+:(\d+)")]
    private static partial Regex RaftLine();

    [GeneratedRegex(@"node\s+(\d+) of cluster")]
    private static partial Regex NodeLine();

    [Fact]
    public async Task A_single_node_grows_by_joins_then_its_founder_is_decommissioned()
    {
        (string first, _) = await StartAsync("a");
        Assert.Equal(0, (await Cli.RunAsync("bucket", "create", "media", "--address", first)).ExitCode);
        for (int i = 0; i < 5; i++)
        {
            CliResult put = await Cli.RunAsync("put", "media", $"clip-{i}.ts", "--size", $"{i + 1}", "--address", first);
            Assert.True(put.ExitCode == 0, put.ToString());
        }

        (string second, string secondBanner) = await StartAsync("b", "--join", first.Replace("http://", "", StringComparison.Ordinal));
        (string third, string thirdBanner) = await StartAsync("c", "--join", second.Replace("http://", "", StringComparison.Ordinal));
        Assert.Equal("2", NodeLine().Match(secondBanner).Groups[1].Value);
        Assert.Equal("3", NodeLine().Match(thirdBanner).Groups[1].Value);
        Assert.Contains("(joined)", thirdBanner, StringComparison.Ordinal);

        // The joins bring every shard to three replicas (the replication factor), one move at a time.
        JsonElement shards = await WaitForShardsAsync(third, s => s.All(shard => Replicas(shard).Length == 3 && IsSettled(shard)));
        Assert.All(shards.EnumerateArray(), shard => Assert.Equal([1UL, 2UL, 3UL], Replicas(shard).Order()));

        CliResult drained = await Cli.RunAsync("node", "decommission", "1", "--address", second, "--timeout", "60");
        Assert.True(drained.ExitCode == 0, drained.ToString());
        Assert.Contains("node 1 is decommissioned", drained.Out, StringComparison.Ordinal);
        await StopAsync(0);

        // Two replicas left per shard (two active nodes), on nodes 2 and 3, and every object is still there.
        shards = await WaitForShardsAsync(third, s => s.All(shard => Replicas(shard).Length == 2 && IsSettled(shard)));
        Assert.All(shards.EnumerateArray(), shard => Assert.DoesNotContain(1UL, Replicas(shard)));
        CliResult listed = await Cli.RunAsync("ls", "media", "--address", third);
        Assert.True(listed.ExitCode == 0, listed.ToString());
        for (int i = 0; i < 5; i++)
        {
            Assert.Contains($"clip-{i}.ts", listed.Out, StringComparison.Ordinal);
        }

        CliResult status = await Cli.RunAsync("cluster", "status", "--address", third);
        Assert.Contains("decommissioned", status.Out, StringComparison.Ordinal);

        // A joined node restarts from its data directory on its addresses: same id, no new join, data served.
        await StopAsync(2);
        string apiPort = third[(third.LastIndexOf(':') + 1)..];
        string raftPort = RaftLine().Match(thirdBanner).Groups[1].Value;
        CliResult moved = await Cli.RunAsync("start", "--data", Path.Combine(_root.FullName, "c"), "--port", "0",
            "--join", second.Replace("http://", "", StringComparison.Ordinal));
        Assert.NotEqual(0, moved.ExitCode);
        Assert.Contains("start it on its recorded addresses", moved.Error, StringComparison.Ordinal);
        (string again, string againBanner) = await StartAsync("c", "--port", apiPort, "--raft-port", raftPort,
            "--join", second.Replace("http://", "", StringComparison.Ordinal));
        Assert.Equal("3", NodeLine().Match(againBanner).Groups[1].Value);
        CliResult stat = await ServedAfterFailoverAsync("stat", "media", "clip-4.ts", "--address", again);
        Assert.True(stat.ExitCode == 0, stat.ToString());
        Assert.Contains("5 B", stat.Out, StringComparison.Ordinal);
    }

    /// <summary>
    /// The operator's answer to a replica that will not open (docs/OPERATIONS.md, "Durability"): a node whose manifest
    /// is damaged refuses to start naming the corruption; it is decommissioned while it is down, a new node joins, and
    /// every shard is back to three replicas on healthy nodes with every object served.
    /// </summary>
    [Fact]
    public async Task A_node_that_will_not_open_is_decommissioned_while_down_and_replaced_by_a_new_node_without_loss()
    {
        (string first, _) = await StartAsync("a");
        Assert.Equal(0, (await Cli.RunAsync("bucket", "create", "media", "--address", first)).ExitCode);
        (string second, _) = await StartAsync("b", "--join", first.Replace("http://", "", StringComparison.Ordinal));
        (_, string thirdBanner) = await StartAsync("c", "--join", first.Replace("http://", "", StringComparison.Ordinal));
        await WaitForShardsAsync(second, s => s.All(shard => Replicas(shard).Length == 3 && IsSettled(shard)));
        for (int i = 0; i < 20; i++)
        {
            CliResult put = await Cli.RunAsync("put", "media", $"clip-{i}.ts", "--size", $"{i + 1}", "--address", first);
            Assert.True(put.ExitCode == 0, put.ToString());
        }

        // Node 3 stops; a bit of its manifest rots. It refuses to start, naming the damage, and serves nothing.
        await StopAsync(2);
        string data = Path.Combine(_root.FullName, "c");
        string manifest = Path.GetFileName(Directory.GetFiles(data, "MANIFEST-*").Single());
        Assert.True(new Strata.Cli.Cluster.BitFlip(manifest, 20, 0).Apply(data));
        string apiPort = AddressLine().Match(thirdBanner).Groups[1].Value.Split(':')[^1];
        string raftPort = RaftLine().Match(thirdBanner).Groups[1].Value;
        CliResult refused = await Cli.RunAsync("start", "--data", data, "--port", apiPort, "--raft-port", raftPort);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("is corrupt", refused.Error, StringComparison.Ordinal);

        // The replacement: decommission node 3 while it is down, and a new node joins.
        (string fourth, string fourthBanner) = await StartAsync("d", "--join", second.Replace("http://", "", StringComparison.Ordinal));
        Assert.Equal("4", NodeLine().Match(fourthBanner).Groups[1].Value);
        CliResult drained = await Cli.RunAsync("node", "decommission", "3", "--address", second, "--timeout", "120");
        Assert.True(drained.ExitCode == 0, drained.ToString());
        Assert.Contains("node 3 is decommissioned", drained.Out, StringComparison.Ordinal);

        JsonElement shards = await WaitForShardsAsync(fourth, s => s.All(shard => Replicas(shard).Length == 3 && IsSettled(shard)));
        Assert.All(shards.EnumerateArray(), shard => Assert.Equal([1UL, 2UL, 4UL], Replicas(shard).Order()));
        CliResult listed = await Cli.RunAsync("ls", "media", "--address", fourth);
        Assert.True(listed.ExitCode == 0, listed.ToString());
        for (int i = 0; i < 20; i++)
        {
            Assert.Contains($"clip-{i}.ts", listed.Out, StringComparison.Ordinal);
        }

        // The new node holds a full replica: with node 1 gone as well, nodes 2 and 4 still serve every object.
        await StopAsync(0);
        CliResult stat = await ServedAfterFailoverAsync("stat", "media", "clip-19.ts", "--address", fourth);
        Assert.True(stat.ExitCode == 0, stat.ToString());
        Assert.Contains("20 B", stat.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_membership_requests_are_refused_with_clear_messages()
    {
        CliResult both = await Cli.RunAsync("start", "--join", "127.0.0.1:7070", "--initial-cluster", "1=127.0.0.1:1@127.0.0.1:2");
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("--join and --initial-cluster exclude each other", both.Error, StringComparison.Ordinal);

        CliResult malformed = await Cli.RunAsync("start", "--join", "no-port-here", "--in-memory");
        Assert.Equal(2, malformed.ExitCode);
        Assert.Contains("--join needs HOST:PORT", malformed.Error, StringComparison.Ordinal);

        (string node, _) = await StartAsync("solo");
        CliResult zero = await Cli.RunAsync("node", "decommission", "0", "--address", node);
        Assert.Equal(2, zero.ExitCode);
        CliResult unknown = await Cli.RunAsync("node", "decommission", "42", "--address", node);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("node 42 is not a member", unknown.Error, StringComparison.Ordinal);
        CliResult last = await Cli.RunAsync("node", "decommission", "1", "--address", node);
        Assert.Equal(1, last.ExitCode);
        Assert.Contains("last active node", last.Error, StringComparison.Ordinal);
    }

    private async Task<(string Address, string Banner)> StartAsync(string name, params string[] extra)
    {
        var stop = new CancellationTokenSource();
        string data = Path.Combine(_root.FullName, name);
        (Task<int> exit, SignallingWriter output, SignallingWriter _) =
            Cli.Start(stop.Token, ["start", "--data", data, .. extra.Contains("--port") ? extra : ["--port", "0", .. extra]]);
        _nodes.Add((stop, exit));
        await output.WaitForAsync("Press Ctrl+C to stop.", exit, Patience);
        return (AddressLine().Match(output.Text).Groups[1].Value, output.Text);
    }

    private async Task StopAsync(int index)
    {
        (CancellationTokenSource stop, Task<int> exit) = _nodes[index];
        await stop.CancelAsync();
        Assert.Equal(0, await exit);
    }

    /// <summary>
    /// Runs a read right after a replica stopped or restarted, again while it fails as unreachable (Unavailable) and
    /// <see cref="Patience"/> lasts: the replicas may have to elect a leader first, and a follower's read index request
    /// that went to a stopped leader waits out the node's read timeout (5 s) before the command may try again.
    /// </summary>
    private static Task<CliResult> ServedAfterFailoverAsync(params string[] args) =>
        Cli.RunUntilAsync(result => result.ExitCode != ExitCodes.Unreachable, Patience, args);

    private static async Task<JsonElement> WaitForShardsAsync(string address, Func<IEnumerable<JsonElement>, bool> done)
    {
        static JsonElement Shards(CliResult result) => JsonDocument.Parse(result.Out).RootElement.GetProperty("shards");
        CliResult result = await Cli.RunUntilAsync(r => r.ExitCode == 0 && done(Shards(r).EnumerateArray()), Patience,
            "shards", "--json", "--address", address);
        if (result.ExitCode != 0 || !done(Shards(result).EnumerateArray()))
        {
            Assert.Fail($"the shards did not settle: {result}");
        }

        return Shards(result);
    }

    private static ulong[] Replicas(JsonElement shard) => [.. shard.GetProperty("replicas").EnumerateArray().Select(r => r.GetUInt64())];

    private static bool IsSettled(JsonElement shard) => shard.GetProperty("move").ValueKind == JsonValueKind.Null;

    public void Dispose()
    {
        foreach ((CancellationTokenSource stop, Task<int> exit) in _nodes)
        {
            stop.Cancel();
            try
            {
                exit.Wait(TimeSpan.FromSeconds(30));
            }
            catch (AggregateException)
            {
                // A node that failed already reported it through its test.
            }

            stop.Dispose();
        }

        _root.Delete(recursive: true);
    }
}
