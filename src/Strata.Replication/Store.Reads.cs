using Strata.Consensus;

namespace Strata.Replication;

// Linearizable reads: ReadIndex requests in, confirmed read states out; the lease is read off the replica.
public sealed partial class Store
{
    private readonly List<GroupReadState> _readStates = [];

    /// <summary>
    /// Asks <paramref name="groupId"/> for a read index on behalf of the request identified by
    /// <paramref name="context"/> (unique per request). On the leader it is confirmed by a heartbeat quorum (or at once
    /// under a valid lease with <see cref="ReadOnlyOption.LeaseBased"/>); on a follower it is forwarded to the leader
    /// (a follower read). The answer comes out of a later <see cref="Step"/> through <see cref="TakeReadStates"/>; serve
    /// the read once the replica's <see cref="Replica.Applied"/> reaches its index. An unanswered request (leader lost,
    /// message dropped) is never answered: the caller times it out and asks again.
    /// </summary>
    public ProposalOutcome ReadIndex(ulong groupId, ReadOnlyMemory<byte> context)
    {
        var replica = Get(groupId);
        var outcome = replica.Raft.ReadIndex(context);
        Wake(replica);
        return outcome;
    }

    /// <summary>The read states answered since the last call, in the order their groups produced them.</summary>
    public IReadOnlyList<GroupReadState> TakeReadStates()
    {
        if (_readStates.Count == 0)
        {
            return [];
        }

        var taken = _readStates.ToArray();
        _readStates.Clear();
        return taken;
    }

    private void CollectReadStates(Replica replica, Ready ready)
    {
        foreach (var state in ready.ReadStates)
        {
            _readStates.Add(new GroupReadState(replica.GroupId, state.Index, state.Context));
        }
    }
}

/// <summary>An answered ReadIndex request: reads of <paramref name="GroupId"/> for the request
/// <paramref name="Context"/> may be served once the replica has applied <paramref name="Index"/>.</summary>
public readonly record struct GroupReadState(ulong GroupId, ulong Index, ReadOnlyMemory<byte> Context);
