using Strata.Consensus;
using Strata.Replication;

namespace Strata.Cluster;

// Leadership balance: failovers and joins leave leadership where it landed (a node that restarts leads nothing, a
// grown single node leads everything). Each node looks at the leaders it knows — one per shard it hosts — and hands
// one of its shards on by the rule of LeadershipBalance, at most one transfer per two election timeouts.
public sealed partial class ClusterNode
{
    private long _nextLeaderBalanceAt;

    /// <summary>Transfers leadership of at most one shard this node leads to a less loaded voter (loop thread only).</summary>
    private void BalanceLeadership(ShardMap map, long now)
    {
        if (now < _nextLeaderBalanceAt)
        {
            return;
        }

        _nextLeaderBalanceAt = now + (StopwatchTicks(Options.TickInterval) * Options.ElectionTicks * 2);
        var led = new Dictionary<ulong, int>();
        foreach (Meta.NodeRecord node in map.ActiveNodes)
        {
            led[node.Id] = 0;
        }

        foreach (Replica replica in _store.Replicas)
        {
            if (replica.GroupId != MetaShard.Id && replica.Leader != 0 && led.TryGetValue(replica.Leader, out int count))
            {
                led[replica.Leader] = count + 1;
            }
        }

        foreach (Replica replica in _store.Replicas)
        {
            if (replica.GroupId == MetaShard.Id || replica.Role != StateRole.Leader || replica.HasPendingConfChange
                || replica.ConfState.IsJoint)
            {
                continue;
            }

            ulong target = LeadershipBalance.TransferTarget(NodeId, replica.ConfState.Voters, led, v => (replica.MatchOf(v) ?? 0) >= replica.Committed);
            if (target != 0)
            {
                _store.TransferLeader(replica.GroupId, target);
                Interlocked.Increment(ref _leadershipTransfers);
                return;
            }
        }
    }

    /// <summary>Leadership transfers this node started to balance leadership.</summary>
    public long LeadershipTransfers => Interlocked.Read(ref _leadershipTransfers);

    private long _leadershipTransfers;
}
