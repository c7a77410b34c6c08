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
        foreach (NodeRecord member in map.IsBootstrapped ? map.Nodes : node.Options.Members)
        {
            response.Nodes.Add(new NodeInfo
            {
                Id = member.Id,
                ApiAddress = member.ApiAddress,
                RaftAddress = member.RaftAddress,
                Suspected = suspected.Contains(member.Id),
            });
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
}
