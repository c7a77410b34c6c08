using System.Collections.Immutable;
using Strata.Api;
using Strata.Api.V1;

namespace Strata.Client;

/// <summary>A node of the cluster as a <see cref="ClusterSnapshot"/> knows it.</summary>
/// <param name="Id">The node's id (never 0).</param>
/// <param name="ApiAddress">host:port of <c>strata.v1</c> on the node.</param>
/// <param name="RaftAddress">host:port of the node-to-node transport (empty when learned from a redirect).</param>
/// <param name="Suspected">The node that answered the map had not heard from this one recently.</param>
public sealed record ClusterNode(ulong Id, string ApiAddress, string RaftAddress, bool Suspected);

/// <summary>
/// A shard as a <see cref="ClusterSnapshot"/> knows it: the routing-key range [<see cref="Start"/>,
/// <see cref="End"/>) it owns (<see cref="End"/> 0 = to the end of the key space), the nodes holding its
/// replicas, and its leader as last known (0 = unknown).
/// </summary>
public sealed record ClusterShard(ulong Id, ulong Start, ulong End, ulong Generation, ImmutableArray<ulong> Replicas, ulong Leader)
{
    /// <summary>Whether the shard owns <paramref name="routingKey"/> (see <see cref="ShardRouting.Contains"/>).</summary>
    public bool Contains(ulong routingKey) => ShardRouting.Contains(Start, End, routingKey);
}

/// <summary>
/// An immutable picture of the cluster: the map one node answered (<c>strata.v1.Cluster/GetClusterMap</c>),
/// updated by the client with the leaders it has learned since from response trailers.
/// </summary>
/// <remarks>
/// Immutable and thread-safe. The client never changes a snapshot; it swaps in a new one, so a caller holding
/// a snapshot sees a consistent picture. Leaders are hints: a call routed by a stale snapshot still succeeds
/// (any replica serves, and a node without a replica names one that has), it only costs a hop.
/// </remarks>
public sealed class ClusterSnapshot
{
    internal ClusterSnapshot(string clusterId, ulong answeredBy, ImmutableArray<ClusterNode> nodes, ImmutableArray<ClusterShard> shards, DateTimeOffset fetchedAt, long fetchedTimestamp)
    {
        ClusterId = clusterId;
        AnsweredBy = answeredBy;
        Nodes = nodes;
        Shards = shards;
        FetchedAt = fetchedAt;
        FetchedTimestamp = fetchedTimestamp;
    }

    /// <summary>The cluster's id.</summary>
    public string ClusterId { get; }

    /// <summary>The node that answered the map (0 when the map was built by hand).</summary>
    public ulong AnsweredBy { get; }

    /// <summary>The nodes, in the order the answering node listed them.</summary>
    public ImmutableArray<ClusterNode> Nodes { get; }

    /// <summary>The shards in routing-key order (by <see cref="ClusterShard.Start"/>).</summary>
    public ImmutableArray<ClusterShard> Shards { get; }

    /// <summary>When the map was fetched (by the client's <see cref="StrataClientOptions.Time"/>).</summary>
    public DateTimeOffset FetchedAt { get; }

    /// <summary>When the map was fetched, as a timestamp of the client's clock (ages the map).</summary>
    internal long FetchedTimestamp { get; }

