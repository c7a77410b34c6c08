namespace Strata.Consensus;

// Linearizable reads: ReadIndex confirmed by a heartbeat quorum, or by the leader's lease (§6.4 of the thesis).
public sealed partial class RaftNode
{
    /// <summary>
    /// Requests a read index for <paramref name="context"/> (a unique request id). The answer arrives as a
    /// <see cref="ReadState"/> in a later Ready: serve the read once the state machine has applied its index.
    /// On a follower the request is forwarded to the leader.
    /// </summary>
    public ProposalOutcome ReadIndex(ReadOnlyMemory<byte> context)
    {
        IsQuiesced = false;
        switch (Role)
        {
            case StateRole.Leader:
                HandleReadIndexRequest(Id, context);
                return ProposalOutcome.Appended;
            case StateRole.Follower when Leader != 0:
                Send(new Message { Type = MessageType.ReadIndex, To = Leader, Context = context });
                return ProposalOutcome.Forwarded;
            default:
                return ProposalOutcome.DroppedNoLeader;
        }
    }

    /// <summary>
    /// Whether this leader may serve reads from its state machine without a consensus round right now.
    /// </summary>
    /// <remarks>
    /// True only when: this node leads; check-quorum is on; an entry of its term is committed (so its commit index is
    /// current); it has not started a leadership transfer in this term; and a quorum acknowledged a heartbeat sent at
    /// local tick <c>s</c> with <c>Ticks &lt; s + ElectionTick - LeaseDriftMarginTicks</c>. Each acknowledging voter
    /// refuses to vote for <c>ElectionTick - 1</c> of its own ticks after receiving that heartbeat, so no other leader
    /// can be elected before the lease ends as long as clock rates differ by less than the margin allows.
    /// The host must serve the read only after applying up to <see cref="Committed"/>, and must deliver any ticks
    /// that elapsed during a pause before asking.
    /// </remarks>
    public bool HasValidLease => LeaseRemainingTicks > 0;

    /// <summary>
    /// How many more ticks of this node the lease of <see cref="HasValidLease"/> lasts (0 when there is none). A host
    /// that serves lease reads off its drive thread turns this into a deadline on its own monotonic clock, counting
    /// the tick in progress as already spent.
    /// </summary>
    public ulong LeaseRemainingTicks
    {
        get
        {
            if (Role != StateRole.Leader || !_config.CheckQuorum || _leaseRevoked || !CommittedInCurrentTerm)
            {
                return 0;
            }

            var start = LeaseStart();
            var end = start + (ulong)(_config.ElectionTick - _config.LeaseDriftMarginTicks);
            return start >= _leaseFloorTick && _tick < end ? end - _tick : 0;
        }
    }

    /// <summary>Send tick of the latest heartbeat acknowledged by a quorum (self counts as now).</summary>
    private ulong LeaseStart() =>
        _tracker.Config.QuorumValue(this, static (node, id) =>
            id == node.Id ? node._tick
            : node._tracker.Progress.TryGetValue(id, out var pr) ? pr.LeaseTickAcked : 0);

    private void HandleReadIndexRequest(ulong from, ReadOnlyMemory<byte> context)
    {
        if (_tracker.Config.Incoming.Count == 1 && _tracker.Config.Incoming.Contains(Id) && !_tracker.Config.IsJoint)
        {
            AnswerRead(from, _log.Committed, context); // a single voter is its own quorum
            return;
        }

        if (!CommittedInCurrentTerm)
        {
            // Our commit index may lag the previous leader's until an entry of our term commits.
            _readsAwaitingTermCommit.Add((from, context));
            return;
        }

        ConfirmReadIndex(from, context);
    }

    private void ConfirmReadIndex(ulong from, ReadOnlyMemory<byte> context)
    {
        if (_config.ReadOnlyOption == ReadOnlyOption.LeaseBased && HasValidLease)
        {
            AnswerRead(from, _log.Committed, context);
            return;
        }

        if (_readOnly.Add(_log.Committed, from, context))
        {
            AcknowledgeRead(Id, context);
            BroadcastHeartbeat(context);
        }
    }

    private void AcknowledgeRead(ulong id, ReadOnlyMemory<byte> context)
    {
        var acks = _readOnly.Acknowledge(id, context);
        if (acks is null || _tracker.Config.Tally(v => acks.Contains(v) ? true : null) != VoteResult.Won)
        {
            return;
        }

        foreach (var read in _readOnly.Release(context))
        {
            AnswerRead(read.From, read.Index, read.Context);
        }
    }

    private void AnswerRead(ulong from, ulong index, ReadOnlyMemory<byte> context)
    {
        if (from == Id)
        {
            _readStates.Add(new ReadState(index, context));
        }
        else
        {
            Send(new Message { Type = MessageType.ReadIndexResponse, To = from, Index = index, Context = context });
        }
    }
}
