using System.Diagnostics;
using System.Globalization;
using Strata.Bench.Targets;

namespace Strata.Cli.Cluster;

/// <summary>What a <see cref="LocalCluster"/> starts.</summary>
internal sealed record LocalClusterOptions
{
    /// <summary>Node processes (1..<see cref="LocalCluster.MaxNodes"/>).</summary>
    public int Nodes { get; init; } = 3;

    /// <summary>Directory for the nodes' data and logs; null: a new temporary directory, deleted on dispose.</summary>
    public string? Directory { get; init; }

    /// <summary>How to run a node (this CLI's <c>strata start</c>).</summary>
    public NodeProgram Program { get; init; } = NodeProgram.OfThisCli();

    public string ClusterId { get; init; } = "strata-local";

    public int Shards { get; init; } = 4;

    public int ReplicationFactor { get; init; } = 3;

    /// <summary>How long a node may take to stop after SIGTERM before it is killed.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The IP address each node listens on (element 0 for node 1), with <see cref="LocalCluster.HostedApiPort"/> and
    /// <see cref="LocalCluster.HostedRaftPort"/>: for nodes that each have an address of their own (a network
    /// namespace, see <see cref="NamespaceNetwork"/>). Null: every node on loopback, on free ports.
    /// </summary>
    public IReadOnlyList<string>? Hosts { get; init; }

    /// <summary>The command placed before the node program when node <c>id</c> is started (e.g. <c>ip netns exec NS</c>); null: none.</summary>
    public Func<ulong, IReadOnlyList<string>>? Launcher { get; init; }

    /// <summary>
    /// With <see cref="Hosts"/>: the address a node that joins later with id <c>id</c> listens on (a spare network
    /// namespace), or null when there is none for that id (no node can join). Ignored on loopback (free ports).
    /// </summary>
    public Func<ulong, string?>? JoinHost { get; init; }

    /// <summary>
    /// Start every node under the power-loss library (<see cref="Cluster.PowerLoss"/>), so that
    /// <see cref="LocalCluster.PowerLossAsync"/> can cut a node's power: what it did not fsync is lost.
    /// </summary>
    public bool PowerLoss { get; init; }

    /// <summary>
    /// Start every node with the clock-skew hook (<c>STRATA_CLOCK_SKEW_FILE</c> = its <see cref="LocalNode.ClockSkewFile"/>),
    /// so that <see cref="LocalCluster.SkewClock"/> can make its clock run fast or slow. For chaos runs only.
    /// </summary>
    public bool ClockSkewHook { get; init; }

    /// <summary>The nodes' <c>--compaction-threshold</c> (applied entries after which a shard's log is compacted); null: the default.</summary>
    public ulong? CompactionThreshold { get; init; }
}

/// <summary>One node of a <see cref="LocalCluster"/>: its addresses, directories and process.</summary>
internal sealed class LocalNode
{
    internal LocalNode(ulong id, string host, int apiPort, int raftPort, string directory, string? joinAddress = null)
    {
        Id = id;
        JoinAddress = joinAddress;
        ApiAddress = string.Create(CultureInfo.InvariantCulture, $"{host}:{apiPort}");
        RaftAddress = string.Create(CultureInfo.InvariantCulture, $"{host}:{raftPort}");
        Uri = new Uri("http://" + ApiAddress);
        DataDirectory = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"node-{id}"));
        LogPath = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"node-{id}.log"));
        ClockSkewFile = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"node-{id}.clock"));
    }

    /// <summary>The node's clock-skew control file (read when <see cref="LocalClusterOptions.ClockSkewHook"/> is on).</summary>
    public string ClockSkewFile { get; }

    public ulong Id { get; }

    /// <summary>host:port of <c>strata.v1</c>.</summary>
    public string ApiAddress { get; }

    /// <summary>host:port of the node-to-node transport.</summary>
    public string RaftAddress { get; }

    /// <summary><see cref="ApiAddress"/> as a URL for clients.</summary>
    public Uri Uri { get; }

    public string DataDirectory { get; }

    /// <summary>Standard output and error of every run of the node, appended.</summary>
    public string LogPath { get; }

    /// <summary>The id of the current process; null before the first start.</summary>
    public int? ProcessId => Process?.Id;

    /// <summary>Whether the node's process is running.</summary>
    public bool IsRunning => Process is { HasExited: false };

    /// <summary>
    /// For a node added to the running cluster (<see cref="LocalCluster.AddJoiningNode"/>): the member's
    /// <c>strata.v1</c> address it joins through (<c>start --join</c>); null for a founding member.
    /// </summary>
    public string? JoinAddress { get; }

    /// <summary>
    /// The node was decommissioned and stopped for good (<see cref="LocalCluster.RetireAsync"/>): it is never started
    /// again, and its exited process is not a crash.
    /// </summary>
    public bool IsRetired => Volatile.Read(ref _retired);

    /// <summary>This node as an <c>--initial-cluster</c> member.</summary>
    public string Member => string.Create(CultureInfo.InvariantCulture, $"{Id}={ApiAddress}@{RaftAddress}");

    internal Process? Process { get; set; }

    internal StreamWriter? Log { get; set; }

    private bool _retired;

    internal void Retire() => Volatile.Write(ref _retired, true);
}

