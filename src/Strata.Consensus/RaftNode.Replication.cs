namespace Strata.Consensus;

// Log replication (§5.3), the commit rule (§5.4.2), flow control, snapshots (§7).
public sealed partial class RaftNode
{
    private ProposalOutcome ProposeEntries(Entry[] entries)
    {
        switch (Role)
        {
            case StateRole.Leader:
                return AppendProposal(entries);
            case StateRole.Follower when Leader == 0:
                return ProposalOutcome.DroppedNoLeader;
            case StateRole.Follower when _config.DisableProposalForwarding:
                return ProposalOutcome.DroppedNotLeader;
            case StateRole.Follower:
                Send(new Message { Type = MessageType.Propose, To = Leader, Entries = entries });
                return ProposalOutcome.Forwarded;
            default:
                return ProposalOutcome.DroppedNoLeader;
        }
    }

    private ProposalOutcome AppendProposal(IReadOnlyList<Entry> proposed)
    {
        if (!_tracker.Progress.TryGetValue(Id, out var self) || self.IsLearner)
        {
            return ProposalOutcome.DroppedNotMember;
        }

        if (LeadTransferee != 0)
        {
            return ProposalOutcome.DroppedTransferring;
        }

        var entries = new Entry[proposed.Count];
        var outcome = ProposalOutcome.Appended;
        for (var i = 0; i < proposed.Count; i++)
        {
            entries[i] = proposed[i];
            if (proposed[i].Type == EntryType.ConfChange && ConfChangeRefusal(proposed[i]) is not null)
            {
                // Keep the slot (a forwarded batch stays in order) but turn the change into a no-op.
                entries[i] = new Entry(0, 0, EntryType.Normal, default);
                outcome = ProposalOutcome.DroppedConfChange;
            }
        }

        if (outcome != ProposalOutcome.Appended && entries.Length == 1)
        {
            return outcome;
        }

        ulong size = 0;
        foreach (var e in entries)
        {
            size += (ulong)e.Data.Length;
        }

        var limit = _config.MaxUncommittedEntriesSize;
        if (limit != 0 && size > 0 && _uncommittedSize > 0 && _uncommittedSize + size > limit)
        {
            return ProposalOutcome.DroppedUncommittedLimit;
        }

        _uncommittedSize += size;
        var last = AppendEntries(entries);
        for (var i = 0; i < entries.Length; i++)
        {
            if (entries[i].Type == EntryType.ConfChange)
            {
                _pendingConfIndex = last - (ulong)(entries.Length - 1 - i);
            }
        }

        BroadcastAppend();
        return outcome;
    }

    /// <summary>Leader: stamps entries with index and term, appends them, counts its own copy.</summary>
    private ulong AppendEntries(Entry[] entries)
    {
        var index = _log.LastIndex;
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = entries[i] with { Index = ++index, Term = Term };
        }

