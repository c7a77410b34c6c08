using Strata.Cluster.Meta;

namespace Strata.Cluster;

// The meta commands: every change to membership or the shard map, validated against the state it applies to. A refused
// command changes nothing and says why in its result; every replica refuses it the same way (the checks read only the
// replicated state).
internal sealed partial class MetaShard
{
    private static MetaResult Execute(MetaState state, MetaCommand command) => command.BodyCase switch
    {
        MetaCommand.BodyOneofCase.Bootstrap => Bootstrap(state, command.Bootstrap),
        MetaCommand.BodyOneofCase.AddNode => AddNode(state, command.AddNode.Node),
        MetaCommand.BodyOneofCase.DecommissionNode => Decommission(state, command.DecommissionNode.NodeId),
        MetaCommand.BodyOneofCase.StartMove => StartMove(state, command.StartMove.Move),
        MetaCommand.BodyOneofCase.FinishMove => FinishMove(state, command.FinishMove),
        MetaCommand.BodyOneofCase.FinishDecommission => FinishDecommission(state, command.FinishDecommission.NodeId),
        _ => Refused("the meta command has no operation"),
    };

    private static MetaResult Refused(string message) => new() { Message = message };

    private static MetaResult Bootstrap(MetaState state, Bootstrap bootstrap)
    {
        if (state.Shards.Count > 0)
        {
            bool same = state.ClusterId == bootstrap.ClusterId
                && state.Nodes.SequenceEqual(bootstrap.Nodes) && state.Shards.SequenceEqual(bootstrap.Shards);
            return same
                ? new MetaResult { Ok = true, Message = "already bootstrapped" }
                : Refused($"cluster {state.ClusterId} is already bootstrapped with another layout");
        }

        try
        {
            _ = new ShardMap(bootstrap.ClusterId, bootstrap.Nodes, bootstrap.Shards);
        }
        catch (ArgumentException invalid)
        {
            return Refused($"invalid bootstrap: {invalid.Message}");
        }

        state.ClusterId = bootstrap.ClusterId;
        state.Nodes.Add(bootstrap.Nodes);
        state.Shards.Add(bootstrap.Shards);
        state.ReplicationFactor = Math.Max(1, bootstrap.ReplicationFactor);
        return new MetaResult { Ok = true };
    }

    private static MetaResult AddNode(MetaState state, NodeRecord? node)
    {
        if (state.Shards.Count == 0)
        {
            return Refused("the cluster is not bootstrapped yet; retry");
        }

        if (node is null || string.IsNullOrEmpty(node.RaftAddress) || string.IsNullOrEmpty(node.ApiAddress))
        {
            return Refused("a joining node needs an api address and a raft address");
        }

        NodeRecord? sameAddress = state.Nodes.FirstOrDefault(n => n.RaftAddress == node.RaftAddress && n.State != NodeState.Decommissioned);
        if (sameAddress is not null)
        {
            // A retried join (the first attempt's answer was lost) gets the same record back.
            return node.Id == 0 || node.Id == sameAddress.Id
                ? new MetaResult { Ok = true, Message = "already a member", Node = sameAddress }
                : Refused($"raft address {node.RaftAddress} belongs to node {sameAddress.Id}, not {node.Id}");
        }

        if (node.Id != 0 && state.Nodes.Any(n => n.Id == node.Id))
        {
            return Refused($"node id {node.Id} is taken (ids of decommissioned nodes are never reused)");
        }

        var added = new NodeRecord
        {
            Id = node.Id != 0 ? node.Id : state.Nodes.Select(n => n.Id).DefaultIfEmpty(0UL).Max() + 1,
            ApiAddress = node.ApiAddress,
            RaftAddress = node.RaftAddress,
            State = NodeState.Active,
        };
        state.Nodes.Add(added);
        return new MetaResult { Ok = true, Node = added };
    }

