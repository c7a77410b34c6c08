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
