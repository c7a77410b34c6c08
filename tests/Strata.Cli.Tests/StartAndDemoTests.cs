using System.Text.RegularExpressions;

namespace Strata.Cli.Tests;

public sealed partial class StartAndDemoTests
{
    // A liveness bound, not a timing assertion: a command that never prints its banner fails instead of hanging.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [GeneratedRegex(@"gRPC address\s+(http://[0-9.]+:[0-9]+)/?")]
    private static partial Regex AddressLine();

    [Fact]
    public async Task Start_serves_until_cancelled_then_stops_cleanly()
    {
        using var stop = new CancellationTokenSource();
        (Task<int> exit, SignallingWriter output, SignallingWriter error) = Cli.Start(stop.Token, "start", "--in-memory", "--port", "0");

        await output.WaitForAsync("Press Ctrl+C to stop.", exit, Patience);
        string address = AddressLine().Match(output.Text).Groups[1].Value;
        CliResult created = await Cli.RunAsync("bucket", "create", "served", "--address", address);
        CliResult listed = await Cli.RunAsync("bucket", "ls", "--address", address);
        await stop.CancelAsync();
        int code = await exit;

        Assert.Contains("grpc.health.v1.Health", output.Text, StringComparison.Ordinal);
        Assert.Contains("in memory", output.Text, StringComparison.Ordinal);
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Contains("served", listed.Out, StringComparison.Ordinal);
        Assert.True(code == 0, $"exit {code}: {error.Text}");
        Assert.EndsWith("stopped", output.Text.TrimEnd(), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"operations\s+(http://[0-9.]+:[0-9]+)/metrics")]
    private static partial Regex OperationsLine();

    [Fact]
    public async Task Start_with_a_metrics_port_serves_prometheus_metrics_and_health_over_http()
    {
        using var stop = new CancellationTokenSource();
        (Task<int> exit, SignallingWriter output, SignallingWriter error) =
            Cli.Start(stop.Token, "start", "--in-memory", "--port", "0", "--metrics-port", "0");

        await output.WaitForAsync("Press Ctrl+C to stop.", exit, Patience);
        Match operations = OperationsLine().Match(output.Text);
        Assert.True(operations.Success, $"the banner names the operations endpoint: {output.Text}");
        using var http = new HttpClient();
        string metrics = await http.GetStringAsync(new Uri(operations.Groups[1].Value + "/metrics"));
        string health = await http.GetStringAsync(new Uri(operations.Groups[1].Value + "/healthz"));
        await stop.CancelAsync();
        int code = await exit;

        Assert.Contains("strata_reads_lease", metrics, StringComparison.Ordinal);
        Assert.Equal("Healthy", health);
        Assert.True(code == 0, $"exit {code}: {error.Text}");
    }

    [Fact]
    public async Task Start_with_a_data_directory_keeps_the_namespace_across_restarts()
    {
        DirectoryInfo data = Directory.CreateTempSubdirectory("strata-cli-start-");
        try
        {
            string address = await RunNodeAsync(data.FullName, async address =>
                Assert.Equal(0, (await Cli.RunAsync("put", "kept", "a/b.ts", "--address", address, "--size", "7")).ExitCode),
                createBucket: "kept");
            await RunNodeAsync(data.FullName, async address =>
            {
                CliResult stat = await Cli.RunAsync("stat", "kept", "a/b.ts", "--address", address);
                Assert.True(stat.ExitCode == 0, stat.ToString());
                Assert.Contains("7 bytes", stat.Out, StringComparison.Ordinal);
            });
            Assert.NotEmpty(address);
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    private static async Task<string> RunNodeAsync(string data, Func<string, Task> use, string? createBucket = null)
    {
        using var stop = new CancellationTokenSource();
        (Task<int> exit, SignallingWriter output, SignallingWriter error) = Cli.Start(stop.Token, "start", "--data", data, "--port", "0");
        await output.WaitForAsync("Press Ctrl+C to stop.", exit, Patience);
        Assert.Contains(data, output.Text, StringComparison.Ordinal);
        string address = AddressLine().Match(output.Text).Groups[1].Value;
        try
        {
            if (createBucket is not null)
            {
                Assert.Equal(0, (await Cli.RunAsync("bucket", "create", createBucket, "--address", address)).ExitCode);
            }

            await use(address);
        }
        finally
        {
            await stop.CancelAsync();
            Assert.True(await exit == 0, error.Text);
        }

        return address;
    }

    [Fact]
    public async Task Demo_runs_end_to_end_and_shows_all_four_sections()
    {
        CliResult result = await Cli.RunAsync("demo");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("", result.Error);
        result.AssertSectionsInOrder(
            "Loading the sample namespace",
            "1. Atomic rename of a directory holding 2,000 segments",
            "2. Newest uploads first: a paginated listing by upload time",
            "3. Optimistic concurrency: two writers, one generation",
            "4. A transaction whose guard fails changes nothing",
            "Demo complete");

        Assert.Matches(@"Renamed in [0-9]+\.[0-9]{2} ms", result.Out);
        Assert.Contains("entries moved: 1", result.Out, StringComparison.Ordinal);
        Assert.Contains("all 2,000 segments are listed under the new path", result.Out, StringComparison.Ordinal);
        Assert.Contains("page 1: 10 entries", result.Out, StringComparison.Ordinal);
        Assert.Contains("page 2: 10 entries", result.Out, StringComparison.Ordinal);
        Assert.Contains("seg-00025.ts", result.Out, StringComparison.Ordinal);
        Assert.Contains("precondition failed (FailedPrecondition)", result.Out, StringComparison.Ordinal);
        Assert.Contains("operation 0", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_with_a_data_directory_keeps_it_and_refuses_to_run_twice_into_it()
    {
        DirectoryInfo data = Directory.CreateTempSubdirectory("strata-cli-demo-");
        try
        {
            CliResult first = await Cli.RunAsync("demo", "--data", data.FullName);
            CliResult second = await Cli.RunAsync("demo", "--data", data.FullName);

            Assert.True(first.ExitCode == 0, first.ToString());
            Assert.Contains($"data in {data.FullName}", first.Out, StringComparison.Ordinal);
            Assert.NotEmpty(data.EnumerateFiles());
            Assert.Equal(1, second.ExitCode);
            Assert.Equal("strata: the data directory already holds bucket 'media' from an earlier demo; omit --data or pass an empty directory", second.Error.Trim());
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Demo_keep_running_serves_the_sample_namespace_until_stopped()
    {
        using var stop = new CancellationTokenSource();
        (Task<int> exit, SignallingWriter output, SignallingWriter error) = Cli.Start(stop.Token, "demo", "--keep-running");

        await output.WaitForAsync("Press Ctrl+C to stop.", exit, Patience);
        string address = AddressLine().Match(output.Text).Groups[1].Value;
        string dataDirectory = Regex.Match(output.Text, @"data in (\S+)").Groups[1].Value;
        CliResult listed = await Cli.RunAsync("ls", "media", "creators/", "--address", address);
        await stop.CancelAsync();
        int code = await exit;

        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.Contains("creators/ana-lima/", listed.Out, StringComparison.Ordinal);
        Assert.True(code == 0, $"exit {code}: {error.Text}");
        Assert.False(Directory.Exists(dataDirectory), $"temporary data directory {dataDirectory} was left behind");
    }
}
