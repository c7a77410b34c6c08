using System.Text.Json;
using Strata.Cli.Chaos;

namespace Strata.Cli.Tests;

/// <summary>
/// <c>strata chaos --workload namespace</c> against real node processes: a short run with a kill ends with every
/// namespace invariant evaluated over a non-empty final state and none violated, the metadata registers
/// linearizable, a complete report, and no node process left.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class NamespaceChaosTests : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), "strata-ns-chaos-cli-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }

    [Fact]
    public async Task A_short_namespace_run_with_a_kill_keeps_every_invariant_and_evaluates_each()
    {
        CliResult result = await Cli.RunAsync(
            "chaos", "--workload", "namespace", "--nodes", "3", "--ops", "300", "--clients", "4", "--keys", "3", "--faults", "kill", "--fault-count", "1",
            "--seed", "7", "--out", _out);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("invariants: acknowledged-creates-kept", result.Out, StringComparison.Ordinal);
        string folder = Assert.Single(Directory.GetDirectories(_out));
        foreach (string file in new[] { ChaosReport.HistoryFile, NamespaceReport.HistoryFile, ChaosReport.FaultsFile, ChaosReport.ResultFile, ChaosReport.SummaryFile })
        {
            Assert.True(File.Exists(Path.Combine(folder, file)), $"{file} is missing");
        }

        using JsonDocument report = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, ChaosReport.ResultFile)));
        JsonElement root = report.RootElement;
        Assert.Equal("linearizable", root.GetProperty("verdict").GetString());
        Assert.Equal("namespace", root.GetProperty("workload").GetString());
        Assert.Empty(root.GetProperty("problems").EnumerateArray());
        JsonElement ns = root.GetProperty("namespace");
        Assert.True(ns.GetProperty("evaluated").GetBoolean());
        Assert.Empty(ns.GetProperty("violations").EnumerateArray());
        JsonElement[] invariants = [.. ns.GetProperty("invariants").EnumerateArray()];
        Assert.Equal(NamespaceInvariants.All, invariants.Select(i => i.GetProperty("invariant").GetString()));
        Assert.All(invariants, i => Assert.True(i.GetProperty("checked").GetInt32() > 0, $"{i} checked nothing"));
        Assert.All(invariants, i => Assert.Equal(0, i.GetProperty("violations").GetInt32()));
        Assert.Equal(NamespaceWorkload.DirectoryCount, ns.GetProperty("directoriesFound").GetInt32());
        Assert.Equal(NamespaceWorkload.DirectoryCount, invariants.Single(i => i.GetProperty("invariant").GetString() == NamespaceInvariants.Reachable).GetProperty("checked").GetInt32());

        // Every acknowledged create was found, and nothing else but indeterminate ones that took effect.
        int acknowledged = ns.GetProperty("acknowledgedCreates").GetInt32();
        Assert.True(acknowledged > 0, ns.ToString());
        Assert.Equal(acknowledged + ns.GetProperty("indeterminateCreatesFound").GetInt32(), ns.GetProperty("objectsFound").GetInt32());
        Assert.Equal(acknowledged + NamespaceWorkload.DirectoryCount + ns.GetProperty("indeterminateCreatesFound").GetInt32(), ns.GetProperty("entriesListed").GetInt32());
        Assert.True(ns.GetProperty("listingPages").GetInt32() > 1, "the final listing spans pages");

        // Every operation index below --ops is used once, by a namespace operation or a metadata register operation.
        int[] namespaceIndices = [.. File.ReadAllLines(Path.Combine(folder, NamespaceReport.HistoryFile)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("index").GetInt32())];
        JsonElement[] registerOps = [.. File.ReadAllLines(Path.Combine(folder, ChaosReport.HistoryFile)).Select(l => JsonDocument.Parse(l).RootElement)];
        int[] registerIndices = [.. registerOps.Where(o => !o.TryGetProperty("final", out JsonElement f) || !f.GetBoolean()).Select(o => o.GetProperty("index").GetInt32())];
        Assert.Equal(Enumerable.Range(0, 300), namespaceIndices.Concat(registerIndices).Order());
        Assert.Equal(3 * 3, registerOps.Length - registerIndices.Length); // each metadata register read through each replica
        JsonElement counts = ns.GetProperty("counts")[0];
        Assert.Equal(namespaceIndices.Length, counts.GetProperty("total").GetInt32());

        using JsonDocument faults = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, ChaosReport.FaultsFile)));
        Assert.Equal("kill", Assert.Single(faults.RootElement.GetProperty("timeline").EnumerateArray()).GetProperty("kind").GetString());
        string summary = File.ReadAllText(Path.Combine(folder, ChaosReport.SummaryFile));
        Assert.Contains("## Namespace", summary, StringComparison.Ordinal);
        Assert.Contains("- Workload: namespace", summary, StringComparison.Ordinal);
        Assert.Empty(ChaosTests.NodeProcessesUnder(_out));
    }

    [Fact]
    public async Task An_unknown_workload_is_a_usage_error()
    {
        CliResult result = await Cli.RunAsync("chaos", "--workload", "queue", "--ops", "300", "--out", _out);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--workload 'queue' is not register or namespace", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_out));
    }
}
