using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Strata.Bench;
using Strata.Bench.Workloads;
using Strata.Client;
using Strata.Server;

namespace Strata.Cli.Commands;

/// <summary>
/// <c>strata bench</c>: runs one workload (a hot reads, b creates, c viral mix, e OCC contention) in the closed or open
/// loop against a node — the one at <c>--address</c>, or by default a node this command starts in-process on RocksDB
/// in a temporary directory (deleted afterwards) — shows progress, prints the latency table, and writes
/// <c>{workload}-{mode}-{time}.json</c> and <c>.md</c> into <c>--out</c>.
/// </summary>
internal static class BenchCommand
{
    // A benchmark counts what happens: no retries that would hide failures or add hidden latency.
    private static readonly StrataClientOptions ClientOptions = new() { DefaultDeadline = TimeSpan.FromSeconds(10), Retry = RetryPolicy.None };

    public static Command Create(CliEnvironment env)
    {
        var workload = new Option<string>("--workload", "-w")
        {
            Description = "a|hot-reads, b|creates, c|viral, e|occ",
            HelpName = "WORKLOAD",
            DefaultValueFactory = _ => "a",
        };
        var mode = new Option<string>("--mode") { Description = "closed (N clients back to back) or open (fixed arrival rate, needs --rate)", DefaultValueFactory = _ => "closed" };
        var concurrency = new Option<int>("--concurrency", "-c") { Description = "Concurrent clients (open loop: workers sharing the schedule)", DefaultValueFactory = _ => 16 };
        var rate = new Option<double>("--rate") { Description = "Open loop: operations per second offered", HelpName = "OPS" };
        var duration = new Option<string>("--duration", "-d") { Description = "Measured time (20s, 500ms, 2m; a bare number is seconds)", DefaultValueFactory = _ => "20s" };
        var warmup = new Option<string>("--warmup") { Description = "Unrecorded load before the measurement", DefaultValueFactory = _ => "5s" };
        var objects = new Option<int>("--objects", "--keys") { Description = "Objects preloaded for the reading workloads (a, c)", DefaultValueFactory = _ => 100_000 };
        var directories = new Option<int>("--directories") { Description = "Directories the objects (a, c) or the creates (b) spread over", DefaultValueFactory = _ => 1_000 };
        var distribution = new Option<string>("--distribution") { Description = "Key choice: zipfian or uniform", DefaultValueFactory = _ => "zipfian" };
        var theta = new Option<double>("--zipf-theta") { Description = "Zipfian exponent in (0, 1)", DefaultValueFactory = _ => 0.99 };
        var hotDirectories = new Option<int>("--hot-directories") { Description = "Viral mix: directories receiving the creates", DefaultValueFactory = _ => 4 };
        var hotObjects = new Option<int>("--hot-objects") { Description = "OCC: objects all clients update", DefaultValueFactory = _ => 1 };
        var clients = new Option<int>("--clients")
        {
            Description = "Client instances (each its own client id and HTTP/2 connection, like separate gateways); workers are spread over them",
            DefaultValueFactory = _ => 1,
        };
        var seed = new Option<int>("--seed") { Description = "Seed of every random choice", DefaultValueFactory = _ => 1 };
        var bucket = new Option<string>("--bucket") { Description = "Bucket to use (default: a fresh one per run)" };
        var output = new Option<string>("--out") { Description = "Directory for the JSON results and Markdown summary", HelpName = "DIR", DefaultValueFactory = _ => "bench-results" };
        var address = new Option<string>("--address") { Description = "Bench the node at this gRPC address instead of starting one in-process", HelpName = "URL" };
        var inMemory = new Option<bool>("--in-memory") { Description = "In-process node: keep the namespace in memory instead of RocksDB" };
        var data = new Option<string>("--data") { Description = "In-process node: RocksDB directory (default: a temporary one, deleted afterwards)", HelpName = "DIR" };
        var json = new Option<bool>("--json") { Description = "Print the JSON results instead of the table" };
        var cluster = new Option<bool>("--cluster") { Description = "With --address: the node is a seed of a cluster; clients route each call to its shard's leader" };
        var command = new Command("bench", "Measure a node: latency percentiles, throughput and errors of a workload")
        {
            workload, mode, concurrency, rate, duration, warmup, objects, directories, distribution, theta, hotDirectories, hotObjects,
            clients, seed, bucket, output, address, inMemory, data, json, cluster,
        };
        command.SetGuardedAction(env, async (parse, cancellationToken) =>
        {
            var options = new BenchOptions
            {
                Workload = ParseWorkload(parse.GetValue(workload)!),
                Mode = ParseMode(parse.GetValue(mode)!),
                Concurrency = parse.GetValue(concurrency),
                Rate = parse.GetValue(rate),
                Duration = ParseDuration("--duration", parse.GetValue(duration)!),
                Warmup = ParseDuration("--warmup", parse.GetValue(warmup)!),
                Objects = parse.GetValue(objects),
                Directories = parse.GetValue(directories),
                Distribution = ParseDistribution(parse.GetValue(distribution)!),
                ZipfTheta = parse.GetValue(theta),
                HotDirectories = parse.GetValue(hotDirectories),
                HotObjects = parse.GetValue(hotObjects),
                Seed = parse.GetValue(seed),
                Bucket = parse.GetValue(bucket),
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                throw new UsageException(e.Message);
            }

            int clientCount = parse.GetValue(clients);
            if (clientCount < 1 || clientCount > options.Concurrency)
            {
                throw new UsageException($"--clients {clientCount} is outside 1..{options.Concurrency} (the concurrency)");
            }

            string commandLine = "strata " + string.Join(' ', parse.Tokens.Select(t => t.Value));
            string? remote = parse.GetValue(address);
            if (remote is not null)
            {
                if (parse.GetValue(inMemory) || parse.GetValue(data) is not null)
                {
                    throw new UsageException("--in-memory and --data describe an in-process node; they cannot be combined with --address");
                }

                Uri node = NodeCommand.ParseAddress(remote);
                bool routed = parse.GetValue(cluster);
                string remoteTarget = routed
                    ? $"cluster seeded by {NodeLauncher.Display(node)}, calls routed to each shard's leader"
                    : $"node at {NodeLauncher.Display(node)}";
                return await RunAsync(env, node, remoteTarget, options, clientCount, routed, parse.GetValue(output)!, parse.GetValue(json), commandLine, cancellationToken)
                    .ConfigureAwait(false);
            }

            if (parse.GetValue(cluster))
            {
                throw new UsageException("--cluster needs --address (a node of the cluster to bench)");
            }

            string? chosen = parse.GetValue(data);
            bool memory = parse.GetValue(inMemory);
            string? directory = memory ? null : chosen ?? Directory.CreateTempSubdirectory("strata-bench-").FullName;
            try
            {
                await using StrataServer server = await NodeLauncher.StartAsync(
                    new StrataServerOptions { InMemory = memory, DataDirectory = directory ?? "", Port = 0 }, cancellationToken).ConfigureAwait(false);
                string target = memory
                    ? "in-process single node, in memory, same process as the load generator"
                    : $"in-process single node, RocksDB in {(chosen is null ? "a temporary directory" : server.DataDirectory)}, same process as the load generator";
                return await RunAsync(env, server.Address, target, options, clientCount, routed: false, parse.GetValue(output)!, parse.GetValue(json), commandLine, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                if (chosen is null && directory is not null)
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(
        CliEnvironment env, Uri node, string target, BenchOptions options, int clientCount, bool routed, string outDirectory, bool json, string commandLine,
        CancellationToken cancellationToken)
    {
        string bucket = options.Bucket ?? string.Create(CultureInfo.InvariantCulture,
            $"bench-{BenchReport.Name(options.Workload)}-{TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds():x}");
        StrataClient[] clients = [.. Enumerable.Range(0, clientCount)
            .Select(_ => routed ? StrataClient.ConnectCluster([node], ClientOptions) : StrataClient.Connect(node, ClientOptions))];
        try
        {
            return await RunAsync(env, node, target, options, clients, bucket, outDirectory, json, commandLine, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (StrataClient client in clients)
            {
                client.Dispose();
            }
        }
    }

    private static async Task<int> RunAsync(
        CliEnvironment env, Uri node, string target, BenchOptions options, StrataClient[] clients, string bucket, string outDirectory, bool json, string commandLine,
        CancellationToken cancellationToken)
    {
        StrataWorkload work = StrataWorkload.Create(clients, options, bucket);
        target = string.Create(CultureInfo.InvariantCulture, $"{target}; {clients.Length} client{(clients.Length == 1 ? "" : "s")} (each its own client id and HTTP/2 connection)");
        var display = new ProgressLine(env, json);
        BenchResult result;
        try
        {
            if (env.Console.Profile.Capabilities.Interactive && !json)
            {
                result = await env.Console.Status().StartAsync("starting", async context =>
                {
                    display.Attach(context);
                    return await new BenchRunner(work, options, display).RunAsync(bucket, target, cancellationToken).ConfigureAwait(false);
                }).ConfigureAwait(false);
            }
            else
            {
                result = await new BenchRunner(work, options, display).RunAsync(bucket, target, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (StrataException e) when (e.StatusCode == Grpc.Core.StatusCode.Unavailable)
        {
            throw new CommandFailedException(CommandActions.Describe(e, node), ExitCodes.Unreachable);
        }

        string stem = string.Create(CultureInfo.InvariantCulture,
            $"{BenchReport.Name(options.Workload)}-{options.Mode.ToString().ToLowerInvariant()}-{TimeProvider.System.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}");
        (string jsonPath, string markdownPath) = await BenchReport.WriteAsync(result, outDirectory, stem, commandLine, cancellationToken).ConfigureAwait(false);
        if (json)
        {
            env.Out.WriteLine(BenchReport.ToJson(result));
            return ExitCodes.Ok;
        }

        WriteSummary(env, result);
        env.Console.MarkupLine($"results: {Markup.Escape(jsonPath)}, {Markup.Escape(markdownPath)}");
        return ExitCodes.Ok;
    }

    private static void WriteSummary(CliEnvironment env, BenchResult result)
    {
        CultureInfo c = CultureInfo.InvariantCulture;
        env.Console.MarkupLine(Markup.Escape(string.Create(c,
            $"{BenchReport.Name(result.Workload)}, {result.Mode.ToString().ToLowerInvariant()} loop, concurrency {result.Options.Concurrency}, {result.MeasuredSeconds:0.###} s measured: " +
            $"{result.Operations:N0} operations ({result.Successes:N0} ok, {result.Conflicts:N0} conflicts, {result.Errors:N0} errors), {result.Throughput:N0} ops/s")));
        var table = new Table().Border(TableBorder.Rounded);
        foreach (string column in new[] { "operation", "ops", "ops/s", "errors", "conflicts", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms" })
        {
            table.AddColumn(new TableColumn(column) { Alignment = column == "operation" ? Justify.Left : Justify.Right });
        }

        void Row(string name, long ops, double rate, long errors, long conflicts, LatencySummary l) => table.AddRow(
            name, ops.ToString("N0", c), rate.ToString("N0", c), errors.ToString("N0", c), conflicts.ToString("N0", c),
            l.P50Ms.ToString("0.###", c), l.P90Ms.ToString("0.###", c), l.P99Ms.ToString("0.###", c), l.P999Ms.ToString("0.###", c), l.MaxMs.ToString("0.###", c));

        Row("all", result.Operations, result.Throughput, result.Errors, result.Conflicts, result.Latency);
        foreach (OperationResult op in result.ByOperation)
        {
            Row(BenchReport.Name(op.Operation), op.Operations, op.Throughput, op.Errors, op.Conflicts, op.Latency);
        }

        env.Console.Write(table);
        if (result.ErrorsByKind.Count > 0)
        {
            env.Console.MarkupLine(Markup.Escape("errors by kind: " + string.Join(", ", result.ErrorsByKind.Select(p => string.Create(c, $"{p.Key} {p.Value:N0}")))));
        }

        if (result.Occ is { } occ)
        {
            env.Console.MarkupLine(Markup.Escape(string.Create(c,
                $"conditional updates: {occ.Attempts:N0} attempts, {occ.Commits:N0} commits, {occ.Conflicts:N0} conflicts ({occ.ConflictRatio:P1}); goodput {occ.GoodputPerSecond:N0} commits/s")));
        }

        if (result.OpenLoop is { } open)
        {
            env.Console.MarkupLine(Markup.Escape(string.Create(c,
                $"open loop: offered {open.TargetRate:N0}/s, completed {open.AchievedRate:N0}/s; start lag p99 {open.StartLag.P99Ms:0.###} ms, max {open.StartLag.MaxMs:0.###} ms")));
        }
    }

    private static BenchWorkload ParseWorkload(string text) => text.ToLowerInvariant() switch
    {
        "a" or "hot-reads" => BenchWorkload.HotReads,
        "b" or "creates" => BenchWorkload.Creates,
        "c" or "viral" => BenchWorkload.ViralMix,
        "e" or "occ" => BenchWorkload.OccContention,
        _ => throw new UsageException($"--workload '{text}' is not one of a|hot-reads, b|creates, c|viral, e|occ"),
    };

    private static LoadMode ParseMode(string text) => text.ToLowerInvariant() switch
    {
        "closed" => LoadMode.Closed,
        "open" => LoadMode.Open,
        _ => throw new UsageException($"--mode '{text}' is not closed or open"),
    };

    private static KeyDistribution ParseDistribution(string text) => text.ToLowerInvariant() switch
    {
        "zipfian" or "zipf" => KeyDistribution.Zipfian,
        "uniform" => KeyDistribution.Uniform,
        _ => throw new UsageException($"--distribution '{text}' is not zipfian or uniform"),
    };

    /// <summary>"20s", "500ms", "2m", or a bare number of seconds.</summary>
    private static TimeSpan ParseDuration(string option, string text)
    {
        (string number, double scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.001),
            _ when text.EndsWith('s') || text.EndsWith('S') => (text[..^1], 1.0),
            _ when text.EndsWith('m') || text.EndsWith('M') => (text[..^1], 60.0),
            _ => (text, 1.0),
        };
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value >= 0 && double.IsFinite(value)
            ? TimeSpan.FromSeconds(value * scale)
            : throw new UsageException($"{option} '{text}' is not a duration (e.g. 20s, 500ms, 2m)");
    }

    /// <summary>
    /// Shows progress: the status line of an interactive terminal, else one plain line per report (preload: every
    /// tenth). Reports arrive from the runner's threads; writes are serialised.
    /// </summary>
    private sealed class ProgressLine(CliEnvironment env, bool quiet) : IProgress<BenchProgress>
    {
        private readonly Lock _gate = new();
        private StatusContext? _status;
        private long _preloadShown;

        public void Attach(StatusContext status) => _status = status;

        public void Report(BenchProgress value)
        {
            if (quiet)
            {
                return;
            }

            string text = Describe(value);
            lock (_gate)
            {
                if (_status is { } status)
                {
                    status.Status(Markup.Escape(text));
                    return;
                }

                if (value.Phase == BenchPhase.Preload)
                {
                    long step = Math.Max(1, value.Total / 10);
                    if (value.Done / step <= _preloadShown && value.Done < value.Total)
                    {
                        return;
                    }

                    _preloadShown = value.Done / step;
                }

                env.Out.WriteLine(text);
            }
        }

        private static string Describe(BenchProgress p)
        {
            CultureInfo c = CultureInfo.InvariantCulture;
            return p.Phase switch
            {
                BenchPhase.Preload => string.Create(c, $"preload: {p.Done:N0}/{p.Total:N0} objects ({p.Elapsed.TotalSeconds:0.0} s)"),
                BenchPhase.Warmup => string.Create(c, $"warm-up: {p.Elapsed.TotalSeconds:0.0}/{p.Length.TotalSeconds:0.#} s, {p.Done:N0} operations"),
                _ => string.Create(c,
                    $"measure: {p.Elapsed.TotalSeconds:0.0}/{p.Length.TotalSeconds:0.#} s, {p.Done:N0} operations, {p.IntervalThroughput:N0} ops/s, p99 {p.IntervalP99Ms:0.###} ms, {p.Errors:N0} errors"),
            };
        }
    }
}
