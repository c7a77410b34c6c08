namespace Strata.Consensus;

// Terms, roles, elections (§5.2), pre-vote (§9.6 of the thesis) and check-quorum (§6.2).
public sealed partial class RaftNode
{
    private bool Promotable => _tracker.Config.IsVoter(Id) && _log.UnstableSnapshot is null;

    private void TickElection()
    {
        _electionElapsed++;
        if (Promotable && _electionElapsed >= _randomizedElectionTimeout)
        {
            _electionElapsed = 0;
            Hup(transfer: false);
        }
    }

    private void TickHeartbeat()
    {
        _heartbeatElapsed++;
        _electionElapsed++;
        if (_electionElapsed >= _config.ElectionTick)
        {
            _electionElapsed = 0;
            if (_config.CheckQuorum)
            {
                if (!_tracker.QuorumActive(Id))
                {
                    BecomeFollower(Term, 0);
                    return;
                }

                foreach (var (id, pr) in _tracker.Progress)
                {
                    pr.RecentActive = id == Id;
                }
            }

            if (LeadTransferee != 0)
            {
                LeadTransferee = 0; // the transfer did not finish within an election timeout
            }
        }

        if (_heartbeatElapsed >= _config.HeartbeatTick)
        {
            _heartbeatElapsed = 0;
            BroadcastHeartbeat(_readOnly.LastContext);
        }
    }

    private void Hup(bool transfer)
    {
        if (Role == StateRole.Leader || !Promotable || HasUnappliedConfChanges())
        {
            return;
        }

        if (_config.PreVote && !transfer)
        {
            StartCampaign(preVote: true, transfer: false);
        }
        else
        {
            StartCampaign(preVote: false, transfer);
        }
    }

    private bool HasUnappliedConfChanges()
    {
        if (_log.Committed <= _log.Applied)
        {
            return false;
        }

        var pending = _log.Slice(Math.Max(_log.Applied + 1, _log.FirstIndex), _log.Committed + 1, ulong.MaxValue) ?? [];
        return pending.Exists(e => e.Type == EntryType.ConfChange);
    }

    private void StartCampaign(bool preVote, bool transfer)
    {
        ulong voteTerm;
        MessageType type;
        if (preVote)
        {
            BecomePreCandidate();
            type = MessageType.PreVote;
            voteTerm = Term + 1; // the term we would campaign in; our own term does not change yet
        }
        else
        {
            BecomeCandidate();
            type = MessageType.Vote;
            voteTerm = Term;
        }

        if (Poll(Id, granted: true) == VoteResult.Won)
        {
            // A single-voter group wins at once.
            if (preVote)
            {
                StartCampaign(preVote: false, transfer);
            }
            else
            {
                BecomeLeader();
            }

            return;
        }

        var lastIndex = _log.LastIndex;
        var lastTerm = _log.LastTerm;
        foreach (var id in _tracker.Ids)
        {
            if (id == Id || !_tracker.Config.IsVoter(id))
            {
                continue;
            }

            Send(new Message
            {
                Type = type,
                To = id,
                Term = voteTerm,
                Index = lastIndex,
                LogTerm = lastTerm,
                Context = transfer ? TransferContext : default,
            });
        }
    }

    private VoteResult Poll(ulong id, bool granted)
    {
        _tracker.RecordVote(id, granted);
        return _tracker.TallyVotes();
    }

    private void Reset(ulong term)
    {
        if (Term != term)
        {
            Term = term;
            Vote = 0;
        }

        Leader = 0;
        _electionElapsed = 0;
        _heartbeatElapsed = 0;
        _randomizedElectionTimeout = _config.ElectionTick + _random.Next(_config.ElectionTick);
        LeadTransferee = 0;
        _tracker.ResetVotes();
        var next = _log.LastIndex + 1;
        foreach (var (id, pr) in _tracker.Progress)
        {
            pr.Match = 0;
            pr.Next = next;
            pr.State = ProgressState.Probe;
            pr.ProbeSent = false;
            pr.PendingSnapshot = 0;
            pr.RecentActive = false;
            pr.LeaseTickAcked = 0;
            pr.Inflights.Reset();
            if (id == Id)
            {
                pr.Match = _log.LastIndex;
            }
        }

        _pendingConfIndex = 0;
        _uncommittedSize = 0;
        _readOnly.Clear();
        _readsAwaitingTermCommit.Clear();
        _leaseRevoked = false;
    }

    private void BecomeFollower(ulong term, ulong leader)
    {
        Reset(term);
        Leader = leader;
        Role = StateRole.Follower;
    }

    private void BecomePreCandidate()
    {
        // Pre-candidates change neither term nor vote, so a failed pre-vote disturbs nobody.
        Role = StateRole.PreCandidate;
        _tracker.ResetVotes();
        Leader = 0;
    }

    private void BecomeCandidate()
    {
        Reset(Term + 1);
        Vote = Id;
        Role = StateRole.Candidate;
    }

