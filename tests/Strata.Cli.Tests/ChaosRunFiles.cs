using System.Text.Json;
using Strata.Cli.Chaos;

namespace Strata.Cli.Tests;

/// <summary>
/// A short real-process <c>strata chaos</c> run of one fault kind that must end linearizable with no crash, and what it
/// wrote: the run folder, the plan, the fault timeline (every entry of that kind) and <c>result.json</c>.
/// </summary>
internal sealed record ChaosRunFiles(CliResult Result, string Folder, JsonElement[] Plan, JsonElement[] Timeline, JsonElement Outcome)
{
    /// <summary>
    /// Runs <paramref name="faultCount"/> faults of <paramref name="faults"/> over <paramref name="operations"/>
    /// operations on 3 nodes into <paramref name="outDirectory"/> (which must end up holding just this run), and checks
    /// the verdict, the crash count and the kinds on the timeline.
    /// </summary>
    public static async Task<ChaosRunFiles> RunAsync(string outDirectory, string faults, int faultCount, int seed, int operations = 900, params string[] extra)
    {
        CliResult result = await Cli.RunAsync([
            "chaos", "--nodes", "3", "--ops", operations.ToString(System.Globalization.CultureInfo.InvariantCulture), "--clients", "4", "--keys", "4",
            "--faults", faults, "--fault-count", faultCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", outDirectory, .. extra]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("linearizable: ", result.Out, StringComparison.Ordinal);
        string folder = Assert.Single(Directory.GetDirectories(outDirectory));
        using JsonDocument faultsFile = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, ChaosReport.FaultsFile)));
        JsonElement[] plan = [.. faultsFile.RootElement.GetProperty("plan").EnumerateArray().Select(e => e.Clone())];
        JsonElement[] timeline = [.. faultsFile.RootElement.GetProperty("timeline").EnumerateArray().Select(e => e.Clone())];
        Assert.Equal(Enumerable.Repeat(faults, faultCount), timeline.Select(f => f.GetProperty("kind").GetString()));
        using JsonDocument resultFile = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, ChaosReport.ResultFile)));
        JsonElement outcome = resultFile.RootElement.Clone();
        Assert.Equal("linearizable", outcome.GetProperty("verdict").GetString());
        Assert.Equal(0, outcome.GetProperty("crashes").GetInt32());
        return new ChaosRunFiles(result, folder, plan, timeline, outcome);
    }

    /// <summary>The salt the plan drew for timeline entry <paramref name="fault"/>.</summary>
    public int SaltOf(JsonElement fault) => Plan[fault.GetProperty("number").GetInt32() - 1].GetProperty("salt").GetInt32();

    /// <summary>The log of the node timeline entry <paramref name="fault"/> hit.</summary>
    public string LogOf(JsonElement fault) => File.ReadAllText(Path.Combine(Folder, "cluster", $"node-{fault.GetProperty("node").GetUInt64()}.log"));

    /// <summary>When each recorded operation was called (run clock, nanoseconds), in history order.</summary>
    public long[] CallTimes => [.. File.ReadAllLines(Path.Combine(Folder, ChaosReport.HistoryFile))
        .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("callNanos").GetInt64())];

    /// <summary>The run's <c>summary.md</c>.</summary>
    public string Summary => File.ReadAllText(Path.Combine(Folder, ChaosReport.SummaryFile));
}
