using Strata.Consensus;
using Strata.Storage;

namespace Strata.Replication;

/// <summary>
/// Group commit for the Raft logs of every group on a node: collects each group's persistence duties from its
/// <see cref="Ready"/> (snapshot, entries with the conflicting suffix truncated, hard state) into ONE engine batch and
/// writes it with ONE fsync (<see cref="Flush"/>). Only after the write returns are the groups' in-memory views updated
/// — and only then may the caller send the Ready's messages.
/// </summary>
/// <remarks>
/// <para><b>Caller's duties, per cycle:</b> stage every group (<see cref="StageReady"/>, <see cref="StageCompaction"/>),
/// <see cref="Flush"/>, then send messages, apply, and call <see cref="RaftNode.Advance"/>.</para>
/// <para><b>Failure:</b> when the engine cannot make the batch durable it throws <see cref="StorageFailureException"/>.
/// The writer then refuses every further call (<see cref="IsFailed"/>): an fsync is never retried, because after a failed
/// fsync the kernel may have dropped the dirty pages and a "successful" retry would lie. The node must stop; on restart
/// <see cref="DurableRaftLog.Open"/> recovers what was durable.</para>
/// <para><b>Concurrency:</b> not thread-safe; one drive loop owns it.</para>
/// </remarks>
public sealed class RaftLogWriter : IDisposable
{
    private readonly IKvWriteBatch _batch;
    private readonly List<DurableRaftLog> _stagedLogs = [];
    private readonly WireBuffer _scratch = new(512);

    private readonly TimeProvider _time;

    /// <summary>A writer over the node's engine; <paramref name="time"/> times the writes for the metrics.</summary>
    public RaftLogWriter(IKvEngine engine, TimeProvider? time = null)
    {
        Engine = engine ?? throw new ArgumentNullException(nameof(engine));
        _time = time ?? TimeProvider.System;
        _batch = engine.CreateBatch();
    }

    /// <summary>The node's engine.</summary>
    public IKvEngine Engine { get; }

    /// <summary>True once a write failed: the node must stop.</summary>
    public bool IsFailed { get; private set; }

    /// <summary>Number of groups with changes staged for the next <see cref="Flush"/>.</summary>
    public int StagedGroups => _stagedLogs.Count;

    /// <summary>Number of batches written.</summary>
    public long Flushes { get; private set; }

    /// <summary>Number of batches written with an fsync (the others carried only changes that need none).</summary>
    public long SyncedFlushes { get; private set; }

    // Whether the staged batch must be fsynced: new entries, a new term or vote, a snapshot, a compaction, a group's
    // creation. A batch that only moves commit indexes need not be (etcd's MustSync rule): losing it in a crash
    // loses nothing a message promised, and the engine's write-ahead log keeps writes in order, so a later synced
    // write (or a later write that survived) implies it survived too.
    private bool _syncNeeded;

    /// <summary>Stages the persistence part of <paramref name="ready"/>: snapshot, then entries, then hard state.</summary>
    public void StageReady(DurableRaftLog log, Ready ready)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(ready);
        EnsureUsable();
        if (ready.Snapshot is null && ready.Entries.Count == 0 && ready.HardState is null)
        {
            return;
        }

        Track(log, ready.MustSync || ready.Snapshot is not null || ready.Entries.Count > 0);
        if (ready.Snapshot is { } snapshot)
        {
            log.StageSnapshot(_batch, snapshot);
        }