    private void BecomeLeader()
    {
        Reset(Term);
        Leader = Id;
        Role = StateRole.Leader;
        _leaseFloorTick = _tick;
        if (_tracker.Progress.TryGetValue(Id, out var self))
        {
            self.BecomeReplicate();
            self.RecentActive = true;
        }

        // Conf changes in the uncommitted tail may be pending; do not propose another before they apply.
        _pendingConfIndex = _log.LastIndex;

        // An empty entry of the new term: committing it commits every earlier entry (§5.4.2, §8).
        AppendEntries([new Entry(0, 0, EntryType.Normal, default)]);
        BroadcastAppend();
    }

    private void HandleVoteRequest(Message m)
    {
        var responseType = m.Type == MessageType.Vote ? MessageType.VoteResponse : MessageType.PreVoteResponse;
        var canVote = Vote == m.From
            || (Vote == 0 && Leader == 0)
            || (m.Type == MessageType.PreVote && m.Term > Term);
        if (canVote && _log.IsUpToDate(m.Index, m.LogTerm))
        {
            // A pre-vote grant is answered in the prospective term so the pre-candidate can count it.
            Send(new Message { Type = responseType, To = m.From, Term = m.Term });
            if (m.Type == MessageType.Vote)
            {
                _electionElapsed = 0;
                Vote = m.From;
            }
        }
        else
        {
            Send(new Message { Type = responseType, To = m.From, Term = Term, Reject = true });
        }
    }

    private void StepMessage(Message m)
    {
        if (m.Term > Term && m.Type != MessageType.Propose && m.Type != MessageType.ReadIndex && m.Type != MessageType.TransferLeader)
        {
            if (m.Type is MessageType.Vote or MessageType.PreVote)
            {
                var force = m.Context.Span.SequenceEqual(TransferContext.Span);
                var inLease = _config.CheckQuorum
                    && (_config.ReadOnlyOption == ReadOnlyOption.LeaseBased
                        ? _ticksSinceLeaderContact < _config.ElectionTick
                        : Leader != 0 && _electionElapsed < _config.ElectionTick);
                if (!force && inLease)
                {
                    // We heard from a leader recently: refusing to vote keeps a flapping node from deposing a healthy
                    // leader. With leases, a freshly (re)started replica also refuses for an election timeout: it may
                    // have acknowledged a lease-granting heartbeat just before it crashed.
                    return;
                }
            }

            if (m.Type == MessageType.PreVote || (m.Type == MessageType.PreVoteResponse && !m.Reject))
            {
                // Pre-votes never change terms.
            }
            else if (m.Type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot)
            {
                BecomeFollower(m.Term, m.From);
            }
            else
            {
                BecomeFollower(m.Term, 0);
            }
        }
        else if (m.Term < Term && m.Term != 0)
        {
            if ((_config.CheckQuorum || _config.PreVote) && m.Type is MessageType.Heartbeat or MessageType.Append)
            {
                // A stale leader (e.g. healed from a partition) learns the new term and steps down.
                Send(new Message { Type = MessageType.AppendResponse, To = m.From });
            }
            else if (m.Type == MessageType.PreVote)
            {
                Send(new Message { Type = MessageType.PreVoteResponse, To = m.From, Reject = true });
            }

            return;
        }

        if (m.Type is MessageType.Vote or MessageType.PreVote)
        {
            HandleVoteRequest(m);
            return;
        }

        switch (Role)
        {
            case StateRole.Leader:
                StepLeader(m);
                break;
            case StateRole.Follower:
                StepFollower(m);
                break;
            default:
                StepCandidate(m);
                break;
        }
    }

    private void StepCandidate(Message m)
    {
        switch (m.Type)
        {
            case MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot:
                // A leader of our term exists: follow it (and count it as contact, which the lease relies on).
                BecomeFollower(m.Term, m.From);
                StepFollower(m);
                break;
            case MessageType.VoteResponse when Role == StateRole.Candidate:
            case MessageType.PreVoteResponse when Role == StateRole.PreCandidate:
                switch (Poll(m.From, !m.Reject))
                {
                    case VoteResult.Won when Role == StateRole.PreCandidate:
                        StartCampaign(preVote: false, transfer: false);
                        break;
                    case VoteResult.Won:
                        BecomeLeader();
                        break;
                    case VoteResult.Lost:
                        BecomeFollower(Term, 0);
                        break;
                }

                break;
        }
    }

    private void StepFollower(Message m)
    {
        switch (m.Type)
        {
            case MessageType.Propose or MessageType.TransferLeader:
                // Forwarded to us while we thought we led or before we learned the new leader: pass it on.
                if (Leader != 0 && !(m.Type == MessageType.Propose && _config.DisableProposalForwarding))
                {
                    Send(m with { To = Leader, From = Id });
                }

                break;
            case MessageType.Append:
                HeardFromLeader(m.From);
                HandleAppend(m);
                break;
            case MessageType.Heartbeat:
                HeardFromLeader(m.From);
                HandleHeartbeat(m);
                break;
            case MessageType.Snapshot:
                HeardFromLeader(m.From);
                HandleSnapshot(m);
                break;
            case MessageType.TimeoutNow:
                Hup(transfer: true);
                break;
            case MessageType.ReadIndexResponse:
                _readStates.Add(new ReadState(m.Index, m.Context));
                break;
        }
    }

    private void HeardFromLeader(ulong leader)
    {
        _electionElapsed = 0;
        _ticksSinceLeaderContact = 0;
        Leader = leader;
    }
}
