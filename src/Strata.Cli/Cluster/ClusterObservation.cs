using Grpc.Core;
using Grpc.Net.Client;
using Strata.Api;
using Strata.Api.V1;
using LeadershipBalance = Strata.Cluster.LeadershipBalance;
using NodeState = Strata.Cluster.Meta.NodeState;
using NodeStateText = Strata.Cluster.NodeStateText;
using ClusterApi = Strata.Api.V1.Cluster;

namespace Strata.Cli.Cluster;

/// <summary>What one node said when asked for its status: its replicas, or why it did not answer.</summary>
/// <param name="Node">The node as the cluster map lists it.</param>
/// <param name="Address">The <c>strata.v1</c> address it was asked at.</param>
/// <param name="Status">Its status; null when it did not answer.</param>
/// <param name="Error">Why it did not answer; null when it did.</param>
internal sealed record NodeObservation(NodeInfo Node, Uri Address, NodeStatus? Status, string? Error)
{
    public bool Answers => Status is not null;
}

/// <summary>
/// The cluster as seen at one moment: the map one node answered (<c>GetClusterMap</c>) and the status of every
/// node in it (<c>GetNodeStatus</c>, asked of each node in parallel). Leaders come from the replicas' own
/// reports (the replica saying <c>Leader</c> with the highest term), not from one node's view.
/// </summary>
/// <remarks>Immutable. Built by <see cref="ObserveAsync"/>; shared by <c>strata cluster status</c>,
/// <c>strata shards</c>, the cluster demo and <see cref="LocalCluster"/>.</remarks>
internal sealed class ClusterObservation
{
    public const string LeaderRole = "Leader";

    /// <summary>The meta shard's id in node status reports (<c>ReplicaInfo.shard_id</c>); it is not in the map's shards.</summary>
    public const ulong MetaShardId = 0;

    /// <summary>An observation of <paramref name="map"/> and what each node of it said (<see cref="ObserveAsync"/> builds them).</summary>
    public ClusterObservation(ClusterMap map, IReadOnlyList<NodeObservation> nodes)
    {
        Map = map;
        Nodes = nodes;
    }

    public ClusterMap Map { get; }

    public IReadOnlyList<NodeObservation> Nodes { get; }

