using System.Globalization;
using System.Text.Json;
using Strata.Cli.Chaos;

namespace Strata.Cli.Tests;

/// <summary>
/// <c>strata chaos --faults membership</c> against real node processes on loopback: a node joins under load, the
/// bucket's shard leader is decommissioned and retired for good, leadership is transferred; the history stays
/// linearizable, every change is in the timeline, the map at the end has the joined node active and the
/// decommissioned one decommissioned, and no node process or data directory outlives the run.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class MembershipChaosTests : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), "strata-membership-cli-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }

    [Fact]
    public async Task A_join_a_decommission_of_the_shard_leader_and_a_transfer_keep_the_history_linearizable()
    {
        // The first seed whose plan is: decommission aimed at the bucket's shard leader, join, transfer. With three
        // nodes the decommission lets node 4 join first (the three-node rule); the planned join then adds node 5,
        // which no later fault can take away (a joined node may well lead the shard and be the one decommissioned).
        var options = new ChaosOptions { Operations = 300, Clients = 4, Keys = 4, Faults = ChaosOptions.Memberships, FaultCount = 3 };
        int seed = Enumerable.Range(1, 1000).First(s => FaultPlan.Create(options with { Seed = s }) is
            [{ Kind: FaultKind.Decommission, AtLeader: true }, { Kind: FaultKind.Join }, { Kind: FaultKind.Transfer }]);

        CliResult result = await Cli.RunAsync(
            "chaos", "--nodes", "3", "--ops", "300", "--clients", "4", "--keys", "4", "--faults", "membership", "--fault-count", "3",
            "--seed", seed.ToString(CultureInfo.InvariantCulture), "--out", _out);

        Assert.True(result.ExitCode == 0, result.ToString());
        string folder = Assert.Single(Directory.GetDirectories(_out));
        using JsonDocument verdict = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, ChaosReport.ResultFile)));
        Assert.Equal("linearizable", verdict.RootElement.GetProperty("verdict").GetString());
        Assert.Empty(verdict.RootElement.GetProperty("problems").EnumerateArray());

        using JsonDocument faults = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, ChaosReport.FaultsFile)));
        JsonElement[] timeline = [.. faults.RootElement.GetProperty("timeline").EnumerateArray()];
        Assert.Equal(["join", "decommission", "join", "transfer"], timeline.Select(f => f.GetProperty("kind").GetString()));
        Assert.Equal([1, 1, 2, 3], timeline.Select(f => f.GetProperty("number").GetInt32()));
        Assert.All(timeline, f => Assert.False(f.TryGetProperty("skipped", out JsonElement skipped) && skipped.GetBoolean(), f.ToString()));
        foreach (JsonElement fault in timeline)
        {
            long start = fault.GetProperty("startNanos").GetInt64();
            long done = fault.GetProperty("healNanos").GetInt64();
            long ready = fault.GetProperty("readyNanos").GetInt64();
            Assert.True(start < done && done <= ready, fault.ToString());
        }

        // One change at a time: each began after the previous one was done and the cluster served.
        for (int i = 1; i < timeline.Length; i++)
        {
            Assert.True(timeline[i - 1].GetProperty("readyNanos").GetInt64() <= timeline[i].GetProperty("startNanos").GetInt64());
        }

        Assert.Contains("so that the decommission of fault 1 leaves at least 3 active nodes", timeline[0].GetProperty("note").GetString(), StringComparison.Ordinal);
        Assert.Equal([4UL, 5UL], new[] { timeline[0], timeline[2] }.Select(j => j.GetProperty("node").GetUInt64()));
        foreach (JsonElement join in new[] { timeline[0], timeline[2] })
        {
            long listed = join.GetProperty("listedNanos").GetInt64();
            long hosting = join.GetProperty("hostingNanos").GetInt64();
            Assert.True(join.GetProperty("startNanos").GetInt64() < listed && listed <= hosting && hosting <= join.GetProperty("healNanos").GetInt64(), join.ToString());
        }

        const ulong joined = 5;

        JsonElement decommission = timeline[1];
        ulong retired = decommission.GetProperty("node").GetUInt64();
        Assert.True(decommission.GetProperty("wasLeader").GetBoolean(), decommission.ToString());
        Assert.True(decommission.GetProperty("decommissionedNanos").GetInt64() <= decommission.GetProperty("healNanos").GetInt64());
        Assert.NotEqual(retired, decommission.GetProperty("leaderAfter").GetUInt64());

        JsonElement transfer = timeline[3];
        ulong oldLeader = transfer.GetProperty("node").GetUInt64();
        ulong target = transfer.GetProperty("target").GetUInt64();
        Assert.NotEqual(oldLeader, target);
        Assert.NotEqual(retired, oldLeader);
        Assert.NotEqual(retired, target);
        if (transfer.GetProperty("moved").GetBoolean())
        {
            Assert.NotEqual(oldLeader, transfer.GetProperty("leaderAfter").GetUInt64());
        }

        // The map after the heal: the joined node active, the decommissioned one decommissioned and its process gone
        // (seen while the others still ran), and the final reads through the shard's replicas as they were then.
        JsonElement[] members = [.. faults.RootElement.GetProperty("members").EnumerateArray()];
        JsonElement newcomer = Assert.Single(members, m => m.GetProperty("node").GetUInt64() == joined);
        Assert.Equal("active", newcomer.GetProperty("state").GetString());
        Assert.True(newcomer.GetProperty("joined").GetBoolean());
        Assert.True(newcomer.GetProperty("running").GetBoolean());
        JsonElement gone = Assert.Single(members, m => m.GetProperty("node").GetUInt64() == retired);
        Assert.Equal("decommissioned", gone.GetProperty("state").GetString());
        Assert.False(gone.GetProperty("running").GetBoolean());
        Assert.Equal(4, members.Count(m => m.GetProperty("state").GetString() == "active"));
        Assert.Equal(5, members.Length);
        ulong[] finalReplicas = [.. faults.RootElement.GetProperty("finalReplicas").EnumerateArray().Select(r => r.GetUInt64())];
        Assert.Equal(3, finalReplicas.Length);
        Assert.DoesNotContain(retired, finalReplicas);
        Assert.Equal(
            finalReplicas.Order(),
            verdict.RootElement.GetProperty("finalValues").EnumerateArray().Select(v => v.GetProperty("node").GetUInt64()).Distinct().Order());

        // The retired node was started once and never again (not by a later fault, not for the final reads).
        string retiredLog = File.ReadAllText(Path.Combine(folder, "cluster", $"node-{retired}.log"));
        Assert.Single(retiredLog.Split('\n'), line => line.StartsWith("--- ", StringComparison.Ordinal));
        Assert.Contains("--join", File.ReadAllText(Path.Combine(folder, "cluster", $"node-{joined}.log")), StringComparison.Ordinal);

        Assert.Empty(ChaosTests.NodeProcessesUnder(_out));
        foreach (ulong node in new ulong[] { 1, 2, 3, 4, 5 })
        {
            Assert.False(Directory.Exists(Path.Combine(folder, "cluster", $"node-{node}")), $"node {node}'s data directory is left");
        }
    }
}
