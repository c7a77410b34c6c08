using System.Globalization;
using System.Text;

namespace Strata.Cli.Cluster;

/// <summary>A directed link between two nodes: the packets <see cref="From"/> sends to <see cref="To"/>.</summary>
/// <param name="From">The sending node's id.</param>
/// <param name="To">The receiving node's id.</param>
internal readonly record struct NodeLink(ulong From, ulong To)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{From}->{To}");
}

/// <summary>
/// A private network for the nodes of one <see cref="LocalCluster"/>: one Linux network namespace per node, each
/// joined by a veth pair to a bridge in the root namespace that carries the address <c>10.77.X.1/24</c> (X chosen
/// free on this host); node <c>k</c> has <c>10.77.X.(10+k)</c>. The chaos runner and its clients stay in the root
/// namespace and reach every node over the bridge; nodes reach each other over it too. <see cref="CutAsync"/>
/// drops chosen node-to-node links with iptables inside the receivers' namespaces; <see cref="HealAsync"/> lets
/// everything through again. Traffic between the root namespace and the nodes is never cut.
/// </summary>
/// <remarks>
/// <para>Names are unique per run: <c>{pid}c{n}</c> (this process's id and a per-process counter) is in every name
/// — namespaces <c>strata-{tag}-{node}</c>, bridge <c>sb{tag}</c>, host-side veths <c>sv{tag}n{node}</c> (within
/// the 15 characters of an interface name) — so runs in parallel do not collide. Before building, leftovers of
/// runs whose process is gone (killed before it could clean up) are removed.</para>
/// <para>Bridged packets may pass the root namespace's FORWARD chain (br_netfilter); a rule accepting traffic
/// from the bridge to itself is inserted there for the run and removed after it.</para>
/// <para><b>Caller's duties.</b> Needs root and <see cref="NetworkTools"/>. Start the nodes with
/// <see cref="Launcher"/> (<c>ip netns exec</c> replaces itself with the node, so the process id is the node's)
/// listening on <see cref="AddressOf"/>; stop every node before <see cref="DisposeAsync"/>, which deletes
/// everything this network created on every path and lists what it could not delete in
/// <see cref="TeardownProblems"/>.</para>
/// <para><b>Concurrency.</b> <see cref="CutAsync"/> and <see cref="HealAsync"/> are called by one caller at a time
/// (the fault scheduler); the name and address members are immutable and thread-safe.</para>
/// </remarks>
internal sealed partial class NamespaceNetwork : IAsyncDisposable
{
    /// <summary>Every namespace this class creates has a name that starts with this.</summary>
    public const string NamespacePrefix = "strata-";

