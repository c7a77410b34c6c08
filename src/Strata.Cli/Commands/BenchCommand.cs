using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Strata.Bench;
using Strata.Bench.Limits;
using Strata.Bench.Plots;
using Strata.Bench.Scale;
using Strata.Bench.Targets;
using Strata.Bench.Workloads;
using Strata.Cli.Cluster;
using Strata.Client;
using Strata.Server;

namespace Strata.Cli.Commands;

/// <summary>
/// <c>strata bench</c>: runs one workload (a hot reads, b creates, c viral mix, e OCC contention) in the closed or open
/// loop against a node — the one at <c>--address</c>, or by default a node this command starts in-process on RocksDB
/// in a temporary directory (deleted afterwards) — shows progress, prints the latency table, and writes
/// <c>{workload}-{mode}-{time}.json</c>, <c>.md</c> and two PNG plots (latency CDF, throughput and p99 over time) into <c>--out</c>. With <c>--peers etcd,redis,postgres</c> it
/// then runs the same workload and load against each peer (a server it starts on loopback and stops after) and prints
/// and writes one side-by-side table, each target's durability stated.
/// </summary>
internal static class BenchCommand
{
    // A benchmark counts what happens: no retries that would hide failures or add hidden latency.
    private static readonly StrataClientOptions ClientOptions = new() { DefaultDeadline = TimeSpan.FromSeconds(10), Retry = RetryPolicy.None };