        log.StageEntries(_batch, ready.Entries, _scratch);
        if (ready.HardState is { } hardState)
        {
            log.StageHardState(hardState);
        }
    }

    /// <summary>Stages entries alone (truncating a conflicting suffix).</summary>
    public void StageEntries(DurableRaftLog log, IReadOnlyList<Entry> entries)
    {
        ArgumentNullException.ThrowIfNull(log);
        EnsureUsable();
        Track(log);
        log.StageEntries(_batch, entries, _scratch);
    }

    /// <summary>Stages a hard state alone.</summary>
    public void StageHardState(DurableRaftLog log, HardState hardState)
    {
        ArgumentNullException.ThrowIfNull(log);
        EnsureUsable();
        Track(log);
        log.StageHardState(hardState);
    }

    /// <summary>Stages the installation of a snapshot that replaces the whole log.</summary>
    public void StageSnapshot(DurableRaftLog log, Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(snapshot);
        EnsureUsable();
        Track(log);
        log.StageSnapshot(_batch, snapshot);
    }

    /// <summary>
    /// Stages log compaction of <paramref name="log"/>: stores a snapshot at <paramref name="index"/> (an applied
    /// index) with its membership and state machine data, and drops every entry up to it; the term of
    /// <paramref name="index"/> stays answerable. Stage it before the group's Ready in the same batch.
    /// </summary>
    public void StageCompaction(DurableRaftLog log, ulong index, ConfState confState, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(confState);
        EnsureUsable();
        log.StageCompaction(_batch, index, confState, data);
        Track(log);
    }

    /// <summary>
    /// Stages the deletion of <paramref name="log"/>'s group: its whole log range, after anything already staged for it
    /// (a write batch applies in order, so the range delete also covers those), plus whatever
    /// <paramref name="alsoDelete"/> adds to the same batch (the group's state). Synced with the next
    /// <see cref="Flush"/>; the log object must not be used afterwards.
    /// </summary>
    internal void StageDestroy(DurableRaftLog log, Action<IKvWriteBatch> alsoDelete)
    {
        EnsureUsable();
        if (_stagedLogs.Remove(log))
        {
            log.DiscardStaged();
            log.InWriterBatch = false;
        }

        var (lower, upper) = RaftLogKeys.GroupRange(log.GroupId);
        _batch.DeleteRange(KvColumn.RaftLog, lower, upper);
        alsoDelete(_batch);
        _syncNeeded = true;
        _destroysStaged++;
    }

    private int _destroysStaged;

    internal void StageCreate(DurableRaftLog log, ConfState? initialMembers)
    {
        EnsureUsable();
        Track(log);
        log.StageCreate(_batch, initialMembers);
    }

    /// <summary>
    /// Writes everything staged in one batch with one fsync, then publishes each group's changes to its view.
    /// Returns the number of groups written (0: nothing staged, nothing written).
    /// </summary>
    /// <exception cref="StorageFailureException">The write could not be made durable; the writer is now failed.</exception>
    public int Flush()
    {
        EnsureUsable();
        if (_stagedLogs.Count == 0 && _destroysStaged == 0)
        {
            return 0;
        }

        foreach (var log in _stagedLogs)
        {
            log.StageStateRecord(_batch, _scratch);
        }

        long started = _time.GetTimestamp();
        try
        {
            bool sync = _syncNeeded;
            Engine.Write(_batch, sync);
            if (sync)
            {
                SyncedFlushes++;
                ReplicationMetrics.FsyncDuration.Record(_time.GetElapsedTime(started).TotalMilliseconds);
                ReplicationMetrics.GroupsPerFsync.Record(_stagedLogs.Count);
            }
        }
        catch (Exception)
        {
            IsFailed = true;
            foreach (var log in _stagedLogs)
            {
                log.DiscardStaged();
                log.InWriterBatch = false;
            }

            _stagedLogs.Clear();
            throw;
        }

        _batch.Clear();
        _syncNeeded = false;
        _destroysStaged = 0;
        var groups = _stagedLogs.Count;
        foreach (var log in _stagedLogs)
        {
            log.Publish();
            log.InWriterBatch = false;
        }

        _stagedLogs.Clear();
        Flushes++;
        return groups;
    }

    /// <inheritdoc/>
    public void Dispose() => _batch.Dispose();

    private void Track(DurableRaftLog log, bool mustSync = true)
    {
        _syncNeeded |= mustSync;
        if (!log.InWriterBatch)
        {
            log.InWriterBatch = true;
            _stagedLogs.Add(log);
        }
    }

    private void EnsureUsable()
    {
        if (IsFailed)
        {
            throw new InvalidOperationException("the raft log writer stopped after a failed write; the node must restart");
        }
    }
}