    private static MetaResult Decommission(MetaState state, ulong nodeId)
    {
        NodeRecord? node = state.Nodes.FirstOrDefault(n => n.Id == nodeId);
        if (node is null)
        {
            return Refused($"node {nodeId} is not a member of the cluster");
        }

        if (node.State != NodeState.Active)
        {
            return new MetaResult { Ok = true, Message = $"node {nodeId} is already {node.State.Describe()}", Node = node };
        }

        if (state.Nodes.Count(n => n.State == NodeState.Active) <= 1)
        {
            return Refused($"node {nodeId} is the last active node; its replicas would have nowhere to go");
        }

        node.State = NodeState.Decommissioning;
        return new MetaResult { Ok = true, Node = node };
    }

    private static MetaResult StartMove(MetaState state, ReplicaMove? move)
    {
        if (move is null || (move.FromNode == 0 && move.ToNode == 0))
        {
            return Refused("a move names a replica to add or to remove");
        }

        RangeDescriptor? shard = state.Shards.FirstOrDefault(s => s.ShardId == move.ShardId);
        if (shard is null)
        {
            return Refused($"shard {move.ShardId} does not exist");
        }

        if (state.Moves.Any(m => m.ShardId == move.ShardId))
        {
            return Refused($"shard {move.ShardId} already has a move in progress");
        }

        if (shard.Generation != move.Generation)
        {
            return Refused($"shard {move.ShardId} is at generation {shard.Generation}, not {move.Generation}");
        }

        if (move.ToNode != 0 && (shard.Replicas.Contains(move.ToNode)
            || state.Nodes.FirstOrDefault(n => n.Id == move.ToNode)?.State != NodeState.Active))
        {
            return Refused($"node {move.ToNode} cannot take a replica of shard {move.ShardId} (not active, or already holds one)");
        }

        if (move.FromNode != 0 && !shard.Replicas.Contains(move.FromNode))
        {
            return Refused($"node {move.FromNode} holds no replica of shard {move.ShardId}");
        }

        if (move.ToNode == 0 && shard.Replicas.Count <= 1)
        {
            return Refused($"shard {move.ShardId} would be left without replicas");
        }

        state.Moves.Add(move);
        return new MetaResult { Ok = true };
    }

    private static MetaResult FinishMove(MetaState state, FinishMove finish)
    {
        ReplicaMove? move = state.Moves.FirstOrDefault(m => m.ShardId == finish.ShardId && m.Generation == finish.Generation);
        RangeDescriptor? shard = state.Shards.FirstOrDefault(s => s.ShardId == finish.ShardId);
        if (move is null || shard is null || shard.Generation != finish.Generation)
        {
            return Refused($"shard {finish.ShardId} has no move at generation {finish.Generation}");
        }

        if (finish.Replicas.Count == 0 || finish.Replicas.Distinct().Count() != finish.Replicas.Count
            || finish.Replicas.Any(r => state.Nodes.All(n => n.Id != r)))
        {
            return Refused($"shard {finish.ShardId}: the finished move names unknown or repeated replicas");
        }

        if ((move.ToNode != 0 && !finish.Replicas.Contains(move.ToNode)) || (move.FromNode != 0 && finish.Replicas.Contains(move.FromNode)))
        {
            return Refused($"shard {finish.ShardId}: the replicas {string.Join(",", finish.Replicas)} do not complete the move");
        }

        // Survivors keep their order (the first replica is the preferred leader), the added one goes last.
        var replicas = shard.Replicas.Where(finish.Replicas.Contains).ToList();
        replicas.AddRange(finish.Replicas.Where(r => !replicas.Contains(r)));
        shard.Replicas.Clear();
        shard.Replicas.Add(replicas);
        shard.Generation++;
        state.Moves.Remove(move);
        return new MetaResult { Ok = true };
    }

    private static MetaResult FinishDecommission(MetaState state, ulong nodeId)
    {
        NodeRecord? node = state.Nodes.FirstOrDefault(n => n.Id == nodeId);
        if (node is null || node.State != NodeState.Decommissioning)
        {
            return Refused($"node {nodeId} is not being decommissioned");
        }

        if (state.Shards.Any(s => s.Replicas.Contains(nodeId)) || state.Moves.Any(m => m.FromNode == nodeId || m.ToNode == nodeId))
        {
            return Refused($"node {nodeId} still holds replicas");
        }

        node.State = NodeState.Decommissioned;
        return new MetaResult { Ok = true, Node = node };
    }
}