/// <summary>
/// A cluster of real <c>strata start</c> processes on loopback, for <c>strata demo --nodes N</c> and for tests:
/// free ports chosen before start, one data directory and one log file per node, start, SIGKILL, SIGTERM and
/// restart of any node, nodes added to the running cluster (<c>start --join</c>) and nodes retired for good after
/// their decommission, and a readiness check against the running processes.
/// </summary>
/// <remarks>
/// <para><b>Caller's duties.</b> Dispose it (<see cref="DisposeAsync"/>) on every path, failures and Ctrl+C
/// included: disposal stops every node (SIGTERM, then SIGKILL after <see cref="LocalClusterOptions.StopGrace"/>)
/// and deletes a temporary directory. As a second line of defence each node is started with its standard input
/// on a pipe from this process and stops when that pipe closes, so nodes do not outlive a parent that was
/// itself killed.</para>
/// <para><b>Concurrency.</b> Not thread-safe: one caller drives starts, kills, stops, joins and retirements. The
/// observation methods may run concurrently with each other and with that caller (<see cref="Nodes"/> is a
/// snapshot that a join replaces, never changes in place).</para>
/// <para>Ports are probed free just before the first start; another process could take one in between, and the
/// node then fails to start (reported with its log).</para>
/// </remarks>
internal sealed partial class LocalCluster : IAsyncDisposable
{
    public const int MaxNodes = 7;

    /// <summary>The API port of every node when each has an address of its own (<see cref="LocalClusterOptions.Hosts"/>).</summary>
    public const int HostedApiPort = 7070;

    /// <summary>The node-to-node transport port of every node when each has an address of its own.</summary>
    public const int HostedRaftPort = 7071;

    // Liveness bounds, not performance claims: a node that does not answer within them is reported as down.
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly LocalClusterOptions _options;
    private readonly bool _ownsDirectory;
    private IReadOnlyList<LocalNode> _nodes;
    private bool _keepDirectory;
    private bool _disposed;

    private LocalCluster(LocalClusterOptions options, string directory, bool ownsDirectory, IReadOnlyList<LocalNode> nodes)
    {
        _options = options;
        Directory = directory;
        _ownsDirectory = ownsDirectory;
        _nodes = nodes;
        InitialCluster = string.Join(',', nodes.Select(n => n.Member));
    }

    /// <summary>The directory of the nodes' data directories and logs.</summary>
    public string Directory { get; }

    /// <summary>Whether <see cref="Directory"/> is temporary (deleted on dispose unless <see cref="KeepDirectory"/>).</summary>
    public bool IsTemporary => _ownsDirectory;

    /// <summary>Every node ever started or planned, founding members first, then joined ones in the order they joined (retired ones included).</summary>
    public IReadOnlyList<LocalNode> Nodes => Volatile.Read(ref _nodes);

    /// <summary>The nodes that are members and not retired (<see cref="LocalNode.IsRetired"/>), in the order of <see cref="Nodes"/>.</summary>
    public IReadOnlyList<LocalNode> ActiveNodes => [.. Nodes.Where(n => !n.IsRetired)];