    /// <summary>The shard owning <paramref name="routingKey"/>; null when no shard covers it (a map without shards,
    /// before the cluster is bootstrapped, or a map with a gap).</summary>
    public ClusterShard? ShardFor(ulong routingKey)
    {
        // The last shard starting at or before the key is the only one that can hold it.
        int low = 0;
        int high = Shards.Length - 1;
        int found = -1;
        while (low <= high)
        {
            int middle = low + ((high - low) / 2);
            if (Shards[middle].Start <= routingKey)
            {
                found = middle;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return found >= 0 && Shards[found].Contains(routingKey) ? Shards[found] : null;
    }

    /// <summary>The shard owning <paramref name="bucket"/> (by <see cref="ShardRouting.RoutingKey(string)"/>).</summary>
    public ClusterShard? ShardFor(string bucket) => ShardFor(ShardRouting.RoutingKey(bucket));

    /// <summary>The node with id <paramref name="id"/>, or null.</summary>
    public ClusterNode? Node(ulong id)
    {
        foreach (ClusterNode node in Nodes)
        {
            if (node.Id == id)
            {
                return node;
            }
        }

        return null;
    }

    /// <summary>The shard with id <paramref name="id"/>, or null.</summary>
    public ClusterShard? Shard(ulong id)
    {
        foreach (ClusterShard shard in Shards)
        {
            if (shard.Id == id)
            {
                return shard;
            }
        }

        return null;
    }

    /// <summary>A snapshot of <paramref name="map"/> as fetched at <paramref name="fetchedAt"/>.</summary>
    public static ClusterSnapshot FromMap(ClusterMap map, DateTimeOffset fetchedAt) => FromMap(map, fetchedAt, 0);

    internal static ClusterSnapshot FromMap(ClusterMap map, DateTimeOffset fetchedAt, long fetchedTimestamp)
    {
        ArgumentNullException.ThrowIfNull(map);
        // Decommissioned nodes hold nothing and are usually gone: never a place to send a call.
        ImmutableArray<ClusterNode> nodes =
            [.. map.Nodes.Where(n => n.State != "decommissioned").Select(n => new ClusterNode(n.Id, n.ApiAddress, n.RaftAddress, n.Suspected))];
        ImmutableArray<ClusterShard> shards =
        [
            .. map.Shards
                .Select(s => new ClusterShard(s.ShardId, s.Start, s.End, s.Generation, [.. s.Replicas], s.Leader))
                .OrderBy(s => s.Start),
        ];
        return new ClusterSnapshot(map.ClusterId, map.AnsweredBy, nodes, shards, fetchedAt, fetchedTimestamp);
    }

    /// <summary>
    /// This snapshot fetched anew, keeping what <paramref name="previous"/> learned that the new map cannot say: a
    /// shard the answering node reports without a leader (it hosts no replica, or has not heard from one) keeps
    /// the leader learned before, if the shard is the same (id and generation) and the leader still a replica.
    /// </summary>
    internal ClusterSnapshot KeepingLeadersOf(ClusterSnapshot? previous)
    {
        if (previous is null)
        {
            return this;
        }

        bool changed = false;
        ImmutableArray<ClusterShard>.Builder shards = ImmutableArray.CreateBuilder<ClusterShard>(Shards.Length);
        foreach (ClusterShard shard in Shards)
        {
            ClusterShard kept = shard;
            if (shard.Leader == 0 && previous.Shard(shard.Id) is { Leader: not 0 } before &&
                before.Generation == shard.Generation && shard.Replicas.Contains(before.Leader))
            {
                kept = shard with { Leader = before.Leader };
                changed = true;
            }

            shards.Add(kept);
        }

        return changed ? new ClusterSnapshot(ClusterId, AnsweredBy, Nodes, shards.MoveToImmutable(), FetchedAt, FetchedTimestamp) : this;
    }

    /// <summary>This snapshot with <paramref name="leader"/> as the leader of shard <paramref name="shardId"/>.</summary>
    internal ClusterSnapshot WithLeader(ulong shardId, ulong leader)
    {
        ImmutableArray<ClusterShard> shards = [.. Shards.Select(s => s.Id == shardId ? s with { Leader = leader } : s)];
        return new ClusterSnapshot(ClusterId, AnsweredBy, Nodes, shards, FetchedAt, FetchedTimestamp);
    }

    /// <summary>This snapshot knowing one more node (learned from a redirect), or itself if it knows the id.</summary>
    internal ClusterSnapshot WithNode(ulong id, string apiAddress)
    {
        if (Node(id) is not null)
        {
            return this;
        }

        return new ClusterSnapshot(ClusterId, AnsweredBy, Nodes.Add(new ClusterNode(id, apiAddress, "", Suspected: false)), Shards, FetchedAt, FetchedTimestamp);
    }
}
