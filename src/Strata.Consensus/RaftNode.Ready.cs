namespace Strata.Consensus;

// The Ready/Advance handshake with the host.
public sealed partial class RaftNode
{
    /// <summary>Whether there is something for the host to do (and no Ready is awaiting <see cref="Advance"/>).</summary>
    public bool HasReady =>
        _outstanding is null
        && (_messages.Count > 0
            || _log.HasUnstable
            || _log.UnstableSnapshot is not null
            || _log.HasNextCommittedEntries
            || _readStates.Count > 0
            || HardState != _prevHardState
            || SoftState != _prevSoftState);

    /// <summary>
    /// Takes the pending work as a <see cref="Consensus.Ready"/>. Only one Ready may be outstanding: call
    /// <see cref="Advance"/> before the next.
    /// </summary>
    public Ready Ready()
    {
        if (_outstanding is not null)
        {
            throw new InvalidOperationException("the previous Ready has not been advanced");
        }

        var hardState = HardState;
        var softState = SoftState;
        var entries = _log.HasUnstable ? _log.UnstableEntries() : [];
        var ready = new Ready
        {
            SoftState = softState != _prevSoftState ? softState : null,
            HardState = hardState != _prevHardState ? hardState : null,
            Entries = entries,
            Snapshot = _log.UnstableSnapshot,
            CommittedEntries = _log.HasNextCommittedEntries ? _log.NextCommittedEntries(_config.MaxCommittedSizePerReady) : [],
            Messages = _messages,
            ReadStates = _readStates,
            MustSync = entries.Length > 0 || hardState.Term != _prevHardState.Term || hardState.Vote != _prevHardState.Vote,
        };
        _messages = [];
        _readStates = _readStates.Count == 0 ? _readStates : [];
        _prevHardState = hardState;
        _prevSoftState = softState;
        _outstanding = ready;
        return ready;
    }

    /// <summary>
    /// Tells the node that the outstanding Ready was handled: its entries, hard state and snapshot are durable and its
    /// committed entries applied. Applies committed membership changes, and on a leader may propose leaving a joint
    /// configuration automatically.
    /// </summary>
    public void Advance()
    {
        var ready = _outstanding ?? throw new InvalidOperationException("no outstanding Ready");
        _outstanding = null;
        if (ready.Snapshot is { } snapshot)
        {
            _log.StableSnapshotTo(snapshot.Index);
            _log.SnapshotApplied(snapshot.Index);
        }

        if (ready.Entries.Count > 0)
        {
            var last = ready.Entries[^1];
            _log.StableTo(last.Index, last.Term);
        }

        if (ready.CommittedEntries.Count > 0)
        {
            var snapshotPending = _log.UnstableSnapshot;
            foreach (var e in ready.CommittedEntries)
            {
                if (Role == StateRole.Leader)
                {
                    _uncommittedSize = _uncommittedSize > (ulong)e.Data.Length ? _uncommittedSize - (ulong)e.Data.Length : 0;
                }

                // A snapshot restored since this Ready was taken already carries the membership up to its index.
                if (e.Type == EntryType.ConfChange && (snapshotPending is null || e.Index > snapshotPending.Index))
                {
                    ApplyConfChange(e);
                }
            }

            var lastApplied = ready.CommittedEntries[^1].Index;
            if (lastApplied > _log.Applied)
            {
                _log.AppliedTo(lastApplied);
            }
        }

        if (Role == StateRole.Leader && _tracker.Config.IsJoint && _tracker.Config.AutoLeave
            && _log.Applied >= _pendingConfIndex)
        {
            // The joint configuration is in effect: leave it (propose the empty conf change).
            AppendProposal([new Entry(0, 0, EntryType.ConfChange, ConfChange.LeaveJoint.Encode())]);
        }
    }
}