    /// <summary>How each node is run.</summary>
    public string Program => _options.Program.ToString();

    /// <summary>The <c>--initial-cluster</c> value every node is started with.</summary>
    public string InitialCluster { get; }

    /// <summary>Chooses free ports and directories for <see cref="LocalClusterOptions.Nodes"/> nodes; starts nothing.</summary>
    public static LocalCluster Create(LocalClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Nodes is < 1 or > MaxNodes)
        {
            throw new UsageException($"--nodes {options.Nodes} is outside 1..{MaxNodes}");
        }

        string directory;
        if (options.Directory is { } chosen)
        {
            directory = Path.GetFullPath(chosen);
            System.IO.Directory.CreateDirectory(directory);
        }
        else
        {
            directory = System.IO.Directory.CreateTempSubdirectory("strata-cluster-").FullName;
        }

        List<LocalNode> nodes;
        if (options.Hosts is { } hosts)
        {
            if (hosts.Count != options.Nodes)
            {
                throw new ArgumentException($"{hosts.Count} hosts for {options.Nodes} nodes", nameof(options));
            }

            nodes = [.. hosts.Select((host, i) => new LocalNode((ulong)i + 1, host, HostedApiPort, HostedRaftPort, directory))];
        }
        else
        {
            int[] ports = LoopbackPorts.Reserve(2 * options.Nodes);
            nodes = [.. Enumerable.Range(0, options.Nodes).Select(i => new LocalNode((ulong)i + 1, "127.0.0.1", ports[2 * i], ports[(2 * i) + 1], directory))];
        }
        return new LocalCluster(options, directory, options.Directory is null, nodes);
    }

    /// <summary>
    /// Adds a node that will join the running cluster through the member at <paramref name="joinAddress"/> (its
    /// <c>strata.v1</c> host:port) with the next id (one above every id this cluster ever had: the cluster never
    /// reuses a decommissioned id), its own free ports, data directory and log; <see cref="Start"/> starts it with
    /// <c>start --join</c> (and restarts it the same way: a joined node keeps its recorded id). On loopback it gets
    /// free ports; with <see cref="LocalClusterOptions.Hosts"/> the address <see cref="LocalClusterOptions.JoinHost"/>
    /// gives for its id. Throws <see cref="InvalidOperationException"/> unless <see cref="CanAddNode"/>.
    /// </summary>
    public LocalNode AddJoiningNode(string joinAddress)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentException.ThrowIfNullOrWhiteSpace(joinAddress);
        if (WhyNoNodeCanJoin() is { } reason)
        {
            throw new InvalidOperationException(reason);
        }

        ulong id = NextId;
        LocalNode node;
        if (_options.Hosts is null)
        {
            int[] ports = LoopbackPorts.Reserve(2);
            node = new LocalNode(id, "127.0.0.1", ports[0], ports[1], Directory, joinAddress);
        }
        else
        {
            node = new LocalNode(id, _options.JoinHost!(id)!, HostedApiPort, HostedRaftPort, Directory, joinAddress);
        }

        Volatile.Write(ref _nodes, [.. Nodes, node]);
        return node;
    }

    /// <summary>Whether <see cref="AddJoiningNode"/> can add a node now.</summary>
    public bool CanAddNode => WhyNoNodeCanJoin() is null;

    /// <summary>Why no node can join now (too many active nodes, no address for the next id); null when one can.</summary>
    public string? WhyNoNodeCanJoin()
    {
        if (ActiveNodes.Count >= MaxNodes)
        {
            return $"the cluster already has {MaxNodes} active nodes, the most a local cluster runs";
        }

        if (_options.Hosts is not null && _options.JoinHost?.Invoke(NextId) is null)
        {
            return string.Create(CultureInfo.InvariantCulture, $"no address (network namespace) was set aside for a node {NextId}");
        }

        return null;
    }

    /// <summary>The id the next joining node gets: one above every id this cluster ever had (the cluster never reuses one).</summary>
    private ulong NextId => Nodes.Max(n => n.Id) + 1;

    /// <summary>
    /// Retires node <paramref name="id"/> for good (after the cluster marked it decommissioned): marks it so it is
    /// never started again and its exit is not taken for a crash, then stops it (SIGTERM, then SIGKILL).
    /// </summary>
    public async Task RetireAsync(ulong id)
    {
        Node(id).Retire();
        await StopAsync(id).ConfigureAwait(false);
    }

    /// <summary>The node with id <paramref name="id"/>.</summary>
    public LocalNode Node(ulong id) =>
        Nodes.FirstOrDefault(n => n.Id == id) ?? throw new ArgumentOutOfRangeException(nameof(id), id, "no such node");

    /// <summary>The API addresses of the running nodes, except <paramref name="excluded"/>.</summary>
    public IReadOnlyList<Uri> RunningAddresses(ulong excluded = 0) =>
        [.. Nodes.Where(n => n.IsRunning && n.Id != excluded).Select(n => n.Uri)];

    /// <summary>Keeps a temporary directory on dispose (to read the logs after a failure).</summary>
    public void KeepDirectory() => _keepDirectory = true;

    /// <summary>
    /// Makes node <paramref name="id"/>'s clock run at <paramref name="rate"/> with its wall clock off by
    /// <paramref name="offset"/> (rate 1 and offset zero: real time again); the node reads it within 100 ms, and a
    /// restarted node keeps it. Needs <see cref="LocalClusterOptions.ClockSkewHook"/>.
    /// </summary>
    public void SkewClock(ulong id, double rate, TimeSpan offset)
    {
        if (!_options.ClockSkewHook)
        {
            throw new InvalidOperationException("the cluster was started without the clock-skew hook");
        }

        string text = string.Create(CultureInfo.InvariantCulture, $"rate={rate:R} offset={(long)offset.TotalMilliseconds}ms");
        string file = Node(id).ClockSkewFile;
        File.WriteAllText(file + ".new", text);
        File.Move(file + ".new", file, overwrite: true); // whole, never half-written when the node reads it
    }

    /// <summary>Starts every node that is not running.</summary>
    public void StartAll()
    {
        foreach (LocalNode node in Nodes.Where(n => !n.IsRunning))
        {
            Start(node.Id);
        }
    }

    /// <summary>
    /// Starts (or restarts) node <paramref name="id"/> over its data directory; it must not be running.
    /// <paramref name="environment"/> adds variables for this start only (e.g. a crash point).
    /// </summary>
    public void Start(ulong id, IReadOnlyDictionary<string, string>? environment = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        LocalNode node = Node(id);
        if (node.IsRunning)
        {
            throw new InvalidOperationException($"node {id} is already running");
        }

        if (node.IsRetired)
        {
            throw new InvalidOperationException($"node {id} was decommissioned and retired: it is never started again");
        }

        node.Process?.Dispose();
        node.Log?.Dispose();
        NodeProgram program = _options.Launcher?.Invoke(id) is { Count: > 0 } launcher
            ? new NodeProgram(launcher[0], [.. launcher.Skip(1), _options.Program.FileName, .. _options.Program.Prefix])
            : _options.Program;
        string[] membership = node.JoinAddress is { } via
            ? ["--join", via, "--host", Host(node.ApiAddress), "--port", Port(node.ApiAddress), "--raft-port", Port(node.RaftAddress)]
            : ["--initial-cluster", InitialCluster];
        ProcessStartInfo info = program.StartInfo(
        [
            "start",
            "--node-id", id.ToString(CultureInfo.InvariantCulture),
            .. membership,
            "--data", node.DataDirectory,
            "--cluster-id", _options.ClusterId,
            "--shards", _options.Shards.ToString(CultureInfo.InvariantCulture),
            "--replication-factor", _options.ReplicationFactor.ToString(CultureInfo.InvariantCulture),
            .. (_options.CompactionThreshold is ulong threshold ? ["--compaction-threshold", threshold.ToString(CultureInfo.InvariantCulture)] : Array.Empty<string>()),
            Commands.StartCommand.StopWhenInputClosesOption,
        ]);
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        // Plain output in the log: no colours or cursor movements.
        info.Environment["NO_COLOR"] = "1";
        info.Environment["TERM"] = "dumb";
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }
        if (_options.PowerLoss)
        {
            Cluster.PowerLoss.Arm(info, node.DataDirectory);
        }

        if (_options.ClockSkewHook)
        {
            info.Environment[Server.SkewedClock.Variable] = node.ClockSkewFile;
        }

        var log = new StreamWriter(new FileStream(node.LogPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        log.WriteLine($"--- {info.FileName} {string.Join(' ', info.ArgumentList)}");
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, line) => WriteLog(log, line.Data);
        process.ErrorDataReceived += (_, line) => WriteLog(log, line.Data);
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            process.Dispose();
            log.Dispose();
            throw new CommandFailedException($"cannot run node {id} with {program}: {e.Message}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        node.Process = process;
        node.Log = log;
    }

    /// <summary>Kills node <paramref name="id"/> with SIGKILL (no chance to clean up) and waits until it is gone.</summary>
    public async Task KillAsync(ulong id)
    {
        LocalNode node = Node(id);
        if (node.Process is not { } process)
        {
            return;
        }

        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        await WaitGoneAsync(node).ConfigureAwait(false);
    }

    /// <summary>
    /// Cuts node <paramref name="id"/>'s power (the cluster must have <see cref="LocalClusterOptions.PowerLoss"/>): SIGKILL,
    /// then its data directory becomes what it had fsynced. Returns what was lost; <see cref="Start"/> restarts it.
    /// </summary>
    public async Task<PowerLossOutcome> PowerLossAsync(ulong id)
    {
        if (!_options.PowerLoss)
        {
            throw new InvalidOperationException("the cluster's nodes were not started under the power-loss library");
        }

        LocalNode node = Node(id);
        int pid = node.Process?.Id ?? throw new InvalidOperationException($"node {id} was never started");
        await KillAsync(id).ConfigureAwait(false);
        PowerLossOutcome outcome = Cluster.PowerLoss.Apply(node.DataDirectory, pid);
        node.Log?.WriteLine($"--- power loss: {outcome}");
        return outcome;
    }

    /// <summary>Stops node <paramref name="id"/>: SIGTERM (graceful shutdown), then SIGKILL after the grace period.</summary>
    public async Task StopAsync(ulong id)
    {
        LocalNode node = Node(id);
        if (node.Process is not { } process)
        {
            return;
        }

        if (!process.HasExited)
        {
            if (!Terminate(process.Id))
            {
                process.Kill(entireProcessTree: true);
            }

            using var grace = new CancellationTokenSource(_options.StopGrace);
            try
            {
                await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        await WaitGoneAsync(node).ConfigureAwait(false);
    }

    /// <summary>Stops every node (in parallel) and deletes a temporary directory unless asked to keep it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await Task.WhenAll(Nodes.Select(n => StopQuietlyAsync(n.Id))).ConfigureAwait(false);
        foreach (LocalNode node in Nodes)
        {
            node.Process?.Dispose();
            node.Log?.Dispose();
        }

        if (_ownsDirectory && !_keepDirectory)
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open (a node that would not die) leaves the directory behind: nothing to lose.
            }
        }
    }

    /// <summary>Stops a node on disposal: whatever goes wrong with the graceful path, the process is killed.</summary>
    private async Task StopQuietlyAsync(ulong id)
    {
        try
        {
            await StopAsync(id).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
        {
            try
            {
                Node(id).Process?.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It exited meanwhile.
            }
        }
    }

    /// <summary>The last lines of node <paramref name="id"/>'s log (for error messages).</summary>
    public string LogTail(ulong id, int lines = 8)
    {
        LocalNode node = Node(id);
        try
        {
            using var reader = new StreamReader(new FileStream(node.LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            string[] all = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return string.Join(Environment.NewLine, all.TakeLast(lines));
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static string Host(string address) => address[..address.LastIndexOf(':')];

    private static string Port(string address) => address[(address.LastIndexOf(':') + 1)..];

    private static async Task WaitGoneAsync(LocalNode node)
    {
        if (node.Process is { } process)
        {
            // Also drains the redirected output into the log.
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        node.Log?.Flush();
    }

    private static void WriteLog(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // Output that arrives after the cluster was disposed has nowhere to go.
            }
        }
    }
}