    /// <summary>
    /// Asks <paramref name="address"/> for the map, then every node of the map for its status. Throws
    /// <see cref="RpcException"/> when <paramref name="address"/> does not answer; a node that does not answer its
    /// status is recorded as such.
    /// </summary>
    public static async Task<ClusterObservation> ObserveAsync(Uri address, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ClusterMap map;
        using (GrpcChannel channel = ProbeChannel.For(address))
        {
            map = await new ClusterApi.ClusterClient(channel)
                .GetClusterMapAsync(new GetClusterMapRequest(), deadline: DateTime.UtcNow.Add(timeout), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
        }

        // Decommissioned nodes hold nothing and are usually gone: listed, not asked.
        NodeObservation[] nodes = await Task.WhenAll(map.Nodes.Select(node => node.State == "decommissioned"
            ? Task.FromResult(new NodeObservation(node, new Uri($"{address.Scheme}://{node.ApiAddress}"), null, "decommissioned"))
            : AskStatusAsync(node, new Uri($"{address.Scheme}://{node.ApiAddress}"), timeout, cancellationToken))).ConfigureAwait(false);
        return new ClusterObservation(map, nodes);
    }

    /// <summary>The status of the node at <paramref name="address"/>; null when it does not answer in time.</summary>
    public static async Task<NodeStatus?> TryGetStatusAsync(Uri address, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using GrpcChannel channel = ProbeChannel.For(address);
        try
        {
            return await new ClusterApi.ClusterClient(channel)
                .GetNodeStatusAsync(new GetNodeStatusRequest(), deadline: DateTime.UtcNow.Add(timeout), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
        }
        catch (RpcException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>The shard holding <paramref name="bucket"/>'s namespace.</summary>
    public ShardInfo ShardOf(string bucket)
    {
        ulong key = ShardRouting.RoutingKey(bucket);
        return Map.Shards.FirstOrDefault(s => ShardRouting.Contains(s.Start, s.End, key))
            ?? throw new CommandFailedException($"the cluster map has no shard for bucket '{bucket}'");
    }

    /// <summary>The replica of <paramref name="shardId"/> on <paramref name="nodeId"/>, if that node answered and hosts one.</summary>
    public ReplicaInfo? Replica(ulong nodeId, ulong shardId) =>
        Nodes.FirstOrDefault(n => n.Node.Id == nodeId)?.Status?.Replicas.FirstOrDefault(r => r.ShardId == shardId);

    /// <summary>The node and replica that say they lead <paramref name="shardId"/> (highest term wins); null when none answered so.</summary>
    public (ulong Node, ReplicaInfo Replica)? Leader(ulong shardId) =>
        Nodes.Where(n => n.Status is not null)
            .SelectMany(n => n.Status!.Replicas.Where(r => r.ShardId == shardId && r.Role == LeaderRole).Select(r => (n.Node.Id, Replica: r)))
            .OrderByDescending(l => l.Replica.Term)
            .Select(l => ((ulong, ReplicaInfo)?)l)
            .FirstOrDefault();

    /// <summary>The shard ids of every replica any answering node reported, the meta shard (0) included.</summary>
    public IEnumerable<ulong> ReplicatedShards() =>
        Nodes.Where(n => n.Status is not null).SelectMany(n => n.Status!.Replicas.Select(r => r.ShardId)).Distinct().Order();

    /// <summary>The answering nodes that suspect <paramref name="nodeId"/> (have not heard from it recently).</summary>
    public IReadOnlyList<ulong> SuspectedBy(ulong nodeId)
    {
        var by = Nodes.Where(n => n.Status?.SuspectedPeers.Contains(nodeId) == true).Select(n => n.Node.Id).ToList();
        if (Map.Nodes.Any(n => n.Id == nodeId && n.Suspected) && !by.Contains(Map.AnsweredBy))
        {
            by.Add(Map.AnsweredBy);
        }

        by.Sort();
        return by;
    }

    /// <summary>
    /// Per follower of <paramref name="shardId"/>: the leader's commit index minus the highest index the leader
    /// knows the follower has (0 = caught up). Empty when no leader answered.
    /// </summary>
    public IReadOnlyDictionary<ulong, ulong> Lag(ulong shardId)
    {
        var lag = new SortedDictionary<ulong, ulong>();
        if (Leader(shardId) is { } leader)
        {
            foreach ((ulong follower, ulong match) in leader.Replica.FollowerMatch)
            {
                lag[follower] = leader.Replica.Committed > match ? leader.Replica.Committed - match : 0;
            }
        }

        return lag;
    }

    /// <summary>
    /// A leadership transfer the balancer still has to make (<see cref="LeadershipBalance"/>), as a sentence naming
    /// the shard, its leader and the voter it would go to; null when leadership is settled. Leaders are the replicas'
    /// own reports; a shard with no leader reported is not counted.
    /// </summary>
    public string? PendingLeadershipTransfer()
    {
        var led = Map.Nodes.Where(n => n.State == NodeStateText.Describe(NodeState.Active)).ToDictionary(n => n.Id, _ => 0);
        var leaders = Map.Shards.Select(s => (s.ShardId, Leader: Leader(s.ShardId)))
            .Where(s => s.Leader is not null).Select(s => (s.ShardId, Leader: s.Leader!.Value)).ToList();
        foreach ((_, (ulong node, _)) in leaders)
        {
            if (led.TryGetValue(node, out int count))
            {
                led[node] = count + 1;
            }
        }

        foreach ((ulong shard, (ulong node, ReplicaInfo replica)) in leaders)
        {
            ulong target = LeadershipBalance.TransferTarget(node, replica.Voters, led,
                voter => replica.FollowerMatch.TryGetValue(voter, out ulong match) && match >= replica.Committed);
            if (target != 0)
            {
                return $"node {node} leads {led[node]} shards and would hand shard {shard} to node {target}, which leads {led[target]}";
            }
        }

        return null;
    }

    /// <summary>The node holding <paramref name="shardId"/>'s read lease; 0 when no answering node holds it.</summary>
    public ulong Leaseholder(ulong shardId) =>
        Nodes.FirstOrDefault(n => n.Status?.Replicas.Any(r => r.ShardId == shardId && r.HoldsLease) == true)?.Node.Id ?? 0;

    private static async Task<NodeObservation> AskStatusAsync(NodeInfo node, Uri address, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using GrpcChannel channel = ProbeChannel.For(address);
        try
        {
            NodeStatus status = await new ClusterApi.ClusterClient(channel)
                .GetNodeStatusAsync(new GetNodeStatusRequest(), deadline: DateTime.UtcNow.Add(timeout), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            return new NodeObservation(node, address, status, null);
        }
        catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
        {
            string reason = e.StatusCode == StatusCode.Unavailable && e.Status.DebugException is { } debug ? debug.GetBaseException().Message : e.Status.Detail;
            return new NodeObservation(node, address, null, $"{e.StatusCode}: {reason}");
        }
    }

    /// <summary>A routing-key range in hex, as <c>[start, end)</c> with <c>end</c> shown as <c>max</c> when 0.</summary>
    public static string Range(ulong start, ulong end) =>
        $"[{start:x16}, {(end == 0 ? "max" : end.ToString("x16", System.Globalization.CultureInfo.InvariantCulture))})";
}
