namespace Strata.Cluster;

/// <summary>
/// The rule by which leadership of namespace shards is balanced (the meta shard is not counted): a node that leads
/// <c>n ≥ 2</c> shards hands one to a voter of that shard that leads <c>n − 2</c> or fewer and has every committed
/// entry, so each transfer shrinks the imbalance. A cluster in which no leader has such a voter is settled: no
/// transfer will start until a failover or a membership change unsettles it.
/// </summary>
/// <remarks>One rule for the node that transfers (<c>ClusterNode.Leadership.cs</c>) and for tools that wait until
/// the transfers are over (the bench measures a settled cluster). Pure; safe from any thread.</remarks>
public static class LeadershipBalance
{
    /// <summary>
    /// The voter <paramref name="leader"/> should hand one of its shards to: among <paramref name="voters"/> of that
    /// shard other than itself, a caught-up one (<paramref name="caughtUp"/>) leading at least two fewer shards
    /// than the leader (by <paramref name="led"/>, namespace shards led per active node), the one leading fewest,
    /// then the lowest id. 0 when there is none: the leader is absent from <paramref name="led"/> (not active),
    /// leads fewer than two, or no voter qualifies (voters missing from <paramref name="led"/> are not active).
    /// </summary>
    public static ulong TransferTarget(ulong leader, IEnumerable<ulong> voters, IReadOnlyDictionary<ulong, int> led, Func<ulong, bool> caughtUp)
    {
        ArgumentNullException.ThrowIfNull(voters);
        ArgumentNullException.ThrowIfNull(led);
        ArgumentNullException.ThrowIfNull(caughtUp);
        if (!led.TryGetValue(leader, out int mine) || mine < 2)
        {
            return 0;
        }

        ulong target = 0;
        int fewest = int.MaxValue;
        foreach (ulong voter in voters)
        {
            if (voter == leader || !led.TryGetValue(voter, out int theirs) || theirs + 2 > mine || !caughtUp(voter))
            {
                continue;
            }

            if (theirs < fewest || (theirs == fewest && voter < target))
            {
                (target, fewest) = (voter, theirs);
            }
        }

        return target;
    }
}
