using System.Text.Json;

namespace Strata.Cli.Tests;

/// <summary><c>strata bench</c> through the CLI: a short run's JSON adds up, bad usage exits 2, an unreachable node exits 3.</summary>
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
        JsonElement root = json.RootElement;
        long operations = root.GetProperty("operations").GetInt64();
        Assert.True(operations > 0, result.ToString());
        Assert.Equal(operations,
            root.GetProperty("successes").GetInt64() + root.GetProperty("conflicts").GetInt64() + root.GetProperty("errors").GetInt64());
        Assert.Equal(0, root.GetProperty("errors").GetInt64());
        Assert.Equal("ViralMix", root.GetProperty("workload").GetString());
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
    public async Task An_unreachable_node_exits_3()
    {
        CliResult result = await Cli.RunAsync("bench", "--address", "http://127.0.0.1:1", "-d", "1s", "--warmup", "0s", "--out", _out);

        Assert.True(result.ExitCode == 3, result.ToString());
    }
}
