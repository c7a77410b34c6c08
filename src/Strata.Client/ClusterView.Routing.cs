using System.Globalization;
using Grpc.Core;
using Strata.Api;

namespace Strata.Client;

/// <summary>Where one attempt of a call goes: a node's connection, its id when known (0: a seed or an address
/// learned without an id), and the shard the call was routed for (null: not bucket-scoped, or no map).</summary>
internal readonly record struct RouteTarget(NodeConnection Connection, ulong NodeId, ulong? ShardId);

/// <summary>What a failed attempt means for routing.</summary>
internal enum RoutingVerdict
{
    /// <summary>Not a routing matter: the retry policy decides.</summary>
    Answer,

    /// <summary>The node named another that serves the shard: go there at once.</summary>
    Redirect,

    /// <summary>The node was not reached (a transport failure): suspect it, back off, try another replica.</summary>
    ConnectionFailure,

    /// <summary>The node answered UNAVAILABLE (no leader, outcome unknown, shutting down): back off, fetch a fresh
    /// map, and prefer another replica for the rest of the call.</summary>
    NodeUnavailable,

    /// <summary>The shard's leader itself answered UNAVAILABLE (e.g. outcome unknown): back off and retry there.</summary>
    LeaderUnavailable,
}

public sealed partial class ClusterView
{
    /// <summary>
    /// Chooses the node for the next attempt of a call. A bucket-scoped call (<paramref name="routingKey"/> set)
    /// goes to the leader of the owning shard, else to one of its replicas, else to any node; other calls go to
    /// any node. Nodes that failed earlier in this call (<paramref name="failedInCall"/>), then nodes suspected
    /// by this client or by the map, are passed over while a better one exists.
    /// </summary>
    internal async ValueTask<RouteTarget> RouteAsync(ulong? routingKey, IReadOnlySet<string>? failedInCall, CancellationToken cancellationToken)
    {
        ClusterSnapshot? map = await FreshSnapshotAsync(cancellationToken).ConfigureAwait(false);
        ClusterShard? shard = routingKey is ulong key ? map?.ShardFor(key) : null;
        var choice = new Choice(this, failedInCall, _time.GetTimestamp());
        if (map is not null)
        {
            if (shard is not null)
            {
                if (shard.Leader != 0 && map.Node(shard.Leader) is { } leader)
                {
                    choice.Consider(leader);
                }

                foreach (ulong replica in shard.Replicas)
                {
                    if (!choice.IsIdeal && map.Node(replica) is { } node)
                    {
                        choice.Consider(node);
                    }
                }
            }

            foreach (ClusterNode node in map.Nodes)
            {
                if (!choice.IsIdeal)
                {
                    choice.Consider(node);
                }
            }
        }

        if (map is null || map.Nodes.IsEmpty)
        {
            foreach (Uri seed in _seeds)
            {
                if (!choice.IsIdeal)
                {
                    choice.Consider(Connection(seed), 0, suspectedByMap: false);
                }
            }
        }

        return choice.Best is { } best
            ? new RouteTarget(best, choice.BestNodeId, shard?.Id)
            : new RouteTarget(Connection(_seeds[0]), 0, shard?.Id);
    }

    /// <summary>
    /// The best candidate so far, by tier: 0 fine, 1 suspected by the map's answering node, 2 suspected by this
    /// client, 3 already failed in this call. Candidates come in order of preference; the first of the best
    /// tier wins.
    /// </summary>
    private struct Choice(ClusterView view, IReadOnlySet<string>? failedInCall, long now)
    {
        private int _bestTier = int.MaxValue;

        public NodeConnection? Best { get; private set; }

        public ulong BestNodeId { get; private set; }

        public readonly bool IsIdeal => _bestTier == 0;

        public void Consider(ClusterNode node)
        {
            if (view.ConnectionTo(node.ApiAddress) is { } connection)
            {
                Consider(connection, node.Id, node.Suspected);
            }
        }

        public void Consider(NodeConnection connection, ulong nodeId, bool suspectedByMap)
        {
            int tier = failedInCall?.Contains(connection.Key) == true ? 3
                : view.IsSuspected(connection.Key, now) ? 2
                : suspectedByMap ? 1
                : 0;
            if (tier < _bestTier)
            {
                _bestTier = tier;
                Best = connection;
                BestNodeId = nodeId;
            }
        }
    }

    /// <summary>
    /// Learns from the trailers of a successful response: when <c>strata-leader</c> names a different leader of
    /// the shard (<c>strata-shard</c>, else the shard the call was routed for) than the cached map, later calls
    /// go to the named node.
    /// </summary>
    internal void LearnFrom(RouteTarget target, Metadata trailers)
    {
        ulong? shardId = ParseId(trailers.GetValue(StrataTrailers.Shard)) ?? target.ShardId;
        if (shardId is ulong shard && ParseId(trailers.GetValue(StrataTrailers.Leader)) is ulong leader && leader != 0)
        {
            LearnLeader(shard, leader);
        }
    }

