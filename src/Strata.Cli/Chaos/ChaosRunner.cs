using System.Globalization;
using Spectre.Console;
using Strata.Api.V1;
using Strata.Cli.Cluster;
using Strata.Client;
using Strata.Linearizability.Models;

namespace Strata.Cli.Chaos;

/// <summary>
/// One <c>strata chaos</c> run: starts a <see cref="LocalCluster"/> of real node processes, creates a bucket, runs
/// the <see cref="RegisterWorkload"/> while the <see cref="FaultScheduler"/> kills, pauses or partitions nodes, heals
/// everything, reads every key through every replica of the bucket's shard, checks the history with the linearizability checker and writes
/// the report folder (<see cref="ChaosReport"/>).
/// </summary>
/// <remarks>
/// <para>The cluster lives in <c>{report folder}/cluster</c>: one data directory and one log per node. After a
/// clean run the data directories are deleted and the logs kept; after an anomaly, a crash or an incomplete run
/// everything is kept for the post-mortem.</para>
/// <para>On every path — failure, Ctrl+C — paused nodes get SIGCONT and every node process is stopped (SIGTERM,
/// then SIGKILL) before <see cref="RunAsync(CancellationToken)"/> returns or throws; with <see cref="ChaosNetwork.Namespaces"/> the
/// nodes' namespaces, veth pairs and bridge are then deleted (what could not be is a problem of the report).</para>
/// </remarks>
internal sealed class ChaosRunner(CliEnvironment env, ChaosOptions options, string commandLine)
{
    // Liveness bounds of setup and the final reads, not performance claims.
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private static readonly StrataClientOptions Patient = new()
    {
        DefaultDeadline = TimeSpan.FromSeconds(5),
        Retry = new RetryPolicy { MaxAttempts = 100, MaxBackoff = TimeSpan.FromMilliseconds(500), MaxElapsed = TimeSpan.FromSeconds(30) },
    };

    public const string Bucket = "chaos";

