using Strata.Consensus;
using Strata.Storage;

namespace Strata.Replication;

// Staging writes into the node's batch (RaftLogWriter), then publishing them to the view once the batch is durable.
public sealed partial class DurableRaftLog
{
    private readonly List<StagedChange> _staged = [];
    private Projection _projected;

    /// <summary>True while changes are staged in an unwritten batch.</summary>
    internal bool IsStaged => _staged.Count > 0;

    /// <summary>Set by the writer while this log is part of its pending batch.</summary>
    internal bool InWriterBatch { get; set; }

    /// <summary>
    /// A new, empty log for <paramref name="groupId"/>, whose creation is staged in <paramref name="writer"/>'s batch
    /// (durable, and visible to reads, after the next <see cref="RaftLogWriter.Flush"/>).
    /// </summary>
    /// <param name="writer">The node's writer.</param>
    /// <param name="groupId">The group.</param>
    /// <param name="initialMembers">For a founding member: the group's first membership, stored as an empty snapshot at
    /// index 1, term 1 with hard state (term 1, commit 1), as <see cref="MemoryRaftLog"/> does, so a replica added later
    /// receives the founding membership with that snapshot. Null for a replica created to join an existing group.</param>
    /// <param name="maxCachedEntries">Recent entries kept in memory.</param>
    /// <exception cref="InvalidOperationException">The group already has a log on this node.</exception>
    public static DurableRaftLog Create(RaftLogWriter writer, ulong groupId, ConfState? initialMembers = null,
        int maxCachedEntries = DefaultMaxCachedEntries)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var log = new DurableRaftLog(writer.Engine, groupId, maxCachedEntries);
        if (writer.Engine.Get(KvColumn.RaftLog, log.StateKey) is not null)
        {
            throw new InvalidOperationException($"group {groupId} already has a log on this node");
        }