    /// <summary>
    /// Classifies a failed attempt and updates what the client knows: a redirect names the next target, a
    /// connection failure suspects the node, and every UNAVAILABLE asks for a fresh map before the next routing.
    /// </summary>
    internal RoutingVerdict Judge(RouteTarget target, RpcException failure, out RouteTarget redirect)
    {
        redirect = default;
        if (failure.StatusCode == StatusCode.Unavailable)
        {
            Metadata trailers = failure.Trailers;
            ulong? shardId = ParseId(trailers.GetValue(StrataTrailers.Shard)) ?? target.ShardId;
            ulong? leader = ParseId(trailers.GetValue(StrataTrailers.Leader));
            string? leaderAddress = trailers.GetValue(StrataTrailers.LeaderAddress);
            MarkStale();
            if (RedirectTarget(target, leader, leaderAddress, shardId) is { } next)
            {
                redirect = next;
                return RoutingVerdict.Redirect;
            }

            // The transport reports a node it could not reach with a debug exception; a node's own UNAVAILABLE
            // (no leader, outcome unknown, shutting down) has none.
            if (StrataException.IsNetworkFailure(failure.Status.DebugException))
            {
                Suspect(target.Connection.Key);
                return RoutingVerdict.ConnectionFailure;
            }

            if (shardId is ulong known && leader is ulong named && named != 0)
            {
                LearnLeader(known, named);
                if (IsNode(target, named))
                {
                    return RoutingVerdict.LeaderUnavailable;
                }
            }

            return RoutingVerdict.NodeUnavailable;
        }

        // A stream torn mid-call surfaces as another status; the node was not (fully) reached either.
        if (StrataException.IsNetworkFailure(failure.Status.DebugException))
        {
            MarkStale();
            Suspect(target.Connection.Key);
            return RoutingVerdict.ConnectionFailure;
        }

        // No answer within the attempt's deadline: typically a leader cut off from its peers that cannot commit (or a
        // paused process). Its map entry is likely stale; the next attempt goes to another replica.
        if (failure.StatusCode == StatusCode.DeadlineExceeded)
        {
            MarkStale();
            return RoutingVerdict.NodeUnavailable;
        }

        return RoutingVerdict.Answer;
    }

    /// <summary>
    /// Where a refusal points, if elsewhere: the node named by <c>strata-leader-address</c> (a node without a
    /// replica names one that has), else the node <c>strata-leader</c> names if the map knows its address. Null
    /// when the refusal names no node, or names the node that refused (then it is a plain UNAVAILABLE). What the
    /// refusal teaches is kept: the named node joins the map if new, and becomes the shard's leader hint.
    /// </summary>
    private RouteTarget? RedirectTarget(RouteTarget target, ulong? leader, string? leaderAddress, ulong? shardId)
    {
        ulong nodeId = leader ?? 0;
        Uri? address = null;
        if (!string.IsNullOrEmpty(leaderAddress))
        {
            if (!TryAddress(leaderAddress, out address))
            {
                return null;
            }

            if (nodeId != 0)
            {
                Swap(map => map.WithNode(nodeId, leaderAddress));
            }
        }
        else if (nodeId != 0 && Current?.Node(nodeId) is { } known)
        {
            address = ConnectionTo(known.ApiAddress)?.Address;
        }

        if (address is null || NodeConnection.KeyOf(address) == target.Connection.Key)
        {
            return null;
        }

        if (nodeId != 0 && shardId is ulong shard)
        {
            LearnLeader(shard, nodeId);
        }

        return new RouteTarget(Connection(address), nodeId, shardId);
    }

    /// <summary>Whether <paramref name="target"/> is the node with id <paramref name="nodeId"/>.</summary>
    private bool IsNode(RouteTarget target, ulong nodeId) =>
        target.NodeId == nodeId ||
        (target.NodeId == 0 && Current?.Node(nodeId) is { } node && ConnectionTo(node.ApiAddress) == target.Connection);

    /// <summary>Counts a redirect the caller is about to follow.</summary>
    internal void CountRedirect() => Interlocked.Increment(ref _redirectsFollowed);

    private void LearnLeader(ulong shardId, ulong leader)
    {
        bool learned = false;
        Swap(map =>
        {
            learned = false;
            if (map.Shard(shardId) is not { } shard || shard.Leader == leader)
            {
                return map;
            }

            if (map.Node(leader) is null)
            {
                // A leader the map does not know cannot be routed to by id: fetch a map that knows it.
                MarkStale();
                return map;
            }

            learned = true;
            return map.WithLeader(shardId, leader);
        });
        if (learned)
        {
            Interlocked.Increment(ref _leadersLearned);
        }
    }

    /// <summary>Replaces the current snapshot by <paramref name="change"/> of it, atomically (no-op without a map).</summary>
    private void Swap(Func<ClusterSnapshot, ClusterSnapshot> change)
    {
        while (true)
        {
            ClusterSnapshot? current = Volatile.Read(ref _current);
            if (current is null)
            {
                return;
            }

            ClusterSnapshot next = change(current);
            if (ReferenceEquals(next, current) || ReferenceEquals(Interlocked.CompareExchange(ref _current, next, current), current))
            {
                return;
            }
        }
    }

    private void Suspect(string connectionKey)
    {
        Interlocked.Increment(ref _connectionFailures);
        long until = _time.GetTimestamp() + (long)(_routing.SuspicionPeriod.TotalSeconds * _time.TimestampFrequency);
        _suspectedUntil[connectionKey] = until;
    }

    private bool IsSuspected(string connectionKey, long now) =>
        _suspectedUntil.TryGetValue(connectionKey, out long until) && now < until;

    /// <summary>host:port as an address in the seeds' scheme; false for anything else (empty, a path, a scheme).</summary>
    private bool TryAddress(string apiAddress, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Uri? address)
    {
        if (apiAddress.Length > 0 &&
            Uri.TryCreate($"{_scheme}://{apiAddress}", UriKind.Absolute, out Uri? parsed) &&
            parsed.PathAndQuery == "/")
        {
            address = parsed;
            return true;
        }

        address = null;
        return false;
    }

    internal static bool IsConnectionFailure(RpcException failure) => StrataException.IsNetworkFailure(failure.Status.DebugException);

    private static ulong? ParseId(string? text) =>
        ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value) ? value : null;
}