    /// <summary>Runs, judges and reports; returns the verdict (its exit code included). Throws only when cancelled.</summary>
    public async Task<ChaosVerdict> RunAsync(CancellationToken cancellationToken)
    {
        var clock = new ChaosClock();
        var log = new ChaosLog(env, clock);
        NamespaceNetwork? network = null;
        if (options.Network == ChaosNetwork.Namespaces)
        {
            // Nodes that join get namespaces set aside now (ids above the founding ones).
            int spares = options.SpareNodes(FaultPlan.Create(options));
            network = await NamespaceNetwork.CreateAsync(NetworkTools.Require(), options.Nodes + spares, cancellationToken).ConfigureAwait(false);
            log.Line(Markup.Escape($"network: each node in its own namespace ({string.Join(", ", network.Namespaces)}) on bridge {network.Bridge}, " +
                $"subnet {network.Subnet}, nodes at {string.Join(", ", network.Nodes.Select(n => $"{n}={network.AddressOf(n)}"))}"));
        }

        try
        {
            return await RunInNetworkAsync(network, clock, log, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (network is not null)
            {
                await network.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task<ChaosVerdict> RunInNetworkAsync(NamespaceNetwork? network, ChaosClock clock, ChaosLog log, CancellationToken cancellationToken)
    {
        DateTimeOffset startedUtc = TimeProvider.System.GetUtcNow();
        string folder = NewFolder(startedUtc);
        IReadOnlyList<PlannedFault> plan = FaultPlan.Create(options);
        var history = new ChaosHistory();
        LocalCluster cluster = LocalCluster.Create(new LocalClusterOptions
        {
            Nodes = options.Nodes,
            Directory = Path.Combine(folder, "cluster"),
            ClusterId = "strata-chaos",
            Hosts = network is null ? null : [.. network.Nodes.Take(options.Nodes).Select(network.AddressOf)],
            Launcher = network is null ? null : network.Launcher,
            JoinHost = network is null ? null : id => network.Nodes.Contains(id) ? network.AddressOf(id) : null,
            PowerLoss = options.NeedsPowerLoss,
            ClockSkewHook = options.Faults.Contains(FaultKind.Skew),
        });
        FaultScheduler? scheduler = null;
        var end = new EndState();
        string? failure = null;
        ChaosVerdict verdict;
        ChaosRun run;
        try
        {
            try
            {
                scheduler = await RunWorkloadAsync(cluster, network, plan, history, clock, log, end, cancellationToken).ConfigureAwait(false);
            }
            catch (RunStoppedException e)
            {
                failure = e.Message;
                scheduler = e.Scheduler;
                log.Line("[red]the run stopped early:[/] " + Markup.Escape(e.Message));
            }
            finally
            {
                scheduler?.ResumeAll();
            }

            run = new ChaosRun
            {
                Command = commandLine,
                Options = options,
                Bucket = Bucket,
                StartedUtc = startedUtc,
                Seconds = ChaosClock.Seconds(clock.Now),
                History = history.Operations(),
                Plan = plan,
                Faults = scheduler?.Timeline ?? [],
                Failure = failure,
                ClusterDirectory = cluster.Directory,
                Members = end.Members,
                FinalReplicas = end.Replicas,
                Namespace = end.Namespace?.ToRun(end.NamespaceFinal),
                Network = network is null ? null : new ChaosNetworkLayout(
                    network.Bridge, network.Subnet, network.BridgeAddress,
                    [.. network.Nodes.Select(n => new ChaosNetworkNode(n, network.NamespaceOf(n), network.AddressOf(n)))]),
            };
            log.Line(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"checking {run.History.Count:N0} operations for linearizability (budget {options.CheckBudget.TotalSeconds:0} s)")));
            verdict = ChaosReport.Judge(run, folder, cancellationToken);
        }
        finally
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            if (network is not null)
            {
                // The nodes are stopped: the network can go now, and what is left of it belongs in the report.
                await network.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (network is { TeardownProblems.Count: > 0 })
        {
            verdict = verdict with
            {
                Problems = [.. verdict.Problems, .. network.TeardownProblems.Select(p => "network teardown: " + p)],
                ExitCode = verdict.ExitCode == ChaosReport.ExitLinearizable ? ChaosReport.ExitUndecided : verdict.ExitCode,
            };
        }

        if (verdict.ExitCode == ChaosReport.ExitLinearizable)
        {
            foreach (LocalNode node in cluster.Nodes)
            {
                DeleteQuietly(node.DataDirectory);
            }
        }

        await ChaosReport.WriteAsync(run, verdict, cancellationToken).ConfigureAwait(false);
        return verdict;
    }

    /// <summary>Cluster start, bucket, workload under faults, heal, final reads. Returns the scheduler (its timeline).</summary>
    private async Task<FaultScheduler> RunWorkloadAsync(
        LocalCluster cluster, NamespaceNetwork? network, IReadOnlyList<PlannedFault> plan, ChaosHistory history, ChaosClock clock, ChaosLog log,
        EndState end, CancellationToken cancellationToken)
    {
        var progress = new Progress(options.Operations, log);
        var scheduler = new FaultScheduler(cluster, Bucket, plan, clock, log, () => progress.Started, network);
        try
        {
            log.Line(Markup.Escape($"starting {options.Nodes} node processes ({cluster.Program}); data and logs in {cluster.Directory}"));
            cluster.StartAll();
            await cluster.WaitUntilReadyAsync(ReadyTimeout, cancellationToken).ConfigureAwait(false);
            Uri[] seeds = [.. cluster.Nodes.Select(n => n.Uri)];
            using (StrataClient setup = StrataClient.ConnectCluster(seeds, Patient))
            {
                await setup.CreateBucketAsync(Bucket, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            ClusterObservation ready = await cluster.WaitUntilReadyAsync(ReadyTimeout, cancellationToken).ConfigureAwait(false);
            ShardInfo shard = ready.ShardOf(Bucket);
            scheduler.Saw(ready);
            log.Line(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"cluster ready; bucket '{Bucket}' is in shard {shard.ShardId} (replicas on nodes {string.Join(", ", shard.Replicas)}, leader node {ready.Leader(shard.ShardId)?.Node})")));
            log.Line(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"{options.Operations:N0} operations by {options.Clients} clients over {options.Keys} keys; {plan.Count} faults planned ({Plan(plan)}); seed {options.Seed}")));

            StrataClient[] clients = [.. Enumerable.Range(0, options.Clients).Select(c => StrataClient.ConnectCluster(seeds, WorkerOptions(c)))];
            using var reads = new ReadRouter(options.Reads, options.Seed, clients, () => Homes(cluster, scheduler), (c, uri) => StrataClient.Connect(uri, WorkerOptions(c)));
            try
            {
                IOperationGate gate = plan.Count > 0 ? scheduler : OpenGate.Instance;
                Func<CancellationToken, Task> workload;
                if (options.Workload == ChaosWorkload.Namespace)
                {
                    var namespaceWorkload = new NamespaceWorkload(options, Bucket, clients, reads, history, clock, gate, progress.Report);
                    using (StrataClient setup = StrataClient.ConnectCluster(seeds, Patient))
                    {
                        await namespaceWorkload.SetUpAsync(setup, cancellationToken).ConfigureAwait(false);
                    }

                    end.Namespace = namespaceWorkload;
                    workload = namespaceWorkload.RunAsync;
                }
                else
                {
                    workload = new RegisterWorkload(options, Bucket, clients, reads, history, clock, gate, progress.Report).RunAsync;
                }

                await RunTogetherAsync(workload, scheduler, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                foreach (StrataClient client in clients)
                {
                    client.Dispose();
                }
            }

            log.Line("workload done; healing every node and waiting for the cluster to serve");
            ClusterObservation healed = await scheduler.HealAsync(cancellationToken).ConfigureAwait(false);
            // The shard's replicas as the map has them now: joins and decommissions may have moved them off the founding nodes.
            IReadOnlyList<ulong> replicas = [.. healed.ShardOf(Bucket).Replicas.Order()];
            end.Replicas = replicas;
            end.Members = [.. healed.Map.Nodes.OrderBy(n => n.Id).Select(n => new ChaosMember(
                n.Id, n.State, n.ApiAddress, cluster.Nodes.Any(l => l.Id == n.Id && l.JoinAddress is not null), cluster.Nodes.Any(l => l.Id == n.Id && l.IsRunning)))];
            if (end.Members.Count > options.Nodes)
            {
                log.Line(Markup.Escape($"members at the end: {string.Join(", ", end.Members.Select(m => $"{m.Node} {m.State}"))}"));
            }

            IReadOnlyList<string> keys = end.Namespace?.RegisterKeys ?? [.. Enumerable.Range(0, options.Keys).Select(RegisterWorkload.Key)];
            Func<Entry, long> value = end.Namespace is null ? e => (long)e.Attributes.Size : NamespaceWorkload.RegisterValue;
            await FinalReadsAsync(cluster, replicas, keys, value, history, clock, cancellationToken).ConfigureAwait(false);
            log.Line(Markup.Escape($"final reads done: every key read through each replica of the bucket's shard (nodes {string.Join(", ", replicas)})"));
            if (end.Namespace is { } namespaceRun)
            {
                using StrataClient leader = StrataClient.ConnectCluster([.. replicas.Select(cluster.Node).Select(n => n.Uri)], Patient);
                end.NamespaceFinal = await namespaceRun.ReadFinalStateAsync(leader, cancellationToken).ConfigureAwait(false);
                log.Line(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                    $"namespace read through the leader: {end.NamespaceFinal.Listing.Count:N0} entries in {end.NamespaceFinal.ListingPages} pages, {end.NamespaceFinal.Stats.Count:N0} stats")));
            }
            return scheduler;
        }
        catch (CommandFailedException e)
        {
            // Heal what can be healed so the history's last writes are not lost to a paused node.
            scheduler.ResumeAll();
            throw new RunStoppedException(e.Message, scheduler);
        }
    }

