using Strata.Client;

namespace Strata.Cli.Chaos;

/// <summary>A read's way to the cluster: the client that sends it, and the node it goes to directly (null: the shard-aware route).</summary>
internal readonly record struct ReadRoute(StrataClient Client, ulong? Node);

/// <summary>
/// Chooses, for each read of a chaos workload, whether it goes through the client's shard-aware route (to the
/// shard's leader: its lease or ReadIndex) or straight to the client's home node (<see cref="ChaosReads"/>).
/// </summary>
/// <remarks>
/// <para><b>Why.</b> The shard-aware client follows the leader: after a fault it moves its calls to whichever node
/// leads, so reads hardly ever reach a follower, a node just restarted or continued, or one on the losing side of a
/// partition — the nodes most likely to answer from a stale state. A build whose followers answered reads from
/// their own state without ReadIndex (an experiment, docs/TESTING.md "Does the gate catch bugs?") passed runs of
/// leader-routed reads and failed the first run with home reads.</para>
/// <para><b>Home node.</b> Client c's home is the (c mod n)-th of the n nodes hosting a replica of the bucket's
/// shard when the cluster was last seen serving (the founding nodes until a membership change moves replicas), in
/// node id order; each client has its own direct connection to each home it used. A home that is killed or paused
/// keeps its clients: their reads wait out the call budget, or are answered by the node as soon as it is back,
/// which is the moment a restarted node must not answer from a stale state.</para>
/// <para><b>Concurrency.</b> <see cref="Route"/> is called by each client's own loop with its own index (one call at
/// a time per client), from any thread; <see cref="Dispose"/> after every client stopped.</para>
/// </remarks>
internal sealed class ReadRouter : IDisposable
{
    private readonly ChaosReads _mode;
    private readonly IReadOnlyList<StrataClient> _routed;
    private readonly Func<IReadOnlyList<(ulong Id, Uri Uri)>> _homes;
    private readonly Func<int, Uri, StrataClient> _connect;
    private readonly Random[] _coins;
    private readonly Lock _gate = new();
    private readonly Dictionary<(int Client, ulong Node), StrataClient> _direct = [];
    private bool _disposed;

    /// <param name="mode">Where reads go.</param>
    /// <param name="seed">The run's seed (the mixed mode's coins).</param>
    /// <param name="routed">Each client's shard-aware client, by client index.</param>
    /// <param name="homes">The nodes reads may go to directly, in the order homes are dealt (replicas of the bucket's shard, by id).</param>
    /// <param name="connect">Makes client c's direct client to a node's address.</param>
    public ReadRouter(ChaosReads mode, int seed, IReadOnlyList<StrataClient> routed, Func<IReadOnlyList<(ulong Id, Uri Uri)>> homes, Func<int, Uri, StrataClient> connect)
    {
        _mode = mode;
        _routed = routed;
        _homes = homes;
        _connect = connect;
        _coins = [.. Enumerable.Range(0, routed.Count).Select(c => new Random(unchecked((seed * 6_151) + c + 31_337)))];
    }

    /// <summary>The route of client <paramref name="client"/>'s next read.</summary>
    public ReadRoute Route(int client)
    {
        StrataClient routed = _routed[client];
        if (_mode == ChaosReads.Leader || (_mode == ChaosReads.Mixed && _coins[client].NextDouble() < 0.5))
        {
            return new ReadRoute(routed, null);
        }

        IReadOnlyList<(ulong Id, Uri Uri)> homes = _homes();
        if (homes.Count == 0)
        {
            return new ReadRoute(routed, null);
        }

        (ulong id, Uri uri) = homes[client % homes.Count];
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_direct.TryGetValue((client, id), out StrataClient? direct))
            {
                direct = _connect(client, uri);
                _direct.Add((client, id), direct);
            }

            return new ReadRoute(direct, id);
        }
    }

    /// <summary>Disposes the direct clients (not the routed ones: they belong to the caller).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (StrataClient direct in _direct.Values)
            {
                direct.Dispose();
            }

            _direct.Clear();
        }
    }
}