    public static Command Create(CliEnvironment env)
    {
        var workload = new Option<string>("--workload", "-w")
        {
            Description = "a|hot-reads, b|creates, c|viral, d|listing, e|occ, f|dir-rename, s|scale (bulk-load --objects, reads at N/10 and N, bytes on disk)",
            HelpName = "WORKLOAD",
            DefaultValueFactory = _ => "a",
        };
        var mode = new Option<string>("--mode") { Description = "closed (N clients back to back) or open (fixed arrival rate, needs --rate)", DefaultValueFactory = _ => "closed" };
        var concurrency = new Option<int>("--concurrency", "-c") { Description = "Concurrent clients (open loop: workers sharing the schedule)", DefaultValueFactory = _ => 16 };
        var rate = new Option<double>("--rate") { Description = "Open loop: operations per second offered", HelpName = "OPS" };
        var duration = new Option<string>("--duration", "-d") { Description = "Measured time (20s, 500ms, 2m; a bare number is seconds)", DefaultValueFactory = _ => "20s" };
        var warmup = new Option<string>("--warmup") { Description = "Unrecorded load before the measurement", DefaultValueFactory = _ => "5s" };
        var objects = new Option<int>("--objects", "--keys")
        {
            Description = "Objects preloaded for the reading workloads (a, c; default 100000), or loaded by the scale mode (s; default 10000000)",
            DefaultValueFactory = _ => 100_000,
        };
        var scaleBuckets = new Option<int>("--scale-buckets") { Description = "Scale mode: buckets the objects spread over (each bucket lives in one shard)", DefaultValueFactory = _ => 8 };
        var loadParallelism = new Option<int>("--load-parallelism") { Description = "Scale mode: load transactions (1000 creates each) in flight", DefaultValueFactory = _ => 8 };
        var directories = new Option<int>("--directories") { Description = "Directories the objects (a, c) or the creates (b) spread over", DefaultValueFactory = _ => 1_000 };
        var distribution = new Option<string>("--distribution") { Description = "Key choice: zipfian or uniform", DefaultValueFactory = _ => "zipfian" };
        var theta = new Option<double>("--zipf-theta") { Description = "Zipfian exponent in (0, 1)", DefaultValueFactory = _ => 0.99 };
        var hotDirectories = new Option<int>("--hot-directories") { Description = "Viral mix: directories receiving the creates", DefaultValueFactory = _ => 4 };
        var hotObjects = new Option<int>("--hot-objects") { Description = "OCC: objects all clients update", DefaultValueFactory = _ => 1 };
        var directoryEntries = new Option<int>("--directory-entries") { Description = "Listing (d): entries bulk-loaded into the listed directory", DefaultValueFactory = _ => 1_000_000 };
        var pageSize = new Option<int>("--page-size") { Description = "Listing (d): entries per page (at most 10000)", DefaultValueFactory = _ => 1_000 };
        var renameSizes = new Option<string>("--rename-sizes")
        {
            Description = "Directory rename (f): entries of each renamed directory, comma-separated (one directory per size; one client renames them in turn)",
            HelpName = "LIST",
            DefaultValueFactory = _ => "1000,100000",
        };
        var limits = new Option<bool>("--limits")
        {
            Description = "Also measure this machine's floors (fsync of a 4 KiB write on the data disk, loopback TCP round trip, raw RocksDB get/put) and state every latency as a multiple of them; on by default with --peers",
        };
        var clients = new Option<int>("--clients")
        {
            Description = "Client instances (each its own client id and HTTP/2 connection, like separate gateways); workers are spread over them",
            DefaultValueFactory = _ => 1,
        };
        var seed = new Option<int>("--seed") { Description = "Seed of every random choice", DefaultValueFactory = _ => 1 };
        var bucket = new Option<string>("--bucket") { Description = "Bucket to use (default: a fresh one per run)" };
        var output = new Option<string>("--out") { Description = "Directory for the JSON results, Markdown summary and PNG plots", HelpName = "DIR", DefaultValueFactory = _ => "bench-results" };
        var address = new Option<string>("--address") { Description = "Bench the node at this gRPC address instead of starting one in-process", HelpName = "URL" };
        var inMemory = new Option<bool>("--in-memory") { Description = "In-process node: keep the namespace in memory instead of RocksDB" };
        var data = new Option<string>("--data") { Description = "In-process node: RocksDB directory (default: a temporary one, deleted afterwards)", HelpName = "DIR" };
        var json = new Option<bool>("--json") { Description = "Print the JSON results instead of the table" };
        var cluster = new Option<bool>("--cluster") { Description = "With --address: the node is a seed of a cluster; clients route each call to its shard's leader" };
        var peers = new Option<string>("--peers")
        {
            Description = "Also run the same workload and load against these peers, each started on loopback and torn down after: etcd, redis, postgres (comma-separated); prints one side-by-side table",
            HelpName = "LIST",
        };
        var etcdMembers = new Option<int?>("--etcd-members") { Description = "With --peers etcd: members of the etcd cluster, 1 or 3 (default: 3 with --nodes 3 or more, else 1)" };
        var nodes = new Option<int>("--nodes")
        {
            Description = "Without --address: start this many node processes (strata start, RocksDB in --data or a temporary directory) and bench them through the shard-aware client; 1 runs the node in-process",
            DefaultValueFactory = _ => 1,
        };
        var command = new Command("bench", "Measure a node (and, with --peers, etcd, Redis and PostgreSQL side by side): latency percentiles, throughput and errors of a workload")
        {
            workload, mode, concurrency, rate, duration, warmup, objects, directories, distribution, theta, hotDirectories, hotObjects,
            directoryEntries, pageSize, renameSizes, scaleBuckets, loadParallelism, limits, clients, seed, bucket, output, address, inMemory, data, json, cluster, peers, etcdMembers, nodes,
        };
        command.SetGuardedAction(env, async (parse, cancellationToken) =>
        {
            BenchWorkload chosen = ParseWorkload(parse.GetValue(workload)!);
            var options = new BenchOptions
            {
                Workload = chosen,
                Mode = ParseMode(parse.GetValue(mode)!),
                Concurrency = parse.GetValue(concurrency),
                Rate = parse.GetValue(rate),
                Duration = ParseDuration("--duration", parse.GetValue(duration)!),
                Warmup = ParseDuration("--warmup", parse.GetValue(warmup)!),
                Objects = chosen == BenchWorkload.Scale && parse.GetResult(objects) is null or { Implicit: true } ? DefaultScaleObjects : parse.GetValue(objects),
                ScaleBuckets = parse.GetValue(scaleBuckets),
                LoadParallelism = parse.GetValue(loadParallelism),
                Directories = parse.GetValue(directories),
                Distribution = ParseDistribution(parse.GetValue(distribution)!),
                ZipfTheta = parse.GetValue(theta),
                HotDirectories = parse.GetValue(hotDirectories),
                HotObjects = parse.GetValue(hotObjects),
                DirectoryEntries = parse.GetValue(directoryEntries),
                PageSize = parse.GetValue(pageSize),
                RenameSizes = ParseSizes(parse.GetValue(renameSizes)!),
                Seed = parse.GetValue(seed),
                Bucket = parse.GetValue(bucket),
            };
            if (options.Workload == BenchWorkload.DirectoryRename)
            {
                // One client renames the directories in turn: renames of one directory cannot overlap, and renames of
                // different sizes must not slow each other.
                options = options with { Concurrency = 1 };
            }

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
            int nodeCount = parse.GetValue(nodes);
            if (nodeCount is < 1 or > LocalCluster.MaxNodes)
            {
                throw new UsageException($"--nodes {nodeCount} is outside 1..{LocalCluster.MaxNodes}");
            }

            int etcdSize = parse.GetValue(etcdMembers) ?? (nodeCount >= 3 ? 3 : 1);
            IReadOnlyList<string> peerNames = ParsePeers(parse.GetValue(peers), etcdSize);
            if (options.Workload == BenchWorkload.Scale && (peerNames.Count > 0 || parse.GetValue(limits)))
            {
                throw new UsageException("--peers and --limits are not available in the scale mode; it measures Strata's ingest, reads at N/10 and N, and disk use");
            }

            string bucketName = options.Bucket ?? string.Create(CultureInfo.InvariantCulture,
                $"bench-{BenchReport.Name(options.Workload)}-{TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds():x}");
            bool quiet = parse.GetValue(json);
            var results = new List<BenchResult>();
            PhysicalLimits? floors = null;
            if (parse.GetValue(limits) || peerNames.Count > 0)
            {
                // Before any target runs, so the probes share the machine with nothing of this command's.
                string probed = parse.GetValue(data) ?? Path.GetTempPath();
                if (!quiet)
                {
                    env.Out.WriteLine($"measuring the machine's limits (fsync in {probed}, loopback round trip, raw RocksDB) ...");
                }

                floors = await LimitsProbe.MeasureAsync(probed, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            var placement = new PlacementRequest(
                parse.GetValue(address), parse.GetValue(cluster), parse.GetValue(inMemory), parse.GetValue(data), nodeCount);
            if (options.Workload == BenchWorkload.Scale)
            {
                ScaleResult scale = await OnStrataAsync(env, placement, quiet, cancellationToken, strata =>
                    WithClientsAsync(strata, clientCount, target => RunScaleAsync(env, target, strata, options, bucketName, quiet, cancellationToken)))
                    .ConfigureAwait(false);
                return await ReportScaleAsync(env, scale, parse.GetValue(output)!, quiet, commandLine, cancellationToken).ConfigureAwait(false);
            }

            results.Add(await OnStrataAsync(env, placement, quiet, cancellationToken, strata =>
                WithClientsAsync(strata, clientCount, target => MeasureAsync(env, target, options, bucketName, quiet, peerNames.Count > 0, cancellationToken)))
                .ConfigureAwait(false));

            foreach (string peer in peerNames)
            {
                results.Add(await MeasurePeerAsync(env, peer, etcdSize, options, bucketName, quiet, cancellationToken).ConfigureAwait(false));
            }

            if (floors is not null)
            {
                for (int i = 0; i < results.Count; i++)
                {
                    results[i] = results[i] with { Limits = floors, AgainstLimits = floors.Multiples(results[i]) };
                }
            }

            return await ReportAsync(env, results, options, parse.GetValue(output)!, quiet, commandLine, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>
    /// The peers named by --peers (none without it), each checked to be installed before anything runs: an unknown name
    /// is a usage error (exit 2), a peer whose server is missing fails the command (exit 1) saying what to install.
    /// </summary>
    private static IReadOnlyList<string> ParsePeers(string? list, int etcdMembers)
    {
        if (etcdMembers is not (1 or 3))
        {
            throw new UsageException($"--etcd-members {etcdMembers} is not 1 or 3");
        }

        if (list is null)
        {
            return [];
        }

        IReadOnlyList<string> names;
        try
        {
            names = Peers.Parse(list);
        }
        catch (ArgumentException e)
        {
            throw new UsageException("--peers: " + e.Message);
        }

        string[] missing = [.. names.Select(Peers.Missing).OfType<string>()];
        if (missing.Length > 0)
        {
            throw new CommandFailedException($"cannot run the peers: {string.Join("; ", missing)}; scripts/install-prerequisites.sh installs them");
        }

        return names;
    }

    /// <summary>Where the Strata under test runs, as the options asked: a remote node, node processes, or an in-process node.</summary>
    private sealed record PlacementRequest(string? Address, bool Routed, bool InMemory, string? Data, int Nodes);

    /// <summary>
    /// The Strata under test, running: the address to call (routed through the shard-aware client or not), how it was
    /// started, when it acknowledges a write, how many copies it keeps of an object (null: not known, a remote node) and
    /// its data directories (null: not on this machine, or in memory).
    /// </summary>
    private sealed record StrataPlacement(Uri Node, bool Routed, string Description, string Durability, int? Replicas, IReadOnlyList<string>? DataDirectories);

    /// <summary>
    /// Runs <paramref name="body"/> against the Strata the options describe: the node at <c>--address</c>; or
    /// <c>--nodes N</c> node processes this command starts (a new cluster of 4 shards with up to 3 replicas each, in
    /// <c>--data</c> or a temporary directory deleted afterwards), once every shard has a leader; or one node in this
    /// process (RocksDB in <c>--data</c> or a temporary directory, or in memory). What it started is stopped after.
    /// </summary>
    private static async Task<T> OnStrataAsync<T>(
        CliEnvironment env, PlacementRequest request, bool quiet, CancellationToken cancellationToken, Func<StrataPlacement, Task<T>> body)
    {
        if (request.Address is { } remote)
        {
            if (request.InMemory || request.Data is not null || request.Nodes != 1)
            {
                throw new UsageException("--in-memory, --data and --nodes describe nodes this command starts; they cannot be combined with --address");
            }

            Uri node = NodeCommand.ParseAddress(remote);
            string description = request.Routed
                ? $"cluster seeded by {NodeLauncher.Display(node)}, calls routed to each shard's leader"
                : $"node at {NodeLauncher.Display(node)}";
            string durability = request.Routed ? StrataTarget.ClusterDurability : StrataTarget.SingleNodeDurability;
            return await body(new StrataPlacement(node, request.Routed, description, durability, Replicas: null, DataDirectories: null)).ConfigureAwait(false);
        }

        if (request.Routed)
        {
            throw new UsageException("--cluster needs --address (a node of the cluster to bench); --nodes N starts one");
        }

        if (request.Nodes > 1)
        {
            if (request.InMemory)
            {
                throw new UsageException("--in-memory runs one in-process node; it cannot be combined with --nodes");
            }

            var clusterOptions = new LocalClusterOptions { Nodes = request.Nodes, Directory = request.Data, ClusterId = "strata-bench" };
            await using LocalCluster cluster = LocalCluster.Create(clusterOptions);
            if (!quiet)
            {
                env.Out.WriteLine($"starting {request.Nodes} node processes in {cluster.Directory} ...");
            }

            cluster.StartAll();
            // Measure the cluster as it runs, not its first seconds: a fresh cluster hands over some of the leaderships
            // its elections chose (leadership balance), and a call that meets a transfer fails (the bench does not
            // retry). Ready first, so that what the second wait reports is a pending transfer, not a missing leader.
            await cluster.WaitUntilReadyAsync(ClusterReadyTimeout, cancellationToken).ConfigureAwait(false);
            string? firstTransfer = null;
            await cluster.WaitUntilSettledAsync(ClusterReadyTimeout, cancellationToken, reason => firstTransfer ??= reason).ConfigureAwait(false);
            if (!quiet)
            {
                env.Out.WriteLine(firstTransfer is null ? "cluster ready, leadership settled" : $"cluster ready; waited for leadership to settle ({firstTransfer})");
            }

            int replicas = Math.Min(request.Nodes, clusterOptions.ReplicationFactor);
            string description = string.Create(CultureInfo.InvariantCulture,
                $"{request.Nodes} node processes started by the bench (strata start, RocksDB in {(request.Data is null ? "a temporary directory" : cluster.Directory)}), {clusterOptions.Shards} shards × {replicas} replicas, calls routed to each shard's leader");
            string durability = string.Create(CultureInfo.InvariantCulture,
                $"write acknowledged after its Raft log entry is fsynced on a majority of the shard's {replicas} replicas (group commit); reads served by the leaseholder");
            return await body(new StrataPlacement(cluster.Nodes[0].Uri, Routed: true, description, durability, replicas, [.. cluster.Nodes.Select(n => n.DataDirectory)]))
                .ConfigureAwait(false);
        }

        string? directory = request.InMemory ? null : request.Data ?? Directory.CreateTempSubdirectory("strata-bench-").FullName;
        try
        {
            await using StrataServer server = await NodeLauncher.StartAsync(
                new StrataServerOptions { InMemory = request.InMemory, DataDirectory = directory ?? "", Port = 0 }, cancellationToken).ConfigureAwait(false);
            string description = request.InMemory
                ? "in-process single node, in memory, same process as the load generator"
                : $"in-process single node, RocksDB in {(request.Data is null ? "a temporary directory" : server.DataDirectory)}, same process as the load generator";
            string durability = request.InMemory ? "in memory: nothing is written to disk" : StrataTarget.SingleNodeDurability;
            return await body(new StrataPlacement(server.Address, Routed: false, description, durability, 1, request.InMemory ? null : [server.DataDirectory]))
                .ConfigureAwait(false);
        }
        finally
        {
            if (request.Data is null && directory is not null)
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    /// <summary>Connects <paramref name="clientCount"/> clients to <paramref name="strata"/> and runs <paramref name="body"/> against them as one target.</summary>
    private static async Task<T> WithClientsAsync<T>(StrataPlacement strata, int clientCount, Func<StrataTarget, Task<T>> body)
    {
        StrataClient[] clients = [.. Enumerable.Range(0, clientCount)
            .Select(_ => strata.Routed ? StrataClient.ConnectCluster([strata.Node], ClientOptions) : StrataClient.Connect(strata.Node, ClientOptions))];
        try
        {
            string description = string.Create(CultureInfo.InvariantCulture,
                $"{strata.Description}; {clients.Length} client{(clients.Length == 1 ? "" : "s")} (each its own client id and HTTP/2 connection)");
            await using var target = new StrataTarget(clients, description, strata.Durability);
            return await body(target).ConfigureAwait(false);
        }
        catch (StrataException e) when (e.StatusCode == Grpc.Core.StatusCode.Unavailable)
        {
            throw new CommandFailedException(CommandActions.Describe(e, strata.Node), ExitCodes.Unreachable);
        }
        finally
        {
            foreach (StrataClient client in clients)
            {
                client.Dispose();
            }
        }
    }

    /// <summary>The scale mode against <paramref name="target"/>, with progress and one line as each step begins.</summary>
    private static async Task<ScaleResult> RunScaleAsync(
        CliEnvironment env, StrataTarget target, StrataPlacement strata, BenchOptions options, string bucketPrefix, bool quiet, CancellationToken cancellationToken)
    {
        Func<DiskUsage>? disk = strata.DataDirectories is { } directories ? () => DiskUsage.Measure(directories) : null;
        var display = new ProgressLine(env, quiet);
        var run = new ScaleRun(target, options, bucketPrefix, target.Description, target.Durability, strata.Replicas, disk, display, new Narration(env, quiet));
        try
        {
            return await run.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException e) when (e.InnerException is not null)
        {
            throw new CommandFailedException("the scale load failed: " + e.Message);
        }
    }

    /// <summary>Writes the scale run's JSON, Markdown and plots, and prints its summary (or the JSON with --json).</summary>
    private static async Task<int> ReportScaleAsync(CliEnvironment env, ScaleResult result, string outDirectory, bool json, string commandLine, CancellationToken cancellationToken)
    {
        string stem = string.Create(CultureInfo.InvariantCulture, $"scale-{result.Objects}-{TimeProvider.System.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}");
        IReadOnlyList<ChartFile> plots = ScaleReport.WritePlots(result, outDirectory, stem);
        (string jsonPath, string markdownPath) = await ScaleReport.WriteAsync(result, outDirectory, stem, commandLine, plots, cancellationToken).ConfigureAwait(false);
        if (json)
        {
            env.Out.WriteLine(ScaleReport.ToJson(result));
            return ExitCodes.Ok;
        }

        CultureInfo c = CultureInfo.InvariantCulture;
        foreach (LoadPhase load in result.Loads)
        {
            env.Console.MarkupLine(Markup.Escape(string.Create(c,
                $"load {load.From:N0} → {load.To:N0}: {load.Seconds:0.#} s, {load.ObjectsPerSecond:N0} objects/s, transaction p50 {load.Transaction.P50Ms:0.###} ms p99 {load.Transaction.P99Ms:0.###} ms")));
        }

        env.Console.MarkupLine(Markup.Escape(string.Create(c, $"ingest: {result.Objects:N0} objects at {result.IngestPerSecond:N0} objects/s")));
        var table = new Table().Border(TableBorder.Rounded);
        foreach (string column in new[] { "reads with", "ops", "ops/s", "errors", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms" })
        {
            table.AddColumn(new TableColumn(column) { Alignment = column == "reads with" ? Justify.Left : Justify.Right });
        }

        foreach (BenchResult r in new[] { result.ReadsAtTenth, result.ReadsAtFull })
        {
            LatencySummary l = r.Latency;
            table.AddRow(Markup.Escape(r.TargetName ?? ""), r.Operations.ToString("N0", c), r.Throughput.ToString("N0", c), r.Errors.ToString("N0", c),
                l.P50Ms.ToString("0.###", c), l.P90Ms.ToString("0.###", c), l.P99Ms.ToString("0.###", c), l.P999Ms.ToString("0.###", c), l.MaxMs.ToString("0.###", c));
        }

        env.Console.Write(table);
        env.Console.MarkupLine(Markup.Escape(string.Create(c, $"reads at N against N/10: p50 {result.P50Growth:0.##}×, p99 {result.P99Growth:0.##}×")));
        env.Console.MarkupLine(Markup.Escape(result.DiskAtFull is { } disk
            ? string.Create(c, $"on disk at N: {disk.TotalBytes:N0} bytes in {disk.Files:N0} files, {result.BytesPerObjectPerReplica:N1} bytes per object per replica ({result.TableBytesPerObjectPerReplica:N1} in sorted tables) over {ScaleReport.Copies(result.Replicas)}")
            : "on disk: not measured (the node's data directory is not on this machine, or the node is in memory)"));
        if (result.LoadErrorsByKind.Count > 0)
        {
            env.Console.MarkupLine(Markup.Escape("load transactions retried: " + string.Join(", ", result.LoadErrorsByKind.Select(p => string.Create(c, $"{p.Key} {p.Value:N0}")))));
        }

        env.Console.MarkupLine($"results: {Markup.Escape(jsonPath)}, {Markup.Escape(markdownPath)}");
        WritePlots(env, plots, outDirectory);
        return ExitCodes.Ok;
    }

    /// <summary>The scale mode's N when --objects is not given: "10 million within minutes" (issue 6).</summary>
    private const int DefaultScaleObjects = 10_000_000;

    private static readonly TimeSpan ClusterReadyTimeout = TimeSpan.FromSeconds(60);

    private static async Task<BenchResult> MeasurePeerAsync(
        CliEnvironment env, string name, int etcdMembers, BenchOptions options, string bucket, bool quiet, CancellationToken cancellationToken)
    {
        if (!quiet)
        {
            env.Out.WriteLine($"starting {name} ...");
        }

        BenchTarget peer;
        try
        {
            peer = await Peers.StartAsync(name, etcdMembers, cancellationToken).ConfigureAwait(false);
        }
        catch (PeerUnavailableException e)
        {
            throw new CommandFailedException($"{name} did not start: {e.Message}");
        }

        await using (peer.ConfigureAwait(false))
        {
            try
            {
                return await MeasureAsync(env, peer, options, bucket, quiet, named: true, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Operations that fail are counted; this is the preload or a worker's setup failing, which ends the comparison.
                throw new CommandFailedException($"{name} failed before its measurement could finish: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    /// <summary>Runs the workload against <paramref name="target"/> with progress on the console; the result names the target and its durability.</summary>
    private static async Task<BenchResult> MeasureAsync(
        CliEnvironment env, BenchTarget target, BenchOptions options, string bucket, bool quiet, bool named, CancellationToken cancellationToken)
    {
        if (named && !quiet)
        {
            env.Out.WriteLine($"== {target.Name}: {target.Description}");
        }

        Workload work = Workload.Create(target, options, bucket);
        var display = new ProgressLine(env, quiet);
        BenchResult result;
        if (env.Console.Profile.Capabilities.Interactive && !quiet)
        {
            result = await env.Console.Status().StartAsync("starting", async context =>
            {
                display.Attach(context);
                return await new BenchRunner(work, options, display).RunAsync(bucket, target.Description, cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }
        else
        {
            result = await new BenchRunner(work, options, display).RunAsync(bucket, target.Description, cancellationToken).ConfigureAwait(false);
        }

        return result with { TargetName = target.Name, Durability = target.Durability };
    }

    /// <summary>
    /// One target: its JSON and Markdown, its plots (<c>{stem}-latency.png</c>, <c>{stem}-timeline.png</c>) and the
    /// latency table. Several: each target's files (<c>{stem}-{target}</c>), the side-by-side files and plots
    /// (<c>{stem}-side-by-side</c>, every target in each plot) and the side-by-side table. The Markdown links the
    /// plots; a plot that cannot be drawn (no font) is said there and on the console, and the rest is written.
    /// </summary>
    private static async Task<int> ReportAsync(
        CliEnvironment env, IReadOnlyList<BenchResult> results, BenchOptions options, string outDirectory, bool json, string commandLine, CancellationToken cancellationToken)
    {
        string stem = string.Create(CultureInfo.InvariantCulture,
            $"{BenchReport.Name(options.Workload)}-{options.Mode.ToString().ToLowerInvariant()}-{TimeProvider.System.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}");
        string plotStem = results.Count == 1 ? stem : stem + "-side-by-side";
        IReadOnlyList<ChartFile> plots = BenchPlots.Write(results, outDirectory, plotStem);
        if (results.Count == 1)
        {
            BenchResult result = results[0];
            (string jsonPath, string markdownPath) = await BenchReport.WriteAsync(result, outDirectory, stem, commandLine, plots, cancellationToken).ConfigureAwait(false);
            if (json)
            {
                env.Out.WriteLine(BenchReport.ToJson(result));
                return ExitCodes.Ok;
            }

            WriteSummary(env, result);
            env.Console.MarkupLine($"results: {Markup.Escape(jsonPath)}, {Markup.Escape(markdownPath)}");
            WritePlots(env, plots, outDirectory);
            return ExitCodes.Ok;
        }

        foreach (BenchResult result in results)
        {
            await BenchReport.WriteAsync(result, outDirectory, stem + "-" + result.TargetName, commandLine, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        var comparison = new SideBySide(commandLine, results);
        (string sideJson, string sideMarkdown) = await SideBySideReport.WriteAsync(comparison, outDirectory, plotStem, plots, cancellationToken).ConfigureAwait(false);
        if (json)
        {
            env.Out.WriteLine(SideBySideReport.ToJson(comparison));
            return ExitCodes.Ok;
        }

        WriteSideBySide(env, comparison);
        env.Console.MarkupLine($"results: {Markup.Escape(sideJson)}, {Markup.Escape(sideMarkdown)} (and one file pair per target)");
        WritePlots(env, plots, outDirectory);
        return ExitCodes.Ok;
    }

    /// <summary>One line naming the plots written, and one per plot that could not be drawn, with why.</summary>
    private static void WritePlots(CliEnvironment env, IReadOnlyList<ChartFile> plots, string outDirectory)
    {
        ChartFile[] written = [.. plots.Where(p => p.Written)];
        if (written.Length > 0)
        {
            env.Console.MarkupLine($"plots: {Markup.Escape(string.Join(", ", written.Select(p => Path.Combine(outDirectory, p.FileName))))}");
        }

        foreach (ChartFile missing in plots.Where(p => !p.Written))
        {
            env.Console.MarkupLine($"[yellow]plot {Markup.Escape(missing.FileName)} not drawn:[/] {Markup.Escape(missing.Failure!)}");
        }
    }

    private static void WriteSideBySide(CliEnvironment env, SideBySide comparison)
    {
        CultureInfo c = CultureInfo.InvariantCulture;
        BenchResult first = comparison.Baseline;
        env.Console.MarkupLine(Markup.Escape(string.Create(c,
            $"{BenchReport.Name(first.Workload)}, {first.Mode.ToString().ToLowerInvariant()} loop, concurrency {first.Options.Concurrency}, {first.MeasuredSeconds:0.###} s measured per target")));
        string baseline = SideBySideReport.NameOf(first);
        var table = new Table().Border(TableBorder.Rounded);
        foreach (string column in new[] { "target", "ops", "ops/s", $"ops/s ÷ {baseline}", "p50 ms", "p99 ms", "p99.9 ms", "max ms", $"p99 ÷ {baseline}", "errors", "conflicts" })
        {
            table.AddColumn(new TableColumn(Markup.Escape(column)) { Alignment = column == "target" ? Justify.Left : Justify.Right });
        }

        foreach (BenchResult r in comparison.Results)
        {
            table.AddRow(
                Markup.Escape(SideBySideReport.NameOf(r)), r.Operations.ToString("N0", c), r.Throughput.ToString("N0", c),
                SideBySideReport.Ratio(r.Throughput, first.Throughput), r.Latency.P50Ms.ToString("0.###", c), r.Latency.P99Ms.ToString("0.###", c),
                r.Latency.P999Ms.ToString("0.###", c), r.Latency.MaxMs.ToString("0.###", c), SideBySideReport.Ratio(r.Latency.P99Ms, first.Latency.P99Ms),
                r.Errors.ToString("N0", c), r.Conflicts.ToString("N0", c));
        }

        env.Console.Write(table);
        if (first.Limits is { } limits)
        {
            WriteLimits(env, limits);
        }

        foreach (BenchResult r in comparison.Results)
        {
            WriteExtras(env, r);
        }

        foreach (BenchResult r in comparison.Results)
        {
            env.Console.MarkupLine(Markup.Escape($"{SideBySideReport.NameOf(r)} durability: {r.Durability}"));
            if (r.ErrorsByKind.Count > 0)
            {
                env.Console.MarkupLine(Markup.Escape($"{SideBySideReport.NameOf(r)} errors by kind: " +
                    string.Join(", ", r.ErrorsByKind.Select(p => string.Create(c, $"{p.Key} {p.Value:N0}")))));
            }
        }
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

        if (result.Limits is { } limits)
        {
            WriteLimits(env, limits);
        }

        WriteExtras(env, result);
    }

    /// <summary>The listing's entry rate, the rename's per-size table and the machine's limits, when the result has them.</summary>
    private static void WriteExtras(CliEnvironment env, BenchResult result)
    {
        CultureInfo c = CultureInfo.InvariantCulture;
        string who = result.TargetName is { } name ? name + ": " : "";
        if (result.Listing is { } listing)
        {
            env.Console.MarkupLine(Markup.Escape(string.Create(c,
                $"{who}listing: {listing.Pages:N0} full pages of {listing.PageSize:N0} from {listing.DirectoryEntries:N0} entries, {listing.EntriesPerSecond:N0} entries/s; preload {result.Preload.ObjectsPerSecond:N0} entries/s")));
        }

        foreach (DirectorySizeResult size in result.BySize ?? [])
        {
            env.Console.MarkupLine(Markup.Escape(string.Create(c,
                $"{who}rename of a directory of {size.Entries:N0} entries: {size.Operations:N0} renames, {size.Errors:N0} errors, p50 {size.Latency.P50Ms:0.###} ms, p99 {size.Latency.P99Ms:0.###} ms ({size.P50VsSmallest:0.##}× and {size.P99VsSmallest:0.##}× the smallest)")));
        }

        foreach (LimitMultiple m in result.AgainstLimits ?? [])
        {
            env.Console.MarkupLine(Markup.Escape(string.Create(c,
                $"{who}{BenchReport.Name(m.Operation)}: p50 {m.P50Multiple:0.#}× and p99 {m.P99Multiple:0.#}× the {m.Floor} ({m.FloorP50Ms:0.###} / {m.FloorP99Ms:0.###} ms)")));
        }
    }

    private static void WriteLimits(CliEnvironment env, PhysicalLimits limits) =>
        env.Console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"limits: fsync p50 {limits.Fsync.P50Us:0.#} µs p99 {limits.Fsync.P99Us:0.#} µs; loopback round trip p50 {limits.LoopbackRoundTrip.P50Us:0.#} µs p99 {limits.LoopbackRoundTrip.P99Us:0.#} µs; RocksDB get p50 {limits.RocksDbGet.P50Us:0.#} µs, put sync p50 {limits.RocksDbPutSync.P50Us:0.#} µs, put p50 {limits.RocksDbPutNoSync.P50Us:0.#} µs")));

    private static BenchWorkload ParseWorkload(string text) => text.ToLowerInvariant() switch
    {
        "a" or "hot-reads" => BenchWorkload.HotReads,
        "b" or "creates" => BenchWorkload.Creates,
        "c" or "viral" => BenchWorkload.ViralMix,
        "d" or "listing" => BenchWorkload.DirectoryListing,
        "e" or "occ" => BenchWorkload.OccContention,
        "f" or "dir-rename" => BenchWorkload.DirectoryRename,
        "s" or "scale" => BenchWorkload.Scale,
        _ => throw new UsageException($"--workload '{text}' is not one of a|hot-reads, b|creates, c|viral, d|listing, e|occ, f|dir-rename, s|scale"),
    };

    /// <summary>"1000,100000": positive counts.</summary>
    private static int[] ParseSizes(string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var sizes = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i].Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] < 1)
            {
                throw new UsageException($"--rename-sizes '{text}' is not a comma-separated list of positive counts (e.g. 1000,100000)");
            }
        }

        return sizes;
    }

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

    /// <summary>The time the rest of a load takes at the last interval's rate, as 1h02m, 3m05s or 12s.</summary>
    private static string Remaining(BenchProgress p)
    {
        var left = TimeSpan.FromSeconds((p.Total - p.Done) / p.IntervalThroughput);
        return left.TotalHours >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)left.TotalHours}h{left.Minutes:D2}m")
            : left.TotalMinutes >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{left.Minutes}m{left.Seconds:D2}s")
            : string.Create(CultureInfo.InvariantCulture, $"{left.Seconds}s");
    }

    /// <summary>Prints each step of a scale run as it begins (nothing with --json).</summary>
    private sealed class Narration(CliEnvironment env, bool quiet) : IProgress<string>
    {
        public void Report(string value)
        {
            if (!quiet)
            {
                env.Out.WriteLine(value);
            }
        }
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
                BenchPhase.Preload when p.IntervalThroughput > 0 => string.Create(c,
                    $"load: {p.Done:N0}/{p.Total:N0} objects ({(double)p.Done / p.Total:P0}), {p.IntervalThroughput:N0} objects/s, transaction p99 {p.IntervalP99Ms:0.#} ms, {Remaining(p)} to go at this rate"),
                BenchPhase.Preload => string.Create(c, $"preload: {p.Done:N0}/{p.Total:N0} objects ({p.Elapsed.TotalSeconds:0.0} s)"),
                BenchPhase.Warmup => string.Create(c, $"warm-up: {p.Elapsed.TotalSeconds:0.0}/{p.Length.TotalSeconds:0.#} s, {p.Done:N0} operations"),
                _ => string.Create(c,
                    $"measure: {p.Elapsed.TotalSeconds:0.0}/{p.Length.TotalSeconds:0.#} s, {p.Done:N0} operations, {p.IntervalThroughput:N0} ops/s, p99 {p.IntervalP99Ms:0.###} ms, {p.Errors:N0} errors"),
            };
        }
    }
}
