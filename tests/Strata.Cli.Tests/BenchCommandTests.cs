using System.Text.Json;

namespace Strata.Cli.Tests;

/// <summary>
/// <c>strata bench</c> through the CLI: a short run's JSON adds up, a run with peers gives one row per target, bad usage
/// (including an unknown peer) exits 2, an unreachable node exits 3.
/// </summary>
public sealed class BenchCommandTests : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), "strata-bench-cli-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }

    [Fact]
    public async Task A_short_run_on_an_in_memory_node_writes_results_whose_counts_add_up()
    {
        CliResult result = await Cli.RunAsync(
            "bench", "--in-memory", "-w", "c", "-c", "4", "-d", "1s", "--warmup", "0s", "--objects", "200", "--directories", "10",
            "--out", _out, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using JsonDocument json = JsonDocument.Parse(result.Out);
        string[] files = Directory.GetFiles(_out);
        Assert.Contains(files, f => f.EndsWith(".json", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith(".md", StringComparison.Ordinal));
        string latencyPlot = Path.GetFileName(Assert.Single(files, f => f.EndsWith("-latency.png", StringComparison.Ordinal)));
        string timelinePlot = Path.GetFileName(Assert.Single(files, f => f.EndsWith("-timeline.png", StringComparison.Ordinal)));
        string markdown = File.ReadAllText(Assert.Single(files, f => f.EndsWith(".md", StringComparison.Ordinal)));
        Assert.Contains($"({latencyPlot})", markdown, StringComparison.Ordinal);
        Assert.Contains($"({timelinePlot})", markdown, StringComparison.Ordinal);
        JsonElement root = json.RootElement;
        long operations = root.GetProperty("operations").GetInt64();
        Assert.True(operations > 0, result.ToString());
        Assert.Equal(operations,
            root.GetProperty("successes").GetInt64() + root.GetProperty("conflicts").GetInt64() + root.GetProperty("errors").GetInt64());
        Assert.Equal(0, root.GetProperty("errors").GetInt64());
        Assert.Equal("ViralMix", root.GetProperty("workload").GetString());
    }

    [Fact]
    public async Task A_run_with_peers_measures_each_target_and_writes_one_side_by_side_table()
    {
        CliResult result = await Cli.RunAsync(
            "bench", "--in-memory", "-w", "c", "-c", "4", "-d", "1s", "--warmup", "0s", "--objects", "200", "--directories", "10",
            "--peers", "etcd,redis,postgres", "--out", _out, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using JsonDocument json = JsonDocument.Parse(result.Out);
        JsonElement[] rows = [.. json.RootElement.GetProperty("results").EnumerateArray()];
        Assert.Equal(["strata", "etcd", "redis", "postgres"], rows.Select(r => r.GetProperty("targetName").GetString()));
        foreach (JsonElement row in rows)
        {
            string name = row.GetProperty("targetName").GetString()!;
            long operations = row.GetProperty("operations").GetInt64();
            Assert.True(operations > 0, $"{name} completed no operation: {result}");
            Assert.Equal(0, row.GetProperty("errors").GetInt64());
            Assert.Equal(200, row.GetProperty("preload").GetProperty("objects").GetInt64());
            Assert.False(string.IsNullOrWhiteSpace(row.GetProperty("durability").GetString()), name);
        }

        string table = File.ReadAllText(Assert.Single(Directory.GetFiles(_out, "*-side-by-side.md")));
        foreach (string name in new[] { "strata", "etcd", "redis", "postgres" })
        {
            Assert.Contains($"| {name} | ", table, StringComparison.Ordinal);
            Assert.Single(Directory.GetFiles(_out, $"*-{name}.json"));
        }

        Assert.Contains("appendfsync always", table, StringComparison.Ordinal);
        Assert.Contains("synchronous_commit on", table, StringComparison.Ordinal);
        foreach (string plot in new[] { "latency", "timeline" })
        {
            string file = Path.GetFileName(Assert.Single(Directory.GetFiles(_out, $"*-side-by-side-{plot}.png")));
            Assert.Contains($"({file})", table, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Nodes_3_starts_node_processes_and_benches_them_through_the_shard_aware_client()
    {
        CliResult result = await Cli.RunAsync(
            "bench", "--nodes", "3", "-w", "a", "-c", "4", "-d", "1s", "--warmup", "0s", "--objects", "200", "--directories", "10", "--out", _out, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using JsonDocument json = JsonDocument.Parse(result.Out);
        JsonElement root = json.RootElement;
        Assert.True(root.GetProperty("operations").GetInt64() > 0, result.ToString());
        Assert.True(root.GetProperty("errors").GetInt64() == 0, $"errors by kind: {root.GetProperty("errorsByKind")}; {result}");
        Assert.Contains("3 node processes", root.GetProperty("target").GetString(), StringComparison.Ordinal);
        Assert.Contains("majority of the shard's 3 replicas", root.GetProperty("durability").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--nodes", "3", "--in-memory")]
    [InlineData("--nodes", "0", "--json")]
    [InlineData("--nodes", "3", "--address=http://127.0.0.1:1")]
    public async Task Bad_node_usage_exits_2(string option, string value, string other)
    {
        CliResult result = await Cli.RunAsync("bench", option, value, other, "-d", "1s", "--out", _out);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--nodes", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("etcd,mongodb", "1", "mongodb")]
    [InlineData("etcd", "2", "2")]
    public async Task Bad_peer_usage_exits_2_before_anything_runs(string peers, string members, string named)
    {
        CliResult result = await Cli.RunAsync("bench", "--address", "http://127.0.0.1:1", "-d", "1s", "--peers", peers, "--etcd-members", members, "--out", _out);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("strata: ", result.Error, StringComparison.Ordinal);
        Assert.Contains(named, result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_out));
    }

    [Theory]
    [InlineData("-w", "nope")]
    [InlineData("-c", "0")]
    [InlineData("--mode", "open")]
    public async Task Bad_usage_exits_2_with_a_message(string option, string value)
    {
        CliResult result = await Cli.RunAsync("bench", "--in-memory", "-d", "1s", option, value, "--out", _out);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("strata: ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_scale_mode_loads_reads_at_a_tenth_and_at_all_and_writes_its_report_and_plots()
    {
        CliResult result = await Cli.RunAsync(
            "bench", "-w", "scale", "--objects", "500", "--scale-buckets", "2", "--directories", "5", "-c", "2", "-d", "300ms", "--warmup", "0s",
            "--out", _out, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using JsonDocument json = JsonDocument.Parse(result.Out);
        JsonElement root = json.RootElement;
        Assert.Equal(500, root.GetProperty("objects").GetInt64());
        Assert.Equal(50, root.GetProperty("tenth").GetInt64());
        Assert.Equal(1, root.GetProperty("replicas").GetInt32());
        foreach (string reads in new[] { "readsAtTenth", "readsAtFull" })
        {
            Assert.True(root.GetProperty(reads).GetProperty("operations").GetInt64() > 0, reads);
            Assert.Equal(0, root.GetProperty(reads).GetProperty("errors").GetInt64());
        }

        // The default node is on RocksDB in a temporary directory: its bytes on disk are measured.
        Assert.True(root.GetProperty("diskAtFull").GetProperty("totalBytes").GetInt64() > 0, result.Out);
        Assert.True(root.GetProperty("bytesPerObjectPerReplica").GetDouble() > 0, result.Out);
        string[] files = Directory.GetFiles(_out);
        string markdown = File.ReadAllText(Assert.Single(files, f => f.EndsWith(".md", StringComparison.Ordinal)));
        foreach (string suffix in new[] { "-latency.png", "-ingest.png" })
        {
            string plot = Path.GetFileName(Assert.Single(files, f => f.EndsWith(suffix, StringComparison.Ordinal)));
            Assert.Contains($"({plot})", markdown, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("--peers", "redis", "scale mode")]
    [InlineData("--limits", "true", "scale mode")]
    [InlineData("--objects", "9", "at least 10 objects")]
    [InlineData("--scale-buckets", "0", "scale buckets")]
    [InlineData("--load-parallelism", "300", "load parallelism")]
    public async Task Bad_scale_usage_exits_2_and_loads_nothing(string option, string value, string message)
    {
        CliResult result = await Cli.RunAsync("bench", "-w", "scale", "--in-memory", "-d", "1s", option, value, "--out", _out);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_out));
    }

    [Fact]
    public async Task An_unreachable_node_exits_3()
    {
        CliResult result = await Cli.RunAsync("bench", "--address", "http://127.0.0.1:1", "-d", "1s", "--warmup", "0s", "--out", _out);

        Assert.True(result.ExitCode == 3, result.ToString());
    }
}
