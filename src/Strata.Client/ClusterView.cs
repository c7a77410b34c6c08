using System.Collections.Concurrent;
using System.Collections.Immutable;
using Grpc.Core;
using Strata.Api.V1;

namespace Strata.Client;

/// <summary>
/// What a cluster client knows about the cluster: the cached map (<see cref="Current"/>), the nodes it is
/// avoiding, one connection per node, and counters of its routing decisions. Owned by the
/// <see cref="StrataClient"/> made by <see cref="StrataClient.ConnectCluster"/> (see there for the routing
/// contract); tools read it, the client routes with it.
/// </summary>
/// <remarks>
/// <para><b>The map.</b> Fetched from any node that answers (known nodes first, then the seeds) on the first
/// call, after <see cref="ClusterRoutingOptions.MapRefreshInterval"/>, and after routing errors; fetches are
/// collapsed (concurrent calls needing a fresh map share one fetch). Each fetch, and each leader learned from a
/// response trailer, swaps in a new immutable <see cref="ClusterSnapshot"/>.</para>
/// <para><b>Connections.</b> One HTTP/2 channel per node address (scheme of the seeds), opened on first use and
/// closed when the client is disposed.</para>
/// <para><b>Thread-safety.</b> Every member is thread-safe. Disposal (through the client) closes every channel;
/// calls in flight then fail.</para>
/// </remarks>
public sealed partial class ClusterView : IDisposable
{
    private readonly ImmutableArray<Uri> _seeds;
    private readonly string _scheme;
    private readonly ClusterRoutingOptions _routing;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Lazy<NodeConnection>> _connections = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, NodeConnection> _byApiAddress = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _suspectedUntil = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _fetchGate = new();
    private Task<ClusterSnapshot>? _fetching;
    private ClusterSnapshot? _current;
    private int _stale;
    private int _disposed;
    private long _mapFetches;
    private long _mapFetchFailures;
    private long _redirectsFollowed;
    private long _leadersLearned;
    private long _connectionFailures;

    internal ClusterView(IEnumerable<Uri> seeds, ClusterRoutingOptions routing, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(routing);
        routing.Validate();
        _seeds = [.. seeds.Select(Normalize).DistinctBy(NodeConnection.KeyOf)];
        if (_seeds.IsEmpty)
        {
            throw new ArgumentException("at least one seed address is needed", nameof(seeds));
        }

        _scheme = _seeds[0].Scheme;
        if (_seeds.Any(s => s.Scheme != _scheme))
        {
            throw new ArgumentException("all seeds must use the same scheme (http or https)", nameof(seeds));
        }

        _routing = routing;
        _time = time;
    }

    /// <summary>The addresses the map is first fetched from (scheme://host:port).</summary>
    public ImmutableArray<Uri> Seeds => _seeds;

    /// <summary>The cached map with the leaders learned since it was fetched; null before the first fetch.</summary>
    public ClusterSnapshot? Current => Volatile.Read(ref _current);

    /// <summary>The routing counters so far.</summary>
    public RoutingCounters Counters => new(
        Interlocked.Read(ref _mapFetches),
        Interlocked.Read(ref _mapFetchFailures),
        Interlocked.Read(ref _redirectsFollowed),
        Interlocked.Read(ref _leadersLearned),
        Interlocked.Read(ref _connectionFailures));

    /// <summary>
    /// Fetches the map now (or joins a fetch in progress) and returns it. Throws <see cref="StrataException"/> when
    /// no known node and no seed answered; the cached map is then unchanged.
    /// </summary>
    public Task<ClusterSnapshot> RefreshAsync(CancellationToken cancellationToken = default) =>
        SharedFetch().WaitAsync(cancellationToken);

    /// <summary>Whether the client is avoiding the node at <paramref name="address"/> after failing to reach it.</summary>
    public bool IsSuspected(Uri address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return IsSuspected(NodeConnection.KeyOf(address), _time.GetTimestamp());
    }

    /// <summary>Closes every channel. Further calls through the client fail with <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _disposing.Cancel();
        foreach (Lazy<NodeConnection> connection in _connections.Values)
        {
            if (connection.IsValueCreated)
            {
                connection.Value.Dispose();
            }
        }

