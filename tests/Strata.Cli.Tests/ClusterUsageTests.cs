using System.Net;
using System.Net.Sockets;

namespace Strata.Cli.Tests;

/// <summary>Usage errors of <c>start --initial-cluster</c> and <c>demo --nodes</c>, and unreachable cluster commands: no process is started.</summary>
public sealed class ClusterUsageTests
{
    private const string Two = "1=127.0.0.1:7301@127.0.0.1:7401,2=127.0.0.1:7302@127.0.0.1:7402";

    [Theory]
    [InlineData("1=127.0.0.1:7301", "strata: --initial-cluster member '1=127.0.0.1:7301' is not ID=API_HOST:PORT@RAFT_HOST:PORT with an id above 0")]
    [InlineData("0=127.0.0.1:7301@127.0.0.1:7401", "strata: --initial-cluster member '0=127.0.0.1:7301@127.0.0.1:7401' is not ID=API_HOST:PORT@RAFT_HOST:PORT with an id above 0")]
    [InlineData("one=127.0.0.1:7301@127.0.0.1:7401", "strata: --initial-cluster member 'one=127.0.0.1:7301@127.0.0.1:7401' is not ID=API_HOST:PORT@RAFT_HOST:PORT with an id above 0")]
    [InlineData("1=127.0.0.1:7301@127.0.0.1:7401,1=127.0.0.1:7302@127.0.0.1:7402", "strata: --initial-cluster names node 1 twice")]
    [InlineData("2=127.0.0.1:7302@127.0.0.1:7402,3=127.0.0.1:7303@127.0.0.1:7403", "strata: --initial-cluster does not name this node (--node-id 1)")]
    [InlineData(",", "strata: --initial-cluster names no member")]
    public async Task Start_refuses_a_bad_initial_cluster_with_exit_2_and_says_why(string members, string message)
    {
        CliResult result = await Cli.RunAsync("start", "--node-id", "1", "--initial-cluster", members, "--in-memory");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(message, result.Error.Trim());
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task Start_names_the_bad_address_of_a_member()
    {
        CliResult result = await Cli.RunAsync("start", "--node-id", "1", "--initial-cluster", "1=127.0.0.1:notaport@127.0.0.1:7401", "--in-memory");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("strata: --initial-cluster member '1=127.0.0.1:notaport@127.0.0.1:7401': ", result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task Start_refuses_a_compaction_threshold_of_zero()
    {
        CliResult result = await Cli.RunAsync("start", "--in-memory", "--port", "0", "--compaction-threshold", "0");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("strata: --compaction-threshold must be at least 1 entry", result.Error.Trim());
        Assert.Equal("", result.Out);
    }

    [Theory]
    [InlineData(new[] { "demo", "--nodes", "0" }, "strata: --nodes 0 is outside 1..7")]
    [InlineData(new[] { "demo", "--nodes", "8" }, "strata: --nodes 8 is outside 1..7")]
    [InlineData(new[] { "demo", "--nodes", "3", "--port", "7070" }, "strata: --port applies to the single-node demo; with --nodes every node gets free ports")]
    public async Task Demo_refuses_bad_node_counts_with_exit_2(string[] args, string message)
    {
        CliResult result = await Cli.RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(message, result.Error.Trim());
    }

    [Fact]
    public async Task Cluster_demo_refuses_a_data_directory_that_is_not_empty()
    {
        DirectoryInfo data = Directory.CreateTempSubdirectory("strata-cli-cluster-demo-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(data.FullName, "something"), "x");
            CliResult result = await Cli.RunAsync("demo", "--nodes", "3", "--data", data.FullName);

            Assert.Equal(2, result.ExitCode);
            Assert.Equal($"strata: --data {data.FullName} is not empty; the cluster demo needs an empty directory (its nodes get new ports on every run)", result.Error.Trim());
            Assert.Single(data.EnumerateFileSystemInfos());
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("cluster", "status")]
    [InlineData("shards")]
    public async Task Cluster_commands_exit_3_when_the_node_is_unreachable(params string[] command)
    {
        string address = $"http://127.0.0.1:{ClosedPort()}";

        CliResult result = await Cli.RunAsync([.. command, "--address", address]);

        Assert.Equal(3, result.ExitCode);
        Assert.StartsWith($"strata: cannot reach the node at {address} (Unavailable): ", result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task Cluster_status_refuses_a_bad_address_with_exit_2()
    {
        CliResult result = await Cli.RunAsync("cluster", "status", "--address", "ftp://x");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("strata: --address 'ftp://x' is not an http:// or https:// URL", result.Error.Trim());
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    // A well-formed list that names other nodes only.
    [Fact]
    public async Task Start_with_a_node_id_outside_a_valid_list_is_refused()
    {
        CliResult result = await Cli.RunAsync("start", "--node-id", "3", "--initial-cluster", Two, "--in-memory");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("strata: --initial-cluster does not name this node (--node-id 3)", result.Error.Trim());
    }
}