        writer.StageCreate(log, initialMembers);
        return log;
    }

    private enum ChangeKind : byte
    {
        InstallSnapshot,
        Compact,
        Append,
        SetHardState,
    }

    private readonly record struct StagedChange(ChangeKind Kind, SnapshotMetadata? Snapshot, IReadOnlyList<Entry>? Entries,
        int Skip, HardState HardState);

    /// <summary>The state the log will have once the staged changes are written.</summary>
    private record struct Projection(HardState HardState, ulong SnapshotIndex, ulong SnapshotTerm, ulong LastIndex, ulong LastTerm);

    private void BeginStaging()
    {
        if (_staged.Count == 0)
        {
            _projected = new Projection(_hardState, _snapshot.Index, _snapshot.Term, _lastIndex,
                _lastIndex == _snapshot.Index ? _snapshot.Term : Term(_lastIndex));
        }
    }

    /// <summary>Stages the bootstrap records of a new log.</summary>
    internal void StageCreate(IKvWriteBatch batch, ConfState? initialMembers)
    {
        BeginStaging();
        if (initialMembers is not null)
        {
            StageSnapshot(batch, new Snapshot(new SnapshotMetadata(1, 1, initialMembers), default));
            StageHardState(new HardState(1, 0, 1));
        }
        else
        {
            // An empty log still needs its state record so the group is found on restart.
            _staged.Add(new StagedChange(ChangeKind.SetHardState, null, null, 0, default));
        }
    }

    /// <summary>Stages a snapshot that replaces the whole log (one received from the leader, or the bootstrap one).</summary>
    internal void StageSnapshot(IKvWriteBatch batch, Snapshot snapshot)
    {
        BeginStaging();
        if (snapshot.Index <= _projected.SnapshotIndex && _projected.SnapshotIndex != 0)
        {
            throw new InvalidOperationException($"group {GroupId}: snapshot {snapshot.Index} is not newer than {_projected.SnapshotIndex}");
        }

        batch.DeleteRange(KvColumn.RaftLog, RaftLogKeys.Entry(GroupId, 0), EntriesUpperBound());
        PutSnapshot(batch, snapshot.Metadata, snapshot.Data.Span);
        _projected = _projected with
        {
            SnapshotIndex = snapshot.Index,
            SnapshotTerm = snapshot.Term,
            LastIndex = snapshot.Index,
            LastTerm = snapshot.Term,
            HardState = _projected.HardState with { Commit = Math.Max(_projected.HardState.Commit, snapshot.Index) },
        };
        _staged.Add(new StagedChange(ChangeKind.InstallSnapshot, snapshot.Metadata, null, 0, default));
    }

    /// <summary>
    /// Stages log compaction: records a snapshot of the state machine at <paramref name="index"/> (which must be applied,
    /// so committed and in the log) and drops every entry up to it. Must be staged before any other change of this
    /// group in the same batch.
    /// </summary>
    internal void StageCompaction(IKvWriteBatch batch, ulong index, ConfState confState, ReadOnlySpan<byte> data)
    {
        if (_staged.Count > 0)
        {
            throw new InvalidOperationException($"group {GroupId}: stage compaction before the group's other changes in a batch");
        }

        BeginStaging();
        if (index <= _snapshot.Index || index > _lastIndex || index > _hardState.Commit)
        {
            throw new InvalidOperationException(
                $"group {GroupId}: cannot compact to {index} (snapshot {_snapshot.Index}, commit {_hardState.Commit}, last {_lastIndex})");
        }

        var meta = new SnapshotMetadata(index, Term(index), confState);
        batch.DeleteRange(KvColumn.RaftLog, RaftLogKeys.Entry(GroupId, 0), RaftLogKeys.Entry(GroupId, index + 1));
        PutSnapshot(batch, meta, data);
        _projected = _projected with { SnapshotIndex = index, SnapshotTerm = meta.Term };
        _staged.Add(new StagedChange(ChangeKind.Compact, meta, null, 0, default));
    }

    /// <summary>Stages entries, truncating any existing entry at or after the first new index (a conflicting suffix).</summary>
    internal void StageEntries(IKvWriteBatch batch, IReadOnlyList<Entry> entries, WireBuffer scratch)
    {
        if (entries.Count == 0)
        {
            return;
        }

        BeginStaging();
        var first = _projected.SnapshotIndex + 1;
        var skip = entries[0].Index < first ? (int)Math.Min((ulong)entries.Count, first - entries[0].Index) : 0;
        if (skip == entries.Count)
        {
            return; // wholly covered by the snapshot
        }

        var incoming = entries[skip].Index;
        if (incoming > _projected.LastIndex + 1)
        {
            throw new InvalidOperationException($"group {GroupId}: gap in log, appending {incoming} after {_projected.LastIndex}");
        }

        if (incoming <= _projected.LastIndex)
        {
            batch.DeleteRange(KvColumn.RaftLog, RaftLogKeys.Entry(GroupId, incoming), EntriesUpperBound());
        }

        Span<byte> key = stackalloc byte[RaftLogKeys.EntryKeyLength];
        for (var i = skip; i < entries.Count; i++)
        {
            var e = entries[i];
            if (e.Index != incoming + (ulong)(i - skip))
            {
                throw new InvalidOperationException($"group {GroupId}: entries are not contiguous at {e.Index}");
            }

            RaftLogKeys.WriteEntryKey(key, GroupId, e.Index);
            scratch.Clear();
            scratch.Reserve(RecordCodec.Overhead);
            scratch.WriteBytes(RaftCodec.Encode(e));
            RecordCodec.SealInPlace(key, scratch.WrittenMutable);
            batch.Put(KvColumn.RaftLog, key, scratch.Written);
        }

        _projected = _projected with { LastIndex = entries[^1].Index, LastTerm = entries[^1].Term };
        _staged.Add(new StagedChange(ChangeKind.Append, null, entries, skip, default));
    }

    /// <summary>Stages a new hard state.</summary>
    internal void StageHardState(HardState hardState)
    {
        BeginStaging();
        _projected = _projected with { HardState = hardState };
        _staged.Add(new StagedChange(ChangeKind.SetHardState, null, null, 0, hardState));
    }

    /// <summary>Writes the state record, last in the group's part of the batch (see <see cref="RecoveryReport"/>).</summary>
    internal void StageStateRecord(IKvWriteBatch batch, WireBuffer scratch)
    {
        BeginStaging();
        var p = _projected;
        if (p.HardState.Commit > p.LastIndex)
        {
            throw new InvalidOperationException($"group {GroupId}: commit {p.HardState.Commit} beyond last index {p.LastIndex}");
        }

        scratch.Clear();
        scratch.Reserve(RecordCodec.Overhead);
        scratch.WriteLengthPrefixed(RaftCodec.Encode(p.HardState));
        scratch.WriteVarint(p.LastIndex);
        scratch.WriteVarint(p.LastTerm);
        RecordCodec.SealInPlace(StateKey, scratch.WrittenMutable);
        batch.Put(KvColumn.RaftLog, StateKey, scratch.Written);
    }

    /// <summary>The batch is durable: make the staged changes visible, in the order they were staged.</summary>
    internal void Publish()
    {
        foreach (var change in _staged)
        {
            switch (change.Kind)
            {
                case ChangeKind.InstallSnapshot:
                    _snapshot = change.Snapshot!;
                    _termRuns.Clear();
                    _cache.Clear();
                    _lastIndex = _snapshot.Index;
                    _hardState = _hardState with { Commit = Math.Max(_hardState.Commit, _snapshot.Index) };
                    break;
                case ChangeKind.Compact:
                    CompactView(change.Snapshot!);
                    break;
                case ChangeKind.Append:
                    AppendToViewTruncating(change.Entries!, change.Skip);
                    break;
                case ChangeKind.SetHardState:
                    _hardState = change.HardState;
                    break;
            }
        }

        _staged.Clear();
    }

    /// <summary>The batch failed: forget the staged changes (the view still shows the last durable state).</summary>
    internal void DiscardStaged() => _staged.Clear();

    private void PutSnapshot(IKvWriteBatch batch, SnapshotMetadata meta, ReadOnlySpan<byte> data)
    {
        var w = new WireBuffer(64);
        w.Reserve(RecordCodec.Overhead);
        RaftLogKeys.WriteSnapshotMetadata(w, meta);
        RecordCodec.SealInPlace(SnapshotMetadataKey, w.WrittenMutable);
        batch.Put(KvColumn.RaftLog, SnapshotMetadataKey, w.Written);
        batch.Put(KvColumn.RaftLog, SnapshotDataKey, RecordCodec.Seal(SnapshotDataKey, data));
    }

    private void CompactView(SnapshotMetadata meta)
    {
        var newFirst = meta.Index + 1;
        var keepFrom = 0;
        while (keepFrom + 1 < _termRuns.Count && _termRuns[keepFrom + 1].Start <= newFirst)
        {
            keepFrom++;
        }

        _termRuns.RemoveRange(0, keepFrom);
        if (meta.Index >= _lastIndex)
        {
            _termRuns.Clear();
        }
        else if (_termRuns.Count > 0 && _termRuns[0].Start < newFirst)
        {
            _termRuns[0] = (newFirst, _termRuns[0].Term);
        }

        var drop = 0;
        while (drop < _cache.Count && _cache[drop].Index <= meta.Index)
        {
            drop++;
        }

        _cache.RemoveRange(0, drop);
        _snapshot = meta;
        _lastIndex = Math.Max(_lastIndex, meta.Index);
    }

    private void AppendToViewTruncating(IReadOnlyList<Entry> entries, int skip)
    {
        var incoming = entries[skip].Index;
        if (incoming <= _lastIndex)
        {
            while (_termRuns.Count > 0 && _termRuns[^1].Start >= incoming)
            {
                _termRuns.RemoveAt(_termRuns.Count - 1);
            }

            var keep = 0;
            while (keep < _cache.Count && _cache[keep].Index < incoming)
            {
                keep++;
            }

            _cache.RemoveRange(keep, _cache.Count - keep);
            _lastIndex = incoming - 1;
        }

        if (_cache.Count > 0 && _cache[^1].Index != incoming - 1)
        {
            _cache.Clear(); // the cache must stay contiguous with the end of the log
        }

        for (var i = skip; i < entries.Count; i++)
        {
            AppendToView(entries[i]);
        }
    }
}
