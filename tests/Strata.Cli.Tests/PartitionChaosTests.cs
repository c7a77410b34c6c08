using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Strata.Cli.Chaos;
using Strata.Cli.Cluster;

namespace Strata.Cli.Tests;

/// <summary>
/// <c>strata chaos --network netns</c> against real node processes, each in its own network namespace: partitions
/// cut with iptables move leadership away from an isolated leader, the history stays linearizable, and nothing of
/// the network (namespaces, veth pairs, bridge) outlives the run, interrupted or not.
/// </summary>
/// <remarks>Needs root, ip and iptables (scripts/install-prerequisites.sh); without them these tests fail with the
/// runner's message, they are not skipped.</remarks>
[Collection(ProcessCollection.Name)]
public sealed partial class PartitionChaosTests : IDisposable
{
    [GeneratedRegex(@"clock at ([0-9.]+)×")]
    private static partial Regex ClockRate();

    private readonly string _out = Path.Combine(Path.GetTempPath(), "strata-partition-cli-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }

    [Fact]
    public async Task A_skewed_node_is_isolated_too_and_the_report_says_who_led_the_shard_when_it_was_cut_off()
    {
        ChaosRunFiles run = await ChaosRunFiles.RunAsync(_out, "skew", faultCount: 2, seed: 3, operations: 300, extra: ["--network", "netns"]);

        int stillLed = 0;
        long[] calls = run.CallTimes;
        foreach (JsonElement fault in run.Timeline)
        {
            // The clients go on in the second between the skew and the cut: a workload held there let the leader
            // fall idle and quiesce, so it was cut off without a lease and a lease that outlives its clock could not show.
            long skewed = fault.GetProperty("startNanos").GetInt64();
            Assert.Contains(calls, call => call >= skewed && call < skewed + 900_000_000);
            string node = fault.GetProperty("node").GetUInt64().ToString(CultureInfo.InvariantCulture);
            Assert.Equal(node, fault.GetProperty("sides").GetString()!.Split(" | ")[0]);
            // A leader is seen at the cut (the cluster served just before the fault), and the term does not go back.
            ulong leaderAtCut = fault.GetProperty("leaderAtCut").GetUInt64();
            Assert.InRange(leaderAtCut, 1UL, 3UL);
            Assert.True(fault.GetProperty("termAtCut").GetUInt64() >= fault.GetProperty("term").GetUInt64(), fault.ToString());
            if (leaderAtCut.ToString(CultureInfo.InvariantCulture) == node)
            {
                stillLed++;
                // A skewed leader whose clock runs slow has given up its lease by the cut, a second in: its voters'
                // clocks run faster than the lease's margin allows, or are not measured yet (ClockFitForLease).
                double rate = double.Parse(ClockRate().Match(fault.GetProperty("note").GetString()!).Groups[1].Value, CultureInfo.InvariantCulture);
                if (rate < 1)
                {
                    Assert.False(fault.GetProperty("leaderHeldLease").GetBoolean(), fault.ToString());
                }
            }

            Assert.Contains($"fault {fault.GetProperty("number").GetInt32()}: node {node} (skewed) isolated too", run.Result.Out, StringComparison.Ordinal);
        }

        JsonElement skews = run.Outcome.GetProperty("skews");
        Assert.Equal(2, skews.GetProperty("skewed").GetInt32());
        Assert.Equal(2, skews.GetProperty("isolated").GetInt32());
        Assert.Equal(stillLed, skews.GetProperty("stillLedWhenCut").GetInt32());
        Assert.Contains("at the cut node ", run.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_isolated_leader_is_replaced_the_history_stays_linearizable_and_the_network_is_removed()
    {
        string[] args = ["chaos", "--network", "netns", "--nodes", "3", "--ops", "300", "--clients", "4", "--keys", "4", "--faults", "isolate,asymmetric", "--fault-count", "2"];
        // The first seed whose first fault is the isolate partition, aimed at the leader of the bucket's shard (it
        // then starts on a cluster just seen ready, with a leader).
        int seed = Enumerable.Range(1, 1000).First(s => FaultPlan.Create(new ChaosOptions
        {
            Operations = 300, Clients = 4, Keys = 4, Faults = [FaultKind.Isolate, FaultKind.Asymmetric], FaultCount = 2, Seed = s, Network = ChaosNetwork.Namespaces,
        })[0] is { Kind: FaultKind.Isolate, AtLeader: true });

        CliResult result = await Cli.RunAsync([.. args, "--seed", seed.ToString(CultureInfo.InvariantCulture), "--out", _out]);

        Assert.True(result.ExitCode == 0, result.ToString());
        string folder = Assert.Single(Directory.GetDirectories(_out));
        using JsonDocument report = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, ChaosReport.ResultFile)));
        JsonElement root = report.RootElement;
        Assert.Equal("linearizable", root.GetProperty("verdict").GetString());
        Assert.Empty(root.GetProperty("problems").EnumerateArray());
        Assert.Equal(300, root.GetProperty("counts")[0].GetProperty("total").GetInt32());
        Assert.Equal(3 * 4, root.GetProperty("finalReads").GetProperty("ok").GetInt32());
        Assert.Equal("netns", root.GetProperty("options").GetProperty("network").GetString());

        using JsonDocument faults = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, ChaosReport.FaultsFile)));
        JsonElement[] timeline = [.. faults.RootElement.GetProperty("timeline").EnumerateArray()];
        Assert.Equal(["asymmetric", "isolate"], timeline.Select(f => f.GetProperty("kind").GetString()).Order());
        foreach (JsonElement fault in timeline)
        {
            Assert.True(fault.GetProperty("startNanos").GetInt64() < fault.GetProperty("healNanos").GetInt64(), fault.ToString());
            Assert.True(fault.GetProperty("healNanos").GetInt64() <= fault.GetProperty("readyNanos").GetInt64(), fault.ToString());
            Assert.NotEmpty(fault.GetProperty("dropped").EnumerateArray());
            Assert.Contains(fault.GetProperty("node").GetUInt64().ToString(CultureInfo.InvariantCulture), fault.GetProperty("sides").GetString()!.Split(' '));
        }

        // The proof that the iptables rules cut the leader off: while isolated it lost its shard to a node that
        // won a later election. Without the partition nothing would have moved the leadership.
        JsonElement isolate = timeline.Single(f => f.GetProperty("kind").GetString() == "isolate");
        ulong isolated = isolate.GetProperty("node").GetUInt64();
        Assert.True(isolate.GetProperty("wasLeader").GetBoolean(), isolate.ToString());
        string[] dropped = [.. isolate.GetProperty("dropped").EnumerateArray().Select(l => l.GetString()!)];
        Assert.Equal(4, dropped.Length); // both directions between the isolated node and each of the two others
        Assert.All(dropped, l => Assert.Contains(isolated.ToString(CultureInfo.InvariantCulture), l.Split("->")));
        Assert.True(isolate.TryGetProperty("leaderBeforeHeal", out JsonElement newLeader), $"no leader seen under the partition: {isolate}");
        Assert.NotEqual(isolated, newLeader.GetUInt64());
        Assert.True(isolate.GetProperty("termBeforeHeal").GetUInt64() > isolate.GetProperty("term").GetUInt64(), isolate.ToString());
        Assert.Contains("| isolate |", File.ReadAllText(Path.Combine(folder, ChaosReport.SummaryFile)), StringComparison.Ordinal);

        // Everything the run created is gone: node processes, namespaces, veth pairs, bridge.
        Assert.Empty(ChaosTests.NodeProcessesUnder(_out));
        JsonElement network = root.GetProperty("network");
        string[] namespaces = [.. network.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("namespace").GetString()!)];
        Assert.Equal(3, namespaces.Length);
        Assert.All(namespaces, n => Assert.StartsWith(NamespaceNetwork.NamespacePrefix, n, StringComparison.Ordinal));
        IReadOnlyList<string> existing = await ExistingNamesAsync();
        Assert.DoesNotContain(network.GetProperty("bridge").GetString()!, existing);
        Assert.All(namespaces, n => Assert.DoesNotContain(n, existing));
        Assert.Empty(OfThisProcess(existing));
    }

    [Fact]
    public async Task An_interrupted_partition_run_stops_every_node_and_removes_the_network()
    {
        using var interrupt = new CancellationTokenSource();
        (Task<int> exit, SignallingWriter output, SignallingWriter error) = Cli.Start(interrupt.Token,
            "chaos", "--network", "netns", "--nodes", "3", "--ops", "2000", "--clients", "2", "--faults", "isolate", "--fault-count", "3",
            "--rate", "200", "--seed", "3", "--out", _out);

        await output.WaitForAsync("isolate partition at node", exit, TimeSpan.FromSeconds(60));
        Assert.NotEmpty(ChaosTests.NodeProcessesUnder(_out));
        Assert.NotEmpty(OfThisProcess(await ExistingNamesAsync()));
        await interrupt.CancelAsync();
        int code = await exit.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(code == 1, $"exit {code}\n{output.Text}\n{error.Text}");
        Assert.Contains("interrupted", error.Text, StringComparison.Ordinal);
        Assert.Empty(ChaosTests.NodeProcessesUnder(_out));
        Assert.Empty(OfThisProcess(await ExistingNamesAsync()));
    }

    /// <summary>The names of every network namespace and network interface of the host.</summary>
    private static async Task<IReadOnlyList<string>> ExistingNamesAsync()
    {
        NetworkTools tools = NetworkTools.Require();
        string namespaces = await HostCommand.RunAsync(tools.Ip, ["netns", "list"]);
        string links = await HostCommand.RunAsync(tools.Ip, ["-o", "link", "show"]);
        return
        [
            .. namespaces.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ')[0]),
            .. links.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(':', 3)).Where(p => p.Length == 3).Select(p => p[1].Trim().Split('@')[0]),
        ];
    }

    /// <summary>The names a <see cref="NamespaceNetwork"/> of this test process would use.</summary>
    private static List<string> OfThisProcess(IReadOnlyList<string> names)
    {
        string pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        return [.. names.Where(n => n.StartsWith($"{NamespaceNetwork.NamespacePrefix}{pid}c", StringComparison.Ordinal)
            || n.StartsWith($"sb{pid}c", StringComparison.Ordinal) || n.StartsWith($"sv{pid}c", StringComparison.Ordinal))];
    }
}
