using Grpc.Core;
using Strata.Api.V1;
using Strata.Cluster;
using Strata.Cluster.Meta;

namespace Strata.Server;

/// <summary>
/// The gRPC service <c>strata.v1.Cluster</c>: the shard map and membership as this node has applied them (with the
/// leaders it knows), this node's replica status, and leadership transfer. See cluster.proto.
/// </summary>
/// <remarks>Stateless apart from the node; thread-safe.</remarks>
public sealed class ClusterService(ClusterNode node) : Api.V1.Cluster.ClusterBase
{
    public override Task<ClusterMap> GetClusterMap(GetClusterMapRequest request, ServerCallContext context)
    {
        ShardMap map = node.Map;
        var response = new ClusterMap { ClusterId = map.ClusterId, AnsweredBy = node.NodeId };
        IReadOnlyCollection<ulong> suspected = node.SuspectedPeers;
        response.ReplicationFactor = (uint)map.ReplicationFactor;
        foreach (NodeRecord member in map.IsBootstrapped ? map.Nodes : node.Options.Members)
        {
            response.Nodes.Add(InfoOf(member, suspected));
        }

        foreach (RangeDescriptor shard in map.Shards)
        {
            var info = new ShardInfo
            {
                ShardId = shard.ShardId,
                Start = shard.Start,
                End = shard.End,
                Generation = shard.Generation,
                Leader = node.LeaderOf(shard.ShardId),
            };
            info.Replicas.Add(shard.Replicas);
            if (map.MoveOf(shard.ShardId) is { } move)
            {
                info.Move = new ShardMove { FromNode = move.FromNode, ToNode = move.ToNode, Reason = move.Reason };
            }

            response.Shards.Add(info);
        }

        return Task.FromResult(response);
    }

    public override async Task<Api.V1.NodeStatus> GetNodeStatus(GetNodeStatusRequest request, ServerCallContext context)
    {
        Cluster.NodeStatus status;
        try
        {
            status = await node.StatusAsync(context.CancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (ApiErrors.TryTranslate(e, node.Map) is { } translated)
        {
            throw translated;
        }

        var response = new Api.V1.NodeStatus
        {
            NodeId = status.NodeId,
            LeaseReads = status.LeaseReads,
            ReadIndexReads = status.ReadIndexReads,
            Ticks = status.Ticks,
        };
        response.SuspectedPeers.Add(status.SuspectedPeers);
        foreach (ReplicaStatus replica in status.Replicas)
        {
            var info = new ReplicaInfo
            {
                ShardId = replica.ShardId,
                Role = replica.Role,
                Leader = replica.Leader,
                Term = replica.Term,
                Committed = replica.Committed,
                Applied = replica.Applied,
                HoldsLease = replica.HoldsLease,
                Quiesced = replica.Quiesced,
            };
            info.Voters.Add(replica.Voters);
            foreach ((ulong follower, ulong match) in replica.FollowerMatch)
            {
                info.FollowerMatch[follower] = match;
            }

            response.Replicas.Add(info);
        }

        return response;
    }

    public override async Task<TransferLeadershipResponse> TransferLeadership(TransferLeadershipRequest request, ServerCallContext context)
    {
        if (!node.HostedShards.Contains(request.ShardId))
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"node {node.NodeId} hosts no replica of shard {request.ShardId}; ask a node that does"));
        }

        if (node.Map.FindShard(request.ShardId) is { } shard && !shard.Replicas.Contains(request.TargetNode)
            || request.TargetNode == 0)
        {
            throw ApiErrors.InvalidArgument($"node {request.TargetNode} is not a replica of shard {request.ShardId}");
        }

        await node.TransferLeadershipAsync(request.ShardId, request.TargetNode, context.CancellationToken).ConfigureAwait(false);
        return new TransferLeadershipResponse();
    }

    public override async Task<JoinClusterResponse> JoinCluster(JoinClusterRequest request, ServerCallContext context)
    {
        ValidateAddress(request.ApiAddress, "api_address");
        ValidateAddress(request.RaftAddress, "raft_address");
        NodeRecord added;
        try
        {
            added = await node.AddNodeAsync(
                new NodeRecord { Id = request.NodeId, ApiAddress = request.ApiAddress, RaftAddress = request.RaftAddress },
                context.CancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException refused)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, refused.Message), refused.Message);
        }
        catch (Exception e) when (ApiErrors.TryTranslate(e, node.Map) is { } translated)
        {
            throw translated;
        }

        ShardMap map = node.Map;
        var response = new JoinClusterResponse { NodeId = added.Id, ClusterId = map.ClusterId };
        foreach (NodeRecord member in map.LiveNodes)
        {
            response.Nodes.Add(InfoOf(member, []));
        }

        return response;
    }

    public override async Task<DecommissionNodeResponse> DecommissionNode(DecommissionNodeRequest request, ServerCallContext context)
    {
        if (request.NodeId == 0)
        {
            throw ApiErrors.InvalidArgument("node_id must name a node (ids start at 1)");
        }

        try
        {
            NodeRecord draining = await node.DecommissionAsync(request.NodeId, context.CancellationToken).ConfigureAwait(false);
            return new DecommissionNodeResponse { Node = InfoOf(draining, node.SuspectedPeers) };
        }
        catch (ArgumentException refused)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, refused.Message), refused.Message);
        }
        catch (Exception e) when (ApiErrors.TryTranslate(e, node.Map) is { } translated)
        {
            throw translated;
        }
    }

    private static NodeInfo InfoOf(NodeRecord member, IReadOnlyCollection<ulong> suspected) => new()
    {
        Id = member.Id,
        ApiAddress = member.ApiAddress,
        RaftAddress = member.RaftAddress,
        Suspected = suspected.Contains(member.Id),
        State = member.State.Describe(),
    };

    /// <summary>A joining node's address must be host:port with a port in 1..65535 (it is dialed by every member).</summary>
    private static void ValidateAddress(string address, string field)
    {
        try
        {
            _ = Transport.PeerAddress.Parse(address);
        }
        catch (ArgumentException)
        {
            throw ApiErrors.InvalidArgument($"{field} must be host:port with a port in 1..65535, not '{address}'");
        }
    }
}
