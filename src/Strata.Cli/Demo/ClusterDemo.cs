using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Strata.Api.V1;
using Strata.Cli.Cluster;
using Strata.Cli.Commands;
using Strata.Client;

namespace Strata.Cli.Demo;

/// <summary>
/// <c>strata demo --nodes N</c>: starts N <c>strata start</c> processes as one cluster (<see cref="LocalCluster"/>),
/// shows its nodes and shards, loads the sample namespace and runs the four <see cref="DemoScenes"/> through a
/// shard-aware client, then kills the leader of the sample bucket's shard with SIGKILL, shows the time until a new
/// leader serves, that no data was lost, and the killed node restarting and catching up.
/// </summary>
/// <remarks>
/// Every claim printed is checked against the cluster first; a check that fails throws
/// <see cref="CommandFailedException"/>. The cluster is disposed on every path (every node stopped; a temporary
/// directory deleted, except after a failure, when it is kept for its logs and its path is printed).
/// </remarks>
internal sealed class ClusterDemo(CliEnvironment env, int nodeCount, string? dataDirectory, CancellationToken cancellationToken)
{
    public const string StartHeading = "Starting a {0}-node cluster";
    public const string FailoverHeading = "5. Losing a shard leader: kill -9, a new leader, nothing lost";
    public const string RestartHeading = "6. The killed node restarts and catches up";

    // Liveness bounds of the demo's waits, not performance claims: past them the demo fails and says what was missing.
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan FailoverTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    private const string Bucket = SampleMedia.Bucket;
    private const string ProbePath = "demo/failover-probe.txt";

    // Paths whose metadata is compared before the kill, after it, and on the restarted node.
    private static readonly string[] Witnesses =
    [
        SampleMedia.PublishedVideo + "/segments/seg-01234.ts",
        SampleMedia.LiveManifest,
        "creators/kenji-sato/channels/retro/videos/crt-restoration/segments/seg-00032.ts",
    ];

    private static readonly StrataClientOptions ProbeOptions = new()
    {
        DefaultDeadline = ProbeTimeout,
        Retry = RetryPolicy.None,
    };

    public async Task<int> RunAsync(bool keepRunning)
    {
        if (dataDirectory is not null && Directory.Exists(dataDirectory) && Directory.EnumerateFileSystemEntries(dataDirectory).Any())
        {
            throw new UsageException($"--data {dataDirectory} is not empty; the cluster demo needs an empty directory (its nodes get new ports on every run)");
        }

        await using LocalCluster cluster = LocalCluster.Create(new LocalClusterOptions { Nodes = nodeCount, Directory = dataDirectory });
        try
        {
            await RunAsync(cluster, keepRunning).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException && cluster.IsTemporary)
        {
            cluster.KeepDirectory();
            env.Error.WriteLine($"strata: the nodes' data and logs are kept in {cluster.Directory}");
            throw;
        }

        return ExitCodes.Ok;
    }

    private async Task RunAsync(LocalCluster cluster, bool keepRunning)
    {
        Heading(string.Format(CultureInfo.InvariantCulture, StartHeading, nodeCount));
        Say($"Each node is a [bold]strata start --node-id N --initial-cluster ...[/] process on free loopback ports: {Escape(cluster.Program)}");
        Say($"Data and logs in {Escape(cluster.Directory)}{(cluster.IsTemporary ? " (temporary)" : "")}");
        long started = Stopwatch.GetTimestamp();
        cluster.StartAll();
        ClusterObservation ready = await cluster.WaitUntilReadyAsync(ReadyTimeout, cancellationToken).ConfigureAwait(false);
        Say($"Ready in {Seconds(started)}: every shard has a leader on a node that answers.");
        ShowTables(cluster, ready);

        Uri[] seeds = [.. cluster.Nodes.Select(n => n.Uri)];
        using StrataClient client = StrataClient.ConnectCluster(seeds);
        SampleMedia sample = await DemoCommand.LoadAndRunScenesAsync(env, client, () => StrataClient.ConnectCluster(seeds), cancellationToken).ConfigureAwait(false);
        Say("[grey](all four scenes ran unchanged through the shard-aware client, StrataClient.ConnectCluster)[/]");

        if (ready.ShardOf(Bucket).Replicas.Count >= 3)
        {
            ulong killed = await FailoverAsync(cluster, client, sample).ConfigureAwait(false);
            await RestartAsync(cluster, killed, sample).ConfigureAwait(false);
        }
        else
        {
            Heading(FailoverHeading);
            Say($"[yellow]Skipped:[/] shard {ready.ShardOf(Bucket).ShardId} has {ready.ShardOf(Bucket).Replicas.Count} replicas; losing one leaves no majority, " +
                "so no new leader could be elected. Run [bold]strata demo --nodes 3[/] (or more) to see a leader fail.");
        }

        ClusterObservation final = await cluster.WaitUntilReadyAsync(ReadyTimeout, cancellationToken).ConfigureAwait(false);
        ShowTables(cluster, final);
        string address = NodeLauncher.Display(cluster.Nodes[0].Uri);
        DemoCommand.WriteComplete(env,
            $"Next: [bold]strata cluster status --address {address}[/] and [bold]strata shards --address {address}[/] " +
            "(with [bold]--keep-running[/]); docs/OPERATIONS.md starts a cluster by hand.");

        if (keepRunning)
        {
            await ServeUntilStoppedAsync(cluster).ConfigureAwait(false);
        }
    }

