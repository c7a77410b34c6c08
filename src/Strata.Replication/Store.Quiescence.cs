using Strata.Consensus;

namespace Strata.Replication;

// Quiescence: idle groups stop ticking and heartbeating; node liveness decides when they must wake.
//
// A group quiesces when the core says it is idle (nothing to persist, send or apply; on a leader every follower has
// every entry), it has been awake for MinAwakeTicks (so its leader heartbeated long enough for every follower to learn
// the leader), on a leader every member not on a suspected node has said it knows the commit index, and, on a follower,
// the leader's node is not suspected. A leader may quiesce with a
// member on a suspected node (it has every entry, or the leader would not be idle): otherwise one dead node would keep
// every group it shares awake. Any proposal or message wakes a group — except the echoes a quiesced leader's
// last round leaves in flight (heartbeat responses and append acknowledgments that tell it nothing new), which are
// dropped so the leader does not wake itself forever. Quiesced followers do not time out, so the store watches peer
// nodes instead of groups: every frame from a node, even an empty liveness beat, proves it alive; a node silent for
// PeerTimeoutTicks is suspected, and the followers whose leader lives there wake up and, if the leader is really gone,
// elect another. When a suspected node is heard again, every group with a replica there wakes so its leader catches
// that replica up. The per-node cost is one small frame per LivenessIntervalTicks, whatever the number of groups.
public sealed partial class Store
{
    /// <summary>Messages to quiesced leaders dropped as carrying no news.</summary>
    public long SuppressedMessages { get; private set; }

    private void QuiesceIdle()
    {
        for (var i = _awake.Count - 1; i >= 0; i--)
        {
            var replica = _awake[i];
            if (CanQuiesce(replica) && replica.Raft.Quiesce())
            {
                RemoveAwake(replica);
            }
        }
    }

    private bool CanQuiesce(Replica replica)
    {
        var raft = replica.Raft;
        if (_tick - replica.WokenAtTick < (ulong)Options.MinAwakeTicks || replica.Log.InWriterBatch || !raft.IsIdle)
        {
            return false;
        }

        // A follower needs its leader's node alive (else it must be able to time out). A leader needs every member on a
        // node not suspected to know the commit index (a member holding every entry may not, if the message saying they
        // were committed was lost: a learner would then never apply them); a member on a suspected node learns it when
        // the group wakes because that node is heard from again.
        return raft.Role == StateRole.Leader ? raft.MembersKnowCommit(IsSuspected) : !IsSuspected(raft.Leader);
    }

    /// <summary>An echo of a quiesced leader's last round: safe to drop (Raft tolerates loss), and it must not wake it.</summary>
    private static bool CarriesNoNews(Replica replica, Message m)
    {
        var raft = replica.Raft;
        if (raft.Role != StateRole.Leader || m.Term != raft.Term)
        {
            return false;
        }

        // A response saying its sender knows less than the commit index (e.g. restarted and lost it) is news: the group
        // wakes and its heartbeats tell it again.
        return m.Commit >= raft.Committed && m.Type switch
        {
            MessageType.HeartbeatResponse => m.Context.IsEmpty,
            MessageType.AppendResponse => !m.Reject && raft.ProgressOf(m.From) is { } pr && m.Index <= pr.Match,
            _ => false,
        };
    }

    private void DetectSuspectedPeers()
    {
        foreach (var peer in _peerList)
        {
            if (!peer.Suspected && _tick - peer.LastHeard > (ulong)Options.PeerTimeoutTicks)
            {
                peer.Suspected = true;
                WakeGroupsWith(peer.Id, leadersOnly: true);
            }
        }
    }

    /// <summary>
    /// Wakes quiesced groups that involve <paramref name="nodeId"/>: with <paramref name="leadersOnly"/>, those whose
    /// leader is there (the node is suspected: they must be able to time out); otherwise every group with a replica
    /// there (the node is back: its replicas need heartbeats). Walks every group, but only on a liveness change.
    /// </summary>
    private void WakeGroupsWith(ulong nodeId, bool leadersOnly)
    {
        foreach (var replica in _replicas.Values)
        {
            if (replica.AwakeSlot >= 0)
            {
                continue;
            }

            var raft = replica.Raft;
            if (leadersOnly ? raft.Leader == nodeId : raft.Leader == nodeId || raft.ConfState.Contains(nodeId))
            {
                Wake(replica);
            }
        }
    }
}