        _log.Append(entries);
        // The leader's own copy counts toward the quorum at once: the Ready contract makes the host persist these
        // entries before sending the appends that carry them, so no follower can acknowledge them earlier.
        _tracker.Progress[Id].MaybeUpdate(index);
        MaybeCommit();
        return index;
    }

    private bool MaybeCommit()
    {
        var quorumIndex = _tracker.Committed();
        if (quorumIndex == ulong.MaxValue || !_log.MaybeCommit(quorumIndex, Term))
        {
            return false;
        }

        if (_readsAwaitingTermCommit.Count > 0 && CommittedInCurrentTerm)
        {
            var waiting = _readsAwaitingTermCommit.ToArray();
            _readsAwaitingTermCommit.Clear();
            foreach (var (from, context) in waiting)
            {
                ConfirmReadIndex(from, context);
            }
        }

        return true;
    }

    private bool CommittedInCurrentTerm => _log.TryTerm(_log.Committed, out var t) && t == Term;

    private void BroadcastAppend()
    {
        foreach (var id in _tracker.Ids)
        {
            if (id != Id)
            {
                MaybeSendAppend(id, sendIfEmpty: true);
            }
        }
    }

    private void SendAppend(ulong to) => MaybeSendAppend(to, sendIfEmpty: true);

    /// <summary>Sends the next batch of entries to <paramref name="to"/> unless its progress is paused.</summary>
    private bool MaybeSendAppend(ulong to, bool sendIfEmpty)
    {
        var pr = _tracker.Progress[to];
        if (pr.IsPaused)
        {
            return false;
        }

        var prevIndex = pr.Next - 1;
        if (!_log.TryTerm(prevIndex, out var prevTerm))
        {
            return MaybeSendSnapshot(to, pr);
        }

        var entries = _log.Slice(pr.Next, _log.LastIndex + 1, _config.MaxSizePerMessage);
        if (entries is null)
        {
            return MaybeSendSnapshot(to, pr);
        }

        if (entries.Count == 0 && !sendIfEmpty)
        {
            return false;
        }

        ulong bytes = 0;
        foreach (var e in entries)
        {
            bytes += (ulong)e.Size;
        }

        _messages.Add(new Message
        {
            GroupId = _config.GroupId,
            Type = MessageType.Append,
            From = Id,
            To = to,
            Term = Term,
            Index = prevIndex,
            LogTerm = prevTerm,
            Entries = entries.Count == 0 ? [] : entries.ToArray(),
            Commit = _log.Committed,
        });
        pr.SentEntries(entries.Count, bytes, entries.Count == 0 ? prevIndex : entries[^1].Index);
        return true;
    }

    private bool MaybeSendSnapshot(ulong to, Progress pr)
    {
        if (!pr.RecentActive)
        {
            return false; // do not ship a snapshot to a replica that may be down
        }

        Snapshot snapshot;
        try
        {
            snapshot = _config.Storage.Snapshot();
        }
        catch (SnapshotTemporarilyUnavailableException)
        {
            return false;
        }

        if (snapshot.Index == 0 || snapshot.Index + 1 < pr.Next)
        {
            return false;
        }

        pr.BecomeSnapshot(snapshot.Index);
        Send(new Message { Type = MessageType.Snapshot, To = to, Snapshot = snapshot });
        return true;
    }

    private void BroadcastHeartbeat(ReadOnlyMemory<byte> context)
    {
        foreach (var id in _tracker.Ids)
        {
            if (id == Id)
            {
                continue;
            }

            var pr = _tracker.Progress[id];
            _messages.Add(new Message
            {
                GroupId = _config.GroupId,
                Type = MessageType.Heartbeat,
                From = Id,
                To = id,
                Term = Term,
                // Never tell a follower to commit past what it is known to hold.
                Commit = Math.Min(pr.Match, _log.Committed),
                Context = context,
                LeaseTick = _tick,
            });
        }
    }

    private void HandleAppend(Message m)
    {
        if (m.Index < _log.Committed)
        {
            Respond(m.From, _log.Committed);
            return;
        }

        if (_log.MaybeAppend(m.Index, m.LogTerm, m.Commit, m.Entries) is { } lastNew)
        {
            Respond(m.From, lastNew);
            return;
        }

        // Our log does not contain (m.Index, m.LogTerm). Hint the last index whose term is at most m.LogTerm so the
        // leader can skip a whole conflicting term in one round trip instead of one entry per round trip.
        var (hintIndex, hintTerm) = _log.FindConflictByTerm(Math.Min(m.Index, _log.LastIndex), m.LogTerm);
        _messages.Add(new Message
        {
            GroupId = _config.GroupId,
            Type = MessageType.AppendResponse,
            From = Id,
            To = m.From,
            Term = Term,
            Index = m.Index,
            Reject = true,
            RejectHint = hintIndex,
            LogTerm = hintTerm,
            Commit = _log.Committed,
        });
    }

    // Every response carries the responder's commit index, so the leader knows when every member has learned what is
    // committed (Progress.KnownCommit) and does not quiesce before (MembersKnowCommit).
    private void Respond(ulong to, ulong index) => _messages.Add(new Message
    {
        GroupId = _config.GroupId,
        Type = MessageType.AppendResponse,
        From = Id,
        To = to,
        Term = Term,
        Index = index,
        Commit = _log.Committed,
    });

    private void HandleHeartbeat(Message m)
    {
        _log.CommitTo(m.Commit);
        _messages.Add(new Message
        {
            GroupId = _config.GroupId,
            Type = MessageType.HeartbeatResponse,
            From = Id,
            To = m.From,
            Term = Term,
            Context = m.Context,
            LeaseTick = m.LeaseTick,
            Commit = _log.Committed,
        });
    }

    private void HandleSnapshot(Message m)
    {
        if (m.Snapshot is { } snapshot && Restore(snapshot))
        {
            Respond(m.From, _log.LastIndex);
        }
        else
        {
            Respond(m.From, _log.Committed);
        }
    }

    private bool Restore(Snapshot snapshot)
    {
        // A snapshot need not list us: a replica added after it was taken learns of its own addition from the entries
        // that follow it. Until then it is not a voter and cannot campaign.
        if (snapshot.Index <= _log.Committed)
        {
            return false;
        }

        if (_log.MatchTerm(snapshot.Index, snapshot.Term))
        {
            // We already have the snapshot's last entry: just fast-forward the commit index.
            _log.CommitTo(snapshot.Index);
            return false;
        }

        _log.Restore(snapshot);
        _tracker.Restore(snapshot.Metadata.ConfState, _log.LastIndex + 1);
        return true;
    }

    private void StepLeader(Message m)
    {
        switch (m.Type)
        {
            case MessageType.Propose:
                if (m.Entries.Count > 0)
                {
                    AppendProposal(m.Entries);
                }

                break;
            case MessageType.ReadIndex:
                if (_tracker.Progress.ContainsKey(m.From))
                {
                    HandleReadIndexRequest(m.From, m.Context);
                }

                break;
            case MessageType.TransferLeader:
                HandleTransferLeader(m.Index);
                break;
            case MessageType.AppendResponse:
                HandleAppendResponse(m);
                break;
            case MessageType.HeartbeatResponse:
                HandleHeartbeatResponse(m);
                break;
        }
    }

    private void HandleAppendResponse(Message m)
    {
        if (!_tracker.Progress.TryGetValue(m.From, out var pr))
        {
            return;
        }

        pr.RecentActive = true;
        pr.KnownCommit = m.Commit;
        if (m.Reject)
        {
            var probeFrom = m.RejectHint;
            if (m.LogTerm > 0)
            {
                // Skip every entry of ours whose term is above the follower's term at the hint.
                probeFrom = _log.FindConflictByTerm(m.RejectHint, m.LogTerm).Index;
            }

            if (pr.MaybeDecreaseTo(m.Index, probeFrom))
            {
                if (pr.State == ProgressState.Replicate)
                {
                    pr.BecomeProbe();
                }

                SendAppend(m.From);
            }

            return;
        }

        var wasPaused = pr.IsPaused;
        if (!pr.MaybeUpdate(m.Index))
        {
            return;
        }

        switch (pr.State)
        {
            case ProgressState.Probe:
                pr.BecomeReplicate();
                break;
            case ProgressState.Snapshot when pr.Match >= pr.PendingSnapshot:
                pr.BecomeProbe();
                pr.BecomeReplicate();
                break;
            case ProgressState.Replicate:
                pr.Inflights.FreeLessOrEqual(m.Index);
                break;
        }

        if (MaybeCommit())
        {
            BroadcastAppend();
        }
        else if (wasPaused)
        {
            SendAppend(m.From);
        }

        while (MaybeSendAppend(m.From, sendIfEmpty: false))
        {
        }

        if (m.From == LeadTransferee && pr.Match == _log.LastIndex)
        {
            SendTimeoutNow(m.From);
        }
    }

    private void HandleHeartbeatResponse(Message m)
    {
        if (!_tracker.Progress.TryGetValue(m.From, out var pr))
        {
            return;
        }

        pr.RecentActive = true;
        pr.ProbeSent = false;
        pr.KnownCommit = m.Commit; // the latest report, even if lower: a restarted replica may know less than it said
        if (m.LeaseTick > pr.LeaseTickAcked)
        {
            pr.LeaseTickAcked = m.LeaseTick;
        }

        if (pr.State == ProgressState.Replicate && pr.Inflights.Full)
        {
            // Acknowledgments may have been lost: open the window a little so replication cannot stall forever.
            pr.Inflights.FreeLessOrEqual(pr.Match);
            if (pr.Inflights.Full)
            {
                pr.Inflights.Reset();
            }
        }

        if (pr.Match < _log.LastIndex)
        {
            SendAppend(m.From);
        }

        if (!m.Context.IsEmpty)
        {
            AcknowledgeRead(m.From, m.Context);
        }
    }
}