    /// <summary>Kills the leader of the sample bucket's shard; returns its id once the data is shown intact.</summary>
    private async Task<ulong> FailoverAsync(LocalCluster cluster, StrataClient client, SampleMedia sample)
    {
        Heading(FailoverHeading);
        ClusterObservation before = await cluster.WaitUntilReadyAsync(ReadyTimeout, cancellationToken).ConfigureAwait(false);
        ShardInfo shard = before.ShardOf(Bucket);
        (ulong leader, ReplicaInfo leaderReplica) = before.Leader(shard.ShardId)
            ?? throw new CommandFailedException($"shard {shard.ShardId} has no leader before the failover");
        int objectsBefore = await CountObjectsAsync(client).ConfigureAwait(false);
        Check(objectsBefore == sample.ObjectCount, $"the cluster lists the {sample.ObjectCount:N0} objects loaded (it lists {objectsBefore:N0})");
        Dictionary<string, Entry> witnesses = await StatAllAsync(client).ConfigureAwait(false);

        LocalNode victim = cluster.Node(leader);
        Say($"Bucket [bold]{Bucket}[/] lives in shard [bold]{shard.ShardId}[/] (replicas on nodes {string.Join(", ", shard.Replicas)}), " +
            $"led by node [bold]{leader}[/] (term {leaderReplica.Term}, commit index {leaderReplica.Committed}); it lists {objectsBefore:N0} objects.");
        Say($"[red]kill -9[/] node {leader} (pid {victim.ProcessId}): no shutdown, no goodbye to its peers.");
        await cluster.KillAsync(leader).ConfigureAwait(false);
        long killedAt = Stopwatch.GetTimestamp();
        Check(!victim.IsRunning, $"node {leader}'s process is gone");

        // A write through the survivors only: it succeeds once a new leader was elected and holds a quorum.
        Uri[] survivors = [.. cluster.RunningAddresses()];
        using StrataClient survivorClient = StrataClient.ConnectCluster(survivors, ProbeOptions);
        var probe = new ObjectAttributes { Size = 2, Etag = "failover-probe", ContentType = "text/plain", Tier = Tier.Ssd };
        Entry written = await UntilServedAsync(
            () => survivorClient.PutObjectAsync(Bucket, ProbePath, probe, cancellationToken: cancellationToken),
            $"no new leader of shard {shard.ShardId} served a write within {FailoverTimeout.TotalSeconds:0} s of the kill").ConfigureAwait(false);
        string servedAfter = Seconds(killedAt);
        ClusterObservation after = await ObserveNewLeaderAsync(cluster, shard.ShardId, leader).ConfigureAwait(false);
        (ulong newLeader, ReplicaInfo newReplica) = after.Leader(shard.ShardId)!.Value;
        Say($"  [green]✓[/] node [bold]{newLeader}[/] leads shard {shard.ShardId} now (term {newReplica.Term} > {leaderReplica.Term}); " +
            $"the first write through the survivors succeeded [bold]{servedAfter}[/] after the kill.");

        // Read everything back through one surviving replica of the shard: a follower if there is one, to show it serves reads too.
        LocalNode reader = cluster.Nodes.Where(n => n.IsRunning && shard.Replicas.Contains(n.Id)).OrderBy(n => n.Id == newLeader ? 1 : 0).First();
        using StrataClient readerClient = StrataClient.Connect(reader.Uri);
        (int objectsAfter, Dictionary<string, Entry> through, Entry probeRead) = await UntilServedAsync(
            async () => (await CountObjectsAsync(readerClient).ConfigureAwait(false),
                         await StatAllAsync(readerClient).ConfigureAwait(false),
                         await readerClient.StatAsync(Bucket, ProbePath, cancellationToken: cancellationToken).ConfigureAwait(false)),
            $"node {reader.Id} did not serve reads within {FailoverTimeout.TotalSeconds:0} s of the new leader's first write").ConfigureAwait(false);
        Check(objectsAfter == objectsBefore + 1, $"node {reader.Id} lists {objectsBefore + 1:N0} objects (the loaded ones and the probe), not {objectsAfter:N0}");
        Check(probeRead.Generation == written.Generation && probeRead.Attributes.Etag == probe.Etag, "the probe written after the kill reads back");
        Say($"  [green]✓[/] node {reader.Id} ({(reader.Id == newLeader ? "the new leader" : "a follower")}) lists [bold]{objectsAfter:N0}[/] objects: " +
            $"the {objectsBefore:N0} from before the kill and the probe written after it.");
        WitnessTable(witnesses, through, $"stat through node {reader.Id} after the kill", "same as before the kill");
        return leader;
    }