    /// <summary>
    /// Runs the workload and the scheduler together and waits for both (no client outlives its connections): if
    /// either fails the other is stopped; a scheduler failure is thrown after the clients stopped.
    /// </summary>
    private static async Task RunTogetherAsync(Func<CancellationToken, Task> workload, FaultScheduler scheduler, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task clients = workload(stop.Token);
        Task faults = scheduler.RunAsync(stop.Token);
        Task first = await Task.WhenAny(clients, faults).ConfigureAwait(false);
        if (first.IsFaulted || first.IsCanceled)
        {
            await stop.CancelAsync().ConfigureAwait(false);
        }

        CommandFailedException? failed = null;
        try
        {
            await faults.ConfigureAwait(false);
        }
        catch (CommandFailedException e)
        {
            failed = e;
            await stop.CancelAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Interrupted, or stopped because the clients failed: their exception follows.
        }
        catch (Exception) when (first == clients && clients.IsFaulted)
        {
            // Stopped because the clients failed: their exception follows. A call the scheduler had in flight may end
            // as an RpcException (Cancelled) rather than an OperationCanceledException; it must not hide the clients'
            // failure (a gate run once reported only "RpcException: Call canceled by the client"). A scheduler that
            // failed first still throws.
        }

        try
        {
            await clients.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped because the run was interrupted or the scheduler failed.
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (failed is not null)
        {
            throw failed;
        }
    }

    /// <summary>
    /// Reads every key (<paramref name="keys"/>, whose register value <paramref name="value"/> takes from an entry)
    /// through every replica of the bucket's shard (a client bound to that node; a node without a replica could only
    /// redirect), recorded as the history's last operations.
    /// </summary>
    private async Task FinalReadsAsync(
        LocalCluster cluster, IReadOnlyList<ulong> replicas, IReadOnlyList<string> keys, Func<Entry, long> value, ChaosHistory history, ChaosClock clock,
        CancellationToken cancellationToken)
    {
        int index = options.Operations;
        foreach (LocalNode node in replicas.Select(cluster.Node))
        {
            using StrataClient client = StrataClient.Connect(node.Uri, Patient);
            foreach (string key in keys)
            {
                var call = new ChaosOperation
                {
                    Index = index++,
                    Process = -(int)node.Id,
                    Client = -1,
                    Key = key,
                    Kind = CasRegisterOp.Read,
                    CallNanos = clock.Now,
                    Outcome = ChaosOutcome.Indeterminate,
                    Node = node.Id,
                    Final = true,
                };
                try
                {
                    Entry entry = await client.StatAsync(Bucket, call.Key, cancellationToken: cancellationToken).ConfigureAwait(false);
                    history.Add(call with { ReturnNanos = clock.Now, Outcome = ChaosOutcome.Ok, Found = true, ReadValue = value(entry), Generation = entry.Generation });
                }
                catch (StrataException e)
                {
                    history.Add(RegisterWorkload.Classify(call, e, clock.Now));
                }
                catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
                {
                    history.Add(call with { Error = RegisterWorkload.AttemptDeadline(e) });
                }
            }
        }
    }

    /// <summary>The nodes home reads may go to: the bucket shard's replicas as last seen serving, those still members (not retired), by id.</summary>
    private static IReadOnlyList<(ulong Id, Uri Uri)> Homes(LocalCluster cluster, FaultScheduler scheduler) =>
        [.. scheduler.BucketReplicas
            .Select(id => cluster.ActiveNodes.FirstOrDefault(n => n.Id == id))
            .OfType<LocalNode>()
            .Select(n => (n.Id, n.Uri))];

    private StrataClientOptions WorkerOptions(int client) => new()
    {
        DefaultDeadline = options.AttemptTimeout,
        Retry = new RetryPolicy
        {
            MaxAttempts = 1000,
            InitialBackoff = TimeSpan.FromMilliseconds(20),
            MaxBackoff = TimeSpan.FromMilliseconds(500),
            MaxElapsed = options.CallTimeout,
        },
        JitterSeed = unchecked((options.Seed * 104_729) + client),
        Cluster = new ClusterRoutingOptions { MapFetchTimeout = options.AttemptTimeout, SuspicionPeriod = TimeSpan.FromSeconds(2) },
    };

    private string NewFolder(DateTimeOffset startedUtc)
    {
        string stem = string.Create(CultureInfo.InvariantCulture, $"chaos-{startedUtc:yyyyMMdd'T'HHmmss'Z'}-seed{options.Seed}");
        string folder = Path.GetFullPath(Path.Combine(options.OutDirectory, stem));
        for (int n = 2; Directory.Exists(folder); n++)
        {
            folder = Path.GetFullPath(Path.Combine(options.OutDirectory, string.Create(CultureInfo.InvariantCulture, $"{stem}-{n}")));
        }

        Directory.CreateDirectory(folder);
        return folder;
    }

    private static string Plan(IReadOnlyList<PlannedFault> plan) =>
        plan.Count == 0 ? "none" : string.Join(", ", plan.Select(f => $"{ChaosOptions.Name(f.Kind)}{(f.AtLeader && f.Kind is not (FaultKind.Join or FaultKind.Transfer) ? "@leader" : "")}"));

    private static void DeleteQuietly(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // A data directory left behind costs disk space, not correctness.
        }
    }

