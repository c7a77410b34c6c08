using System.Text.RegularExpressions;

namespace Strata.Cli.Tests;

/// <summary><c>strata demo --nodes 3</c> end to end: real node processes, none left behind.</summary>
[Collection(ProcessCollection.Name)]
public sealed partial class ClusterDemoTests
{
    [GeneratedRegex(@"pid ([0-9]+)")]
    private static partial Regex ProcessId();

    [GeneratedRegex(@"Data and logs in (\S+) \(temporary\)")]
    private static partial Regex DataDirectory();

    [Fact]
    public async Task Demo_with_three_nodes_survives_the_leader_kill_and_leaves_no_process_behind()
    {
        CliResult result = await Cli.RunAsync("demo", "--nodes", "3");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("", result.Error);
        result.AssertSectionsInOrder(
            "Starting a 3-node cluster",
            "Loading the sample namespace",
            "1. Atomic rename of a directory holding 2,000 segments",
            "4. A transaction whose guard fails changes nothing",
            "5. Losing a shard leader: kill -9, a new leader, nothing lost",
            "6. The killed node restarts and catches up",
            "Demo complete");

        Assert.Matches(@"the first write through the survivors succeeded [0-9]+\.[0-9]{2} s after the kill", result.Out);
        Assert.Matches(@"lists 2,245 objects: the 2,244 from before the kill and the probe written after it", result.Out);
        // Caught up as a follower, or handed the shard back by leadership balance (a leader has every committed entry).
        Assert.Matches(@"applied index [0-9]+ (≥ the commit index of leader node [1-3]|= its commit index)", result.Out);
        Assert.Contains("and it lists all 2,245 objects", result.Out, StringComparison.Ordinal);

        // Three nodes and one restart: four processes, every one gone; the temporary directory too.
        int[] pids = [.. ProcessId().Matches(result.Out).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Distinct()];
        Assert.Equal(4, pids.Length);
        Assert.All(pids, pid => Assert.False(LocalClusterTests.ProcessExists(pid), $"node process {pid} outlived the demo"));
        string directory = DataDirectory().Match(result.Out).Groups[1].Value;
        Assert.NotEmpty(directory);
        Assert.False(Directory.Exists(directory), $"temporary directory {directory} was left behind");
    }
}