    /// <summary>Restarts <paramref name="killed"/> over its data and shows it catch up and serve.</summary>
    private async Task RestartAsync(LocalCluster cluster, ulong killed, SampleMedia sample)
    {
        Heading(RestartHeading);
        LocalNode node = cluster.Node(killed);
        ClusterObservation before = await cluster.TryObserveAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new CommandFailedException("no surviving node answers");
        ShardInfo shard = before.ShardOf(Bucket);
        using StrataClient survivors = StrataClient.ConnectCluster(cluster.RunningAddresses(), ProbeOptions);
        Dictionary<string, Entry> expected = await UntilServedAsync(
            () => StatAllAsync(survivors), "the survivors did not serve the witness paths").ConfigureAwait(false);

        cluster.Start(killed);
        long restarted = Stopwatch.GetTimestamp();
        Say($"Restarted node {killed} (pid {node.ProcessId}) over its data directory; it rejoins and is sent what it missed.");
        (ReplicaInfo replica, ulong leaderCommit, ulong leader) = await UntilCaughtUpAsync(cluster, killed, shard.ShardId).ConfigureAwait(false);
        Say(leader == killed
            ? $"  [green]✓[/] its replica of shard {shard.ShardId} caught up and leads the shard again (handed back by leadership balance): applied index [bold]{replica.Applied}[/] = its commit index, [bold]{Seconds(restarted)}[/] after the restart."
            : $"  [green]✓[/] its replica of shard {shard.ShardId} applied index [bold]{replica.Applied}[/] ≥ the commit index of leader node {leader} " +
              $"({leaderCommit}) [bold]{Seconds(restarted)}[/] after the restart.");

        // Leadership balance may hand the shard back to the restarted node right now: a read that meets the brief
        // election in between is answered Unavailable and is tried again, as any client would.
        using StrataClient direct = StrataClient.Connect(node.Uri, ProbeOptions with { DefaultDeadline = TimeSpan.FromSeconds(10) });
        (Entry probe, int objects, Dictionary<string, Entry> through) = await UntilServedAsync(
            async () => (await direct.StatAsync(Bucket, ProbePath, cancellationToken: cancellationToken).ConfigureAwait(false),
                         await CountObjectsAsync(direct).ConfigureAwait(false),
                         await StatAllAsync(direct).ConfigureAwait(false)),
            $"node {killed} did not serve reads within {FailoverTimeout.TotalSeconds:0} s of catching up").ConfigureAwait(false);
        Check(objects == sample.ObjectCount + 1, $"node {killed} lists {sample.ObjectCount + 1:N0} objects, not {objects:N0}");
        Check(probe.Attributes.Etag == "failover-probe", "the probe written while the node was down reads back through it");
        Say($"  [green]✓[/] through node {killed}: the probe written while it was dead is there (generation {probe.Generation}), " +
            $"and it lists all [bold]{objects:N0}[/] objects.");
        WitnessTable(expected, through, $"stat through the restarted node {killed}", "same as on the survivors");
    }

    private async Task<T> UntilServedAsync<T>(Func<Task<T>> call, string failure)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(FailoverTimeout);
        string last = "";
        while (true)
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (StrataException e) when (RetryPolicy.IsTransient(e.StatusCode))
            {
                last = CommandActions.Describe(e);
            }