    /// <summary>The run could not go on (the cluster did not start or recover); carries the scheduler for its timeline.</summary>
    private sealed class RunStoppedException(string message, FaultScheduler scheduler) : Exception(message)
    {
        public FaultScheduler Scheduler { get; } = scheduler;
    }

    /// <summary>What the run saw of the cluster after the heal, for the report.</summary>
    private sealed class EndState
    {
        public IReadOnlyList<ChaosMember> Members { get; set; } = [];

        public IReadOnlyList<ulong> Replicas { get; set; } = [];

        /// <summary>The namespace workload, once set up (null for the register workload).</summary>
        public NamespaceWorkload? Namespace { get; set; }

        /// <summary>The namespace read through the leader after the heal.</summary>
        public NamespaceFinalState? NamespaceFinal { get; set; }
    }

    /// <summary>The gate of a run without faults: never waits.</summary>
    private sealed class OpenGate : IOperationGate
    {
        public static OpenGate Instance { get; } = new();

        public ValueTask BeforeOperationAsync(int index, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    /// <summary>Counts started operations and logs every tenth of the run.</summary>
    private sealed class Progress(int total, ChaosLog log)
    {
        private int _started;

        public int Started => Volatile.Read(ref _started);

        public void Report(int index)
        {
            int started = Interlocked.Increment(ref _started);
            int step = Math.Max(1, total / 10);
            if (started % step == 0 || started == total)
            {
                log.Line(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{started:N0}/{total:N0} operations started")));
            }
        }
    }
}