    private static readonly string LockPath = Path.Combine(Path.GetTempPath(), "strata-chaos-network.lock");
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);
    private static int s_runs;

    private readonly NetworkTools _tools;
    private readonly int _subnet;
    private readonly List<string> _teardownProblems = [];
    private bool _forwardRule;
    private bool _disposed;

    private NamespaceNetwork(NetworkTools tools, string tag, int subnet, IReadOnlyList<ulong> nodes)
    {
        _tools = tools;
        Tag = tag;
        _subnet = subnet;
        Nodes = nodes;
    }

    /// <summary>This run's part of every name: <c>{pid}c{n}</c>.</summary>
    public string Tag { get; }

    /// <summary>The node ids, 1..N.</summary>
    public IReadOnlyList<ulong> Nodes { get; }

    /// <summary>The bridge in the root namespace.</summary>
    public string Bridge => "sb" + Tag;

    /// <summary>The nodes' subnet, e.g. <c>10.77.42.0/24</c>.</summary>
    public string Subnet => string.Create(CultureInfo.InvariantCulture, $"10.77.{_subnet}.0/24");

    /// <summary>The root namespace's address on the bridge (the chaos runner's side).</summary>
    public string BridgeAddress => string.Create(CultureInfo.InvariantCulture, $"10.77.{_subnet}.1");

    /// <summary>Every namespace of the network, by node.</summary>
    public IReadOnlyList<string> Namespaces => [.. Nodes.Select(NamespaceOf)];

    /// <summary>What <see cref="DisposeAsync"/> could not delete (empty when everything is gone).</summary>
    public IReadOnlyList<string> TeardownProblems => _teardownProblems;

    /// <summary>The network namespace node <paramref name="node"/> runs in.</summary>
    public string NamespaceOf(ulong node) => string.Create(CultureInfo.InvariantCulture, $"{NamespacePrefix}{Tag}-{node}");

    /// <summary>The IPv4 address of node <paramref name="node"/> in its namespace.</summary>
    public string AddressOf(ulong node) => string.Create(CultureInfo.InvariantCulture, $"10.77.{_subnet}.{10 + node}");

    /// <summary>The command placed before a node's program to run it in its namespace.</summary>
    public IReadOnlyList<string> Launcher(ulong node) => [_tools.Ip, "netns", "exec", NamespaceOf(node)];

    /// <summary>
    /// Builds the network for nodes 1..<paramref name="nodes"/>: removes leftovers of dead runs, picks a free
    /// subnet, creates the bridge, the namespaces and the veth pairs. On failure everything created is removed
    /// again and a <see cref="CommandFailedException"/> says which command failed.
    /// </summary>
    public static async Task<NamespaceNetwork> CreateAsync(NetworkTools tools, int nodes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tools);
        if (nodes is < 1 or > LocalCluster.MaxNodes)
        {
            throw new ArgumentOutOfRangeException(nameof(nodes), nodes, $"1..{LocalCluster.MaxNodes} nodes");
        }

        string tag = string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}c{Interlocked.Increment(ref s_runs) % 1000}");
        // One run at a time between choosing a subnet and claiming it on the bridge, across processes.
        using FileStream held = await LockAsync(cancellationToken).ConfigureAwait(false);
        await SweepOrphansAsync(tools, cancellationToken).ConfigureAwait(false);
        int subnet = await FreeSubnetAsync(tools, tag, cancellationToken).ConfigureAwait(false);
        var network = new NamespaceNetwork(tools, tag, subnet, [.. Enumerable.Range(1, nodes).Select(n => (ulong)n)]);
        try
        {
            await network.BuildAsync(cancellationToken).ConfigureAwait(false);
            return network;
        }
        catch
        {
            await network.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Drops the packets of every link in <paramref name="dropped"/> (silently, at the receiver: the sender sees no
    /// error, its packets are lost), replacing any cut before. Links not listed are delivered.
    /// </summary>
    public async Task CutAsync(IReadOnlyCollection<NodeLink> dropped, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dropped);
        ObjectDisposedException.ThrowIf(_disposed, this);
        await Task.WhenAll(Nodes.Select(node => ApplyRulesAsync(node, [.. dropped.Where(l => l.To == node).Select(l => l.From)], cancellationToken)))
            .ConfigureAwait(false);
    }

    /// <summary>Removes every cut: all node-to-node packets are delivered again. Safe to call at any time.</summary>
    public async Task HealAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await Task.WhenAll(Nodes.Select(node => ApplyRulesAsync(node, [], cancellationToken))).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes the veth pairs, the namespaces, the FORWARD rule and the bridge, whatever failed before; what could
    /// not be deleted is listed in <see cref="TeardownProblems"/>. Not cancellable (it is the cleanup).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (ulong node in Nodes)
        {
            // Deleting one end deletes the pair; a pair whose namespace is gone is already deleted.
            await DeleteAsync(_tools.Ip, ["link", "del", VethOf(node)]).ConfigureAwait(false);
            await DeleteAsync(_tools.Ip, ["netns", "del", NamespaceOf(node)]).ConfigureAwait(false);
        }

        if (_forwardRule)
        {
            await DeleteAsync(_tools.Iptables, ["-D", "FORWARD", "-i", Bridge, "-o", Bridge, "-j", "ACCEPT"]).ConfigureAwait(false);
        }

        await DeleteAsync(_tools.Ip, ["link", "del", Bridge]).ConfigureAwait(false);
        foreach (string left in await LeftoversAsync(_tools, Tag, CancellationToken.None).ConfigureAwait(false))
        {
            _teardownProblems.Add($"{left} still exists after the run");
        }
    }

    /// <summary>The namespaces and links whose name carries <paramref name="tag"/> that exist now.</summary>
    public static async Task<IReadOnlyList<string>> LeftoversAsync(NetworkTools tools, string tag, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tools);
        var left = new List<string>();
        foreach (string name in await NamespaceNamesAsync(tools, cancellationToken).ConfigureAwait(false))
        {
            if (name.StartsWith(NamespacePrefix + tag + "-", StringComparison.Ordinal))
            {
                left.Add("network namespace " + name);
            }
        }

        foreach (string name in await LinkNamesAsync(tools, cancellationToken).ConfigureAwait(false))
        {
            if (name == "sb" + tag || name.StartsWith("sv" + tag + "n", StringComparison.Ordinal))
            {
                left.Add("network interface " + name);
            }
        }

        return left;
    }

    private string VethOf(ulong node) => string.Create(CultureInfo.InvariantCulture, $"sv{Tag}n{node}");

    private async Task BuildAsync(CancellationToken cancellationToken)
    {
        await IpAsync(["link", "add", Bridge, "type", "bridge"], cancellationToken).ConfigureAwait(false);
        await IpAsync(["addr", "add", BridgeAddress + "/24", "dev", Bridge], cancellationToken).ConfigureAwait(false);
        await IpAsync(["link", "set", Bridge, "up"], cancellationToken).ConfigureAwait(false);
        _forwardRule = true;
        await HostCommand.RunAsync(_tools.Iptables, ["-I", "FORWARD", "-i", Bridge, "-o", Bridge, "-j", "ACCEPT"], cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (ulong node in Nodes)
        {
            string space = NamespaceOf(node);
            await IpAsync(["netns", "add", space], cancellationToken).ConfigureAwait(false);
            await IpAsync(["link", "add", VethOf(node), "type", "veth", "peer", "name", "eth0", "netns", space], cancellationToken).ConfigureAwait(false);
            await IpAsync(["link", "set", VethOf(node), "master", Bridge, "up"], cancellationToken).ConfigureAwait(false);
            await IpAsync(["-n", space, "addr", "add", AddressOf(node) + "/24", "dev", "eth0"], cancellationToken).ConfigureAwait(false);
            await IpAsync(["-n", space, "link", "set", "eth0", "up"], cancellationToken).ConfigureAwait(false);
            await IpAsync(["-n", space, "link", "set", "lo", "up"], cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Replaces the filter table of <paramref name="node"/>'s namespace: drop what comes from <paramref name="senders"/>, accept the rest.</summary>
    private async Task ApplyRulesAsync(ulong node, IReadOnlyList<ulong> senders, CancellationToken cancellationToken)
    {
        var rules = new StringBuilder("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n");
        foreach (ulong sender in senders.Distinct().Order())
        {
            rules.Append("-A INPUT -s ").Append(AddressOf(sender)).Append("/32 -j DROP\n");
        }

        rules.Append("COMMIT\n");
        await HostCommand.RunAsync(_tools.Ip, ["netns", "exec", NamespaceOf(node), _tools.IptablesRestore], rules.ToString(), cancellationToken).ConfigureAwait(false);
    }

    private Task<string> IpAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        HostCommand.RunAsync(_tools.Ip, arguments, cancellationToken: cancellationToken);

    /// <summary>Runs a deleting command; "does not exist" is success, any other failure is a teardown problem.</summary>
    private async Task DeleteAsync(string file, IReadOnlyList<string> arguments)
    {
        try
        {
            HostCommandResult result = await HostCommand.TryRunAsync(file, arguments).ConfigureAwait(false);
            if (!result.Succeeded && !IsAbsent(result.Error))
            {
                _teardownProblems.Add($"{HostCommand.Describe(file, arguments)}: {result.Error.Trim()}");
            }
        }
        catch (CommandFailedException e)
        {
            _teardownProblems.Add(e.Message);
        }
    }

    private static bool IsAbsent(string error) =>
        error.Contains("Cannot find device", StringComparison.Ordinal)
        || error.Contains("No such file or directory", StringComparison.Ordinal)
        || error.Contains("does a matching rule exist", StringComparison.OrdinalIgnoreCase)
        || error.Contains("Bad rule", StringComparison.Ordinal);

    private static async Task<FileStream> LockAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(LockTimeout);
        while (true)
        {
            try
            {
                return new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(50), deadline.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new CommandFailedException($"another strata chaos run held {LockPath} for more than {LockTimeout.TotalSeconds:0} s");
                }
            }
        }
    }
}
