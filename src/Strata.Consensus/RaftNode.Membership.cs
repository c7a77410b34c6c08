namespace Strata.Consensus;

// Membership changes (joint consensus, learners) and leadership transfer (§3.10 of the thesis).
public sealed partial class RaftNode
{
    /// <summary>
    /// Asks the leader to hand leadership to <paramref name="target"/>: it brings the target up to date, stops
    /// accepting proposals and sends TimeoutNow. Abandoned after an election timeout. Forwarded on a follower.
    /// </summary>
    public ProposalOutcome TransferLeader(ulong target)
    {
        IsQuiesced = false;
        switch (Role)
        {
            case StateRole.Leader:
                HandleTransferLeader(target);
                return ProposalOutcome.Appended;
            case StateRole.Follower when Leader != 0:
                Send(new Message { Type = MessageType.TransferLeader, To = Leader, Index = target });
                return ProposalOutcome.Forwarded;
            default:
                return ProposalOutcome.DroppedNoLeader;
        }
    }

    private void HandleTransferLeader(ulong target)
    {
        if (target == Id || !_tracker.Progress.TryGetValue(target, out var pr) || pr.IsLearner)
        {
            return;
        }

        if (LeadTransferee == target)
        {
            return;
        }

        LeadTransferee = target;
        _electionElapsed = 0; // the transfer must complete within one election timeout
        if (pr.Match == _log.LastIndex)
        {
            SendTimeoutNow(target);
        }
        else
        {
            SendAppend(target);
        }
    }

    private void SendTimeoutNow(ulong to)
    {
        // The target will campaign with a vote request that voters grant even inside a lease, so our lease can no
        // longer be trusted in this term, even if the transfer is later abandoned.
        _leaseRevoked = true;
        Send(new Message { Type = MessageType.TimeoutNow, To = to });
    }

    /// <summary>Why the leader refuses a conf change entry now (null = acceptable).</summary>
    private string? ConfChangeRefusal(Entry entry)
    {
        if (_pendingConfIndex > _log.Applied)
        {
            return "a conf change is still being applied";
        }

        ConfChange cc;
        try
        {
            cc = ConfChange.Decode(entry.Data.Span);
        }
        catch (FormatException e)
        {
            return e.Message;
        }

        return _tracker.TryApply(cc, _log.LastIndex + 1, dryRun: true);
    }

    /// <summary>Applies a committed conf change entry (called from Advance, in log order).</summary>
    private void ApplyConfChange(Entry entry)
    {
        ConfChange cc;
        try
        {
            cc = ConfChange.Decode(entry.Data.Span);
        }
        catch (FormatException)
        {
            return; // every replica skips the same malformed entry
        }

        if (_tracker.TryApply(cc, _log.LastIndex + 1) is not null)
        {
            return; // refused deterministically on every replica (the leader filters these before proposing)
        }

        if (Role != StateRole.Leader)
        {
            return;
        }

        if (!_tracker.Config.IsVoter(Id))
        {
            // Removed or demoted: step down (without a new term); the remaining voters elect a leader.
            BecomeFollower(Term, 0);
            return;
        }

        if (LeadTransferee != 0 && !_tracker.Config.IsVoter(LeadTransferee))
        {
            LeadTransferee = 0;
        }

        // The quorum changed: something may now be committed, and new members should be probed right away.
        if (MaybeCommit())
        {
            BroadcastAppend();
        }
        else
        {
            foreach (var id in _tracker.Ids)
            {
                if (id != Id)
                {
                    MaybeSendAppend(id, sendIfEmpty: false);
                }
            }
        }
    }
}
