using Strata.Consensus;

namespace Strata.Replication;

// The drive loop: receive, tick, persist (one fsync), send, apply, advance, quiesce.
public sealed partial class Store
{
    /// <summary>
    /// Runs one step of the drive loop (see the type's remarks). With <paramref name="tick"/> false, time does not
    /// advance: received messages and proposals are processed, nothing is ticked and no liveness beat is due.
    /// </summary>
    /// <exception cref="Storage.StorageFailureException">The step's write failed; the store is stopped.</exception>
    /// <exception cref="Storage.CorruptionException">A log record failed its checksum; the store is stopped.</exception>
    /// <remarks>Any exception stops the store: a replica may be half way through a Ready cycle.</remarks>
    public StepResult Step(bool tick = true)
    {
        EnsureRunning();
        try
        {
            return RunStep(tick);
        }
        catch
        {
            _stopped = true;
            throw;
        }
    }

    private StepResult RunStep(bool tick)
    {
        if (tick)
        {
            _tick++;
        }

        var delivered = Receive();
        if (tick)
        {
            DetectSuspectedPeers();
            for (var i = 0; i < _awake.Count; i++)
            {
                var replica = _awake[i];
                replica.Raft.Tick();
                replica.TicksDelivered++;
            }
        }

        // Collect every group's Ready and persist all of them with one fsync.
        _cycle.Clear();
        for (var i = 0; i < _awake.Count; i++)
        {
            var replica = _awake[i];
            if (replica.Raft.HasReady)
            {
                var ready = replica.Raft.Ready();
                replica.Pending = ready;
                _writer.StageReady(replica.Log, ready);
                _cycle.Add(replica);
            }
        }

        var persisted = _writer.StagedGroups;
        if (persisted > 0)
        {
            CrashPoints.Reach("log-before-fsync");
            FlushOrStop();
            CrashPoints.Reach("log-after-fsync");
        }

        // Durable: now the messages may promise it. Other nodes may learn the commit index from them (and apply and
        // acknowledge entries) before this node applies below, so hosts serving reads off the loop hear of it first.
        foreach (var replica in _cycle)
        {
            _stateMachine.CommitKnown(replica.GroupId, replica.Raft.Committed);
        }

        var messages = 0;
        foreach (var replica in _cycle)
        {
            foreach (var m in replica.Pending!.Messages)
            {
                Route(m);
                messages++;
            }
        }

        var frames = SendFrames(tick);

        var applied = 0;
        foreach (var replica in _cycle)
        {
            var ready = replica.Pending!;
            if (ready.Snapshot is { } snapshot)
            {
                CrashPoints.Reach("snapshot-install");
                _stateMachine.Restore(replica.GroupId, snapshot);
            }

            var entries = NotYetApplied(replica, ready);
            if (entries.Count > 0)
            {
                CrashPoints.Reach("apply-before");
                _stateMachine.Apply(replica.GroupId, entries);
                applied += entries.Count;
                CrashPoints.Reach("apply-after");
            }

            CollectReadStates(replica, ready);
            replica.Raft.Advance();
            replica.Pending = null;
            MaybeStageCompaction(replica);
        }

        QuiesceIdle();
        return new StepResult(delivered, _cycle.Count, persisted, messages, frames, applied, _awake.Count);
    }

    /// <summary>The committed entries of <paramref name="ready"/> the state machine does not have yet.</summary>
    private static IReadOnlyList<Entry> NotYetApplied(Replica replica, Ready ready)
    {
        var entries = ready.CommittedEntries;
        if (ready.Snapshot is { } snapshot && snapshot.Index > replica.AppliedByStateMachine)
        {
            replica.AppliedByStateMachine = snapshot.Index;
        }

        var skip = 0;
        while (skip < entries.Count && entries[skip].Index <= replica.AppliedByStateMachine)
        {
            skip++; // re-delivered after a restart so the core re-applies membership changes; the state machine has it
        }

        if (entries.Count > 0)
        {
            replica.AppliedByStateMachine = Math.Max(replica.AppliedByStateMachine, entries[^1].Index);
        }

        return skip == 0 ? entries : entries.Skip(skip).ToList();
    }

    /// <summary>Stages compaction (for the next batch) once enough applied entries follow the snapshot.</summary>
    private void MaybeStageCompaction(Replica replica)
    {
        var threshold = Options.CompactionThreshold;
        var applied = replica.Raft.Applied;
        var log = replica.Log;
        if (threshold == 0 || applied <= log.SnapshotMetadata.Index || applied - log.SnapshotMetadata.Index < threshold
            || applied > log.LastIndex || applied > log.HardState.Commit || log.InWriterBatch)
        {
            return;
        }

        var data = _stateMachine.TakeSnapshot(replica.GroupId);
        _writer.StageCompaction(log, applied, replica.Raft.ConfState, data.Span);
        Compactions++;
    }

    /// <summary>Log compactions staged so far.</summary>
    public long Compactions { get; private set; }
}

/// <summary>What one <see cref="Store.Step"/> did.</summary>
/// <param name="MessagesDelivered">Messages received and stepped into groups.</param>
/// <param name="ReadyGroups">Groups whose Ready was handled.</param>
/// <param name="GroupsPersisted">Groups written in the step's batch (0: no write, no fsync).</param>
/// <param name="MessagesSent">Raft messages routed to other nodes.</param>
/// <param name="FramesSent">Transport frames sent (one per destination node, liveness beats included; more only when the messages exceed <see cref="StoreOptions.MaxFrameBytes"/>).</param>
/// <param name="EntriesApplied">Committed entries applied.</param>
/// <param name="AwakeGroups">Groups still awake after the step.</param>
public readonly record struct StepResult(int MessagesDelivered, int ReadyGroups, int GroupsPersisted, int MessagesSent,
    int FramesSent, int EntriesApplied, int AwakeGroups);
