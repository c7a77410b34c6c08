using Strata.Api.V1;
using Strata.Cli.Cluster;

namespace Strata.Cli.Tests;

/// <summary>What an observation concludes from a map and the nodes' statuses, without a cluster.</summary>
public sealed class ClusterObservationTests
{
    [Fact]
    public void A_node_leading_two_more_than_a_caught_up_voter_has_a_transfer_pending()
    {
        ClusterObservation observation = Observe(leaders: [1, 1, 1, 2]);

        Assert.Equal("node 1 leads 3 shards and would hand shard 1 to node 3, which leads 0", observation.PendingLeadershipTransfer());
    }

    [Fact]
    public void Two_one_one_is_settled()
    {
        Assert.Null(Observe(leaders: [1, 2, 1, 3]).PendingLeadershipTransfer());
    }

    [Fact]
    public void A_transfer_waits_for_the_voter_to_catch_up_as_the_balancer_does()
    {
        // Node 1 leads all four; node 2 and node 3 lead none but neither has every committed entry.
        Assert.Null(Observe(leaders: [1, 1, 1, 1], lagging: [2, 3]).PendingLeadershipTransfer());
        Assert.Equal("node 1 leads 4 shards and would hand shard 1 to node 2, which leads 0",
            Observe(leaders: [1, 1, 1, 1], lagging: [3]).PendingLeadershipTransfer());
    }

    [Fact]
    public void Nodes_that_are_not_active_are_not_counted()
    {
        // Node 3 is being drained: it takes no leadership, so 3/1 over nodes 1 and 2 still has a transfer (to 2),
        // and 2/2 with node 3 idle is settled.
        Assert.Equal("node 1 leads 3 shards and would hand shard 1 to node 2, which leads 1",
            Observe(leaders: [1, 1, 1, 2], draining: 3).PendingLeadershipTransfer());
        Assert.Null(Observe(leaders: [1, 1, 2, 2], draining: 3).PendingLeadershipTransfer());
    }

    [Fact]
    public void A_deposed_leader_still_saying_leader_in_an_older_term_is_not_counted()
    {
        // Node 1 says it leads shard 3 in term 4; node 2 leads it in term 5. Leaders by highest term: 1, 1, 2, 3.
        ClusterObservation observation = Observe(leaders: [1, 1, 1, 3], also: (Node: 2, Shard: 3, Term: 5));

        Assert.Null(observation.PendingLeadershipTransfer());
        Assert.Equal(2UL, observation.Leader(3)!.Value.Node);
    }

    [Fact]
    public void A_move_not_done_says_what_every_node_has_of_the_meta_shard_and_the_moving_shard()
    {
        ClusterObservation observation = Observe(leaders: [1, 2, 1, 3]);
        observation.Map.Shards[1].Move = new ShardMove { FromNode = 2, ToNode = 3, Reason = "rebalancing" };
        foreach (NodeObservation node in observation.Nodes)
        {
            // Node 3 holds the meta entry that started the move but was never told it is committed.
            ulong commit = node.Node.Id == 3 ? 80UL : 81UL;
            node.Status!.Replicas.Add(new ReplicaInfo { ShardId = 0, Role = node.Node.Id == 1 ? ClusterObservation.LeaderRole : "Follower", Term = 4, Committed = commit, Applied = commit });
        }

        NodeStatus third = observation.Nodes[2].Status!;
        third.Replicas.Remove(third.Replicas.Single(r => r.ShardId == 2));

        string why = Strata.Cli.Chaos.FaultScheduler.Unsettled(observation)!;

        Assert.StartsWith("shard 2 is moving a replica from node 2 to node 3 (rebalancing); ", why, StringComparison.Ordinal);
        Assert.Contains("node 1: meta Leader c81/a81, shard 2 Follower c100/a0", why, StringComparison.Ordinal);
        Assert.Contains("node 3: meta Follower c80/a80, shard 2 none", why, StringComparison.Ordinal);
        Assert.EndsWith("leader node 2 has node 3 at index 100 of 100", why);

        observation.Map.Shards[1].Move.ToNode = 4; // a node the leader does not replicate to
        Assert.EndsWith("leader node 2 does not replicate to node 4", Strata.Cli.Chaos.FaultScheduler.Unsettled(observation));
    }

    /// <summary>
    /// Three nodes, four shards (ids 1–4) with a replica on every node, each led by <paramref name="leaders"/>[shard − 1]
    /// in term 4; every follower caught up except those in <paramref name="lagging"/>; <paramref name="draining"/> decommissioning.
    /// </summary>
    private static ClusterObservation Observe(ulong[] leaders, ulong[]? lagging = null, ulong draining = 0, (ulong Node, ulong Shard, ulong Term)? also = null)
    {
        ulong[] nodeIds = [1, 2, 3];
        var map = new ClusterMap { ClusterId = "observed", AnsweredBy = 1, ReplicationFactor = 3 };
        foreach (ulong id in nodeIds)
        {
            map.Nodes.Add(new NodeInfo { Id = id, ApiAddress = $"127.0.0.1:{7000 + id}", State = id == draining ? "decommissioning" : "active" });
        }

        for (ulong shard = 1; shard <= 4; shard++)
        {
            map.Shards.Add(new ShardInfo { ShardId = shard, Replicas = { nodeIds }, Leader = leaders[shard - 1] });
        }

        var statuses = nodeIds.ToDictionary(id => id, id => new NodeStatus { NodeId = id });
        for (ulong shard = 1; shard <= 4; shard++)
        {
            foreach (ulong id in nodeIds)
            {
                bool leads = leaders[shard - 1] == id;
                var replica = new ReplicaInfo { ShardId = shard, Role = leads ? ClusterObservation.LeaderRole : "Follower", Term = 4, Committed = 100, Voters = { nodeIds } };
                if (also is { } other && other.Node == id && other.Shard == shard)
                {
                    (replica.Role, replica.Term) = (ClusterObservation.LeaderRole, other.Term);
                    leads = true;
                }

                if (leads)
                {
                    foreach (ulong follower in nodeIds.Where(f => f != id))
                    {
                        replica.FollowerMatch[follower] = lagging?.Contains(follower) == true ? 90UL : 100UL;
                    }
                }

                statuses[id].Replicas.Add(replica);
            }
        }

        return new ClusterObservation(map, [.. map.Nodes.Select(n => new NodeObservation(n, new Uri($"http://{n.ApiAddress}"), statuses[n.Id], null))]);
    }
}