            try
            {
                await Task.Delay(Poll, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new CommandFailedException($"{failure} (last error: {last})");
            }
        }
    }

    private async Task<ClusterObservation> ObserveNewLeaderAsync(LocalCluster cluster, ulong shardId, ulong old)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(FailoverTimeout);
        try
        {
            while (true)
            {
                if (await cluster.TryObserveAsync(deadline.Token).ConfigureAwait(false) is { } seen
                    && seen.Leader(shardId) is { } leader && leader.Node != old && cluster.Node(leader.Node).IsRunning)
                {
                    return seen;
                }

                await Task.Delay(Poll, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CommandFailedException($"no surviving node reports itself leader of shard {shardId}");
        }
    }

    /// <summary>Waits until the restarted node's replica has applied the leader's commit index (both read in one observation).</summary>
    private async Task<(ReplicaInfo Replica, ulong LeaderCommit, ulong Leader)> UntilCaughtUpAsync(LocalCluster cluster, ulong nodeId, ulong shardId)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(CatchUpTimeout);
        string state = "it has not answered yet";
        try
        {
            while (true)
            {
                if (!cluster.Node(nodeId).IsRunning)
                {
                    throw new CommandFailedException($"node {nodeId} exited after its restart; its log ends with:{Environment.NewLine}{cluster.LogTail(nodeId)}");
                }

                if (await cluster.TryObserveAsync(deadline.Token).ConfigureAwait(false) is { } seen
                    && seen.Leader(shardId) is { } leader && seen.Replica(nodeId, shardId) is { } replica)
                {
                    // Leadership balance may hand the shard back to the restarted node: a leader has every committed
                    // entry, so leading and having applied its own commit index is caught up too.
                    if (replica.Applied >= leader.Replica.Committed)
                    {
                        return (replica, leader.Replica.Committed, leader.Node);
                    }

                    state = $"applied {replica.Applied}, leader commit {leader.Replica.Committed}";
                }

                await Task.Delay(Poll, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CommandFailedException($"node {nodeId} did not catch up on shard {shardId} within {CatchUpTimeout.TotalSeconds:0} s ({state})");
        }
    }

    private async Task ServeUntilStoppedAsync(LocalCluster cluster)
    {
        env.Console.WriteLine();
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        foreach (LocalNode node in cluster.Nodes)
        {
            grid.AddRow($"node {node.Id}", Escape($"{NodeLauncher.Display(node.Uri)}  (pid {node.ProcessId}, log {node.LogPath})"));
        }

        grid.AddRow("data", Escape(cluster.Directory + (cluster.IsTemporary ? " (temporary: deleted when the cluster stops)" : "")));
        grid.AddRow("try", Escape($"strata cluster status --address {NodeLauncher.Display(cluster.Nodes[0].Uri)}"));
        env.Console.Write(new Panel(grid).Header("Strata cluster running").Border(BoxBorder.Rounded));
        env.Console.MarkupLine("Press [bold]Ctrl+C[/] to stop.");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C or SIGTERM: stop the nodes below.
        }

        env.Out.WriteLine("stopping...");
        await cluster.DisposeAsync().ConfigureAwait(false);
        env.Out.WriteLine("stopped");
    }

    private void ShowTables(LocalCluster cluster, ClusterObservation observation)
    {
        env.Console.Write(ClusterCommands.NodeTable(observation, id => cluster.Node(id).ProcessId is int pid
            ? (cluster.Node(id).IsRunning ? $"pid {pid}" : $"pid {pid} (exited)")
            : "-"));
        env.Console.Write(ClusterCommands.ShardTable(observation));
    }

    private async Task<int> CountObjectsAsync(StrataClient client)
    {
        int count = 0;
        await foreach (Entry entry in client.ListAllAsync(new ListRequest { Bucket = Bucket, Delimiter = "" }, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (entry.Kind == EntryKind.Object)
            {
                count++;
            }
        }

        return count;
    }

    private async Task<Dictionary<string, Entry>> StatAllAsync(StrataClient client)
    {
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        foreach (string path in Witnesses)
        {
            entries[path] = await client.StatAsync(Bucket, path, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        return entries;
    }

    private void WitnessTable(Dictionary<string, Entry> expected, Dictionary<string, Entry> actual, string title, string verdict)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(Escape(title));
        table.AddColumns("path", "size", "ETag", "tier", "generation", "check");
        foreach (string path in Witnesses)
        {
            Entry want = expected[path];
            Entry got = actual[path];
            Check(got.Generation == want.Generation && got.Modified == want.Modified && got.Attributes.Etag == want.Attributes.Etag
                && got.Attributes.Size == want.Attributes.Size, $"{path} is {verdict}");
            table.AddRow(
                Escape(path),
                got.Attributes.Size.ToString("N0", CultureInfo.InvariantCulture),
                Escape(got.Attributes.Etag),
                got.Attributes.Tier.ToString().ToLowerInvariant(),
                got.Generation.ToString(CultureInfo.InvariantCulture),
                "[green]✓[/] " + Escape(verdict));
        }

        env.Console.Write(table);
    }

    private void Heading(string title)
    {
        env.Console.WriteLine();
        env.Console.Write(new Rule($"[bold yellow]{Escape(title)}[/]").LeftJustified());
    }

    private void Say(string markup) => env.Console.MarkupLine(markup);

    private static string Escape(string text) => Markup.Escape(text);

    private static string Seconds(long since) =>
        Stopwatch.GetElapsedTime(since).TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";

    private static void Check(bool holds, string claim)
    {
        if (!holds)
        {
            throw new CommandFailedException($"demo check failed: {claim}");
        }
    }
}