        // The token source is left to the collector: a fetch racing with disposal may still read its token.
    }

    /// <summary>The map as fresh as the routing rules want it: fetched when there is none, when a routing error
    /// marked it stale, or when it is older than the refresh interval. A failed fetch is counted and the old map
    /// (possibly none) is used: the call itself will report the failure if the cluster is unreachable.</summary>
    internal async ValueTask<ClusterSnapshot?> FreshSnapshotAsync(CancellationToken cancellationToken)
    {
        ClusterSnapshot? current = Current;
        bool due = current is null ||
            Volatile.Read(ref _stale) != 0 ||
            _time.GetElapsedTime(current.FetchedTimestamp) >= _routing.MapRefreshInterval;
        if (!due)
        {
            return current;
        }

        try
        {
            return await SharedFetch().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (StrataException)
        {
            return Current;
        }
    }

    /// <summary>Asks for a fetch before the next routing decision.</summary>
    internal void MarkStale() => Volatile.Write(ref _stale, 1);

    private Task<ClusterSnapshot> SharedFetch()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        lock (_fetchGate)
        {
            if (_fetching is { IsCompleted: false } running)
            {
                return running;
            }

            _fetching = FetchAsync(_disposing.Token);
            return _fetching;
        }
    }

    private async Task<ClusterSnapshot> FetchAsync(CancellationToken cancellationToken)
    {
        // Leave the fetch gate before doing any work.
        await Task.Yield();

        // A routing error after this point asks for another fetch: this one may already be answered from before it.
        Volatile.Write(ref _stale, 0);
        List<NodeConnection> order = FetchOrder();
        RpcException? last = null;
        foreach (NodeConnection node in order)
        {
            cancellationToken.ThrowIfCancellationRequested();
            DateTime? deadline = _routing.MapFetchTimeout is TimeSpan timeout ? _time.GetUtcNow().UtcDateTime + timeout : null;
            try
            {
                using AsyncUnaryCall<ClusterMap> call = node.Cluster.GetClusterMapAsync(
                    new GetClusterMapRequest(), new CallOptions(deadline: deadline, cancellationToken: cancellationToken));
                ClusterMap map = await call.ResponseAsync.ConfigureAwait(false);
                ClusterSnapshot fetched = ClusterSnapshot.FromMap(map, _time.GetUtcNow(), _time.GetTimestamp()).KeepingLeadersOf(Current);
                Volatile.Write(ref _current, fetched);
                Interlocked.Increment(ref _mapFetches);
                return fetched;
            }
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
            {
                last = e;
                if (IsConnectionFailure(e))
                {
                    Suspect(node.Key);
                }
            }
        }

        Interlocked.Increment(ref _mapFetchFailures);
        MarkStale();
        throw new StrataException(last!, order.Count, redirects: 0, context: $"no node answered GetClusterMap ({order.Count} tried)");
    }

    /// <summary>Nodes to ask for the map: known nodes that are not suspected, then seeds, then suspected nodes.</summary>
    private List<NodeConnection> FetchOrder()
    {
        long now = _time.GetTimestamp();
        var keys = new List<Uri>();
        var suspected = new List<Uri>();
        if (Current is { } map)
        {
            foreach (ClusterNode node in map.Nodes)
            {
                if (ConnectionTo(node.ApiAddress) is { } connection)
                {
                    (IsSuspected(connection.Key, now) || node.Suspected ? suspected : keys).Add(connection.Address!);
                }
            }
        }

        foreach (Uri seed in _seeds)
        {
            (IsSuspected(NodeConnection.KeyOf(seed), now) ? suspected : keys).Add(seed);
        }

        return [.. keys.Concat(suspected).DistinctBy(NodeConnection.KeyOf).Select(Connection)];
    }

    /// <summary>The connection to <paramref name="address"/>, opened on first use.</summary>
    internal NodeConnection Connection(Uri address)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        string key = NodeConnection.KeyOf(address);
        NodeConnection connection = _connections.GetOrAdd(key, static (k, a) => new Lazy<NodeConnection>(() => NodeConnection.Open(a)), address).Value;
        if (Volatile.Read(ref _disposed) != 0)
        {
            // Disposal raced with this call and may have missed the new channel.
            connection.Dispose();
            throw new ObjectDisposedException(nameof(ClusterView));
        }

        return connection;
    }

    /// <summary>The connection to the node whose <c>strata.v1</c> is at host:port <paramref name="apiAddress"/>
    /// (in the seeds' scheme), remembered by that string so routing parses no address per call; null when the
    /// map's address is not one (such a node is never routed to).</summary>
    internal NodeConnection? ConnectionTo(string apiAddress)
    {
        if (_byApiAddress.TryGetValue(apiAddress, out NodeConnection? known))
        {
            return known;
        }

        return TryAddress(apiAddress, out Uri? address) ? _byApiAddress.GetOrAdd(apiAddress, Connection(address)) : null;
    }

    private static Uri Normalize(Uri seed)
    {
        ArgumentNullException.ThrowIfNull(seed);
        if (!seed.IsAbsoluteUri || (seed.Scheme != Uri.UriSchemeHttp && seed.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"seed '{seed}' is not an http:// or https:// address", nameof(seed));
        }

        return new Uri(NodeConnection.KeyOf(seed));
    }
}
