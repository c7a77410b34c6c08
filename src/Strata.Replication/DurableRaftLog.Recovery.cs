using Strata.Consensus;
using Strata.Storage;

namespace Strata.Replication;

// Opening a group's log after a start or a crash; listing the groups stored on the node.
public sealed partial class DurableRaftLog
{
    /// <summary>
    /// Rebuilds the view of <paramref name="groupId"/> from <paramref name="engine"/>, verifying every record.
    /// </summary>
    /// <remarks>
    /// Entries past the durable last index named by the state record (a torn tail, see <see cref="RecoveryReport"/>)
    /// are deleted with a synced write before the log is returned. Any other damage — a missing or corrupt record the
    /// state vouches for, a term that does not match — throws: such a replica must not serve until repaired or
    /// replaced (rebuilt from the group's other replicas).
    /// </remarks>
    /// <exception cref="CorruptionException">A record is damaged, missing or inconsistent.</exception>
    /// <exception cref="KeyNotFoundException">The group has no state record (it was never created on this node).</exception>
    public static DurableRaftLog Open(IKvEngine engine, ulong groupId, int maxCachedEntries = DefaultMaxCachedEntries)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var log = new DurableRaftLog(engine, groupId, maxCachedEntries);
        log.Recover();
        return log;
    }

    /// <summary>The ids of every group with records in <paramref name="reader"/>'s raft log column, ascending.</summary>
    public static IReadOnlyList<ulong> ListGroups(IKvReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var groups = new List<ulong>();
        using var cursor = reader.Scan(KvColumn.RaftLog, [], []);
        cursor.SeekToFirst();
        while (cursor.Valid)
        {
            var group = RaftLogKeys.GroupOf(cursor.Key);
            groups.Add(group);
            var (_, upper) = RaftLogKeys.GroupRange(group);
            if (upper.Length == 0)
            {
                break;
            }

            cursor.Seek(upper);
        }

        return groups;
    }

    private void Recover()
    {
        var stateRecord = _engine.Get(KvColumn.RaftLog, StateKey)
            ?? throw new KeyNotFoundException($"group {GroupId} has no log on this node");
        var state = ReadState(StateKey, stateRecord);
        _hardState = state.HardState;

        if (_engine.Get(KvColumn.RaftLog, SnapshotMetadataKey) is { } metaRecord)
        {
            try
            {
                _snapshot = RaftLogKeys.ReadSnapshotMetadata(RecordCodec.Open(SnapshotMetadataKey, metaRecord));
            }
            catch (FormatException e)
            {
                throw new CorruptionException($"group {GroupId}: snapshot metadata does not decode: {e.Message}");
            }
        }

        if (state.LastIndex < _snapshot.Index)
        {
            throw new CorruptionException($"group {GroupId}: durable last index {state.LastIndex} is below the snapshot at {_snapshot.Index}");
        }

        _lastIndex = _snapshot.Index;
        var torn = new List<byte[]>();
        var corruptTorn = 0;
        using (var cursor = _engine.Scan(KvColumn.RaftLog, RaftLogKeys.Entry(GroupId, _snapshot.Index + 1), EntriesUpperBound()))
        {
            for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
            {
                var index = RaftLogKeys.EntryIndexOf(cursor.Key, GroupId);
                if (index > state.LastIndex)
                {
                    // Written by a batch that did not complete: never acknowledged, safe (and necessary) to drop.
                    torn.Add(cursor.Key.ToArray());
                    if (!RecordCodec.TryOpen(cursor.Key, cursor.Value, out _))
                    {
                        corruptTorn++;
                    }

                    continue;
                }

                if (index != _lastIndex + 1)
                {
                    throw new CorruptionException($"group {GroupId}: entry {_lastIndex + 1} is missing (found {index})");
                }

                var e = RaftLogKeys.ReadEntryPayload(index, RecordCodec.Open(cursor.Key, cursor.Value));
                AppendToView(e);
            }
        }

        if (_lastIndex != state.LastIndex)
        {
            throw new CorruptionException($"group {GroupId}: the log ends at {_lastIndex} but its durable state says {state.LastIndex}");
        }

        if (Term(_lastIndex) != state.LastTerm)
        {
            throw new CorruptionException($"group {GroupId}: entry {_lastIndex} has term {Term(_lastIndex)}, the durable state says {state.LastTerm}");
        }

        if (_hardState.Commit > _lastIndex)
        {
            throw new CorruptionException($"group {GroupId}: commit {_hardState.Commit} is beyond the last entry {_lastIndex}");
        }

        if (torn.Count > 0)
        {
            using var batch = _engine.CreateBatch();
            foreach (var key in torn)
            {
                batch.Delete(KvColumn.RaftLog, key);
            }

            _engine.Write(batch, sync: true);
            Recovery = new RecoveryReport(torn.Count, corruptTorn);
        }
    }

    private byte[] EntriesUpperBound() => RaftLogKeys.GroupRecord(GroupId, RaftLogKeys.EntryKind + 1);

    /// <summary>Adds one entry at the end of the view (recovery and publishing).</summary>
    private void AppendToView(in Entry e)
    {
        if (_termRuns.Count == 0 || _termRuns[^1].Term != e.Term)
        {
            _termRuns.Add((e.Index, e.Term));
        }

        _cache.Add(e);
        if (_cache.Count > _maxCachedEntries)
        {
            _cache.RemoveRange(0, _cache.Count - _maxCachedEntries);
        }

        _lastIndex = e.Index;
    }

    internal readonly record struct StateRecord(HardState HardState, ulong LastIndex, ulong LastTerm);

    internal static StateRecord ReadState(ReadOnlySpan<byte> key, ReadOnlySpan<byte> record)
    {
        try
        {
            var r = new WireReader(RecordCodec.Open(key, record));
            var hardState = RaftCodec.DecodeHardState(r.ReadLengthPrefixed());
            var state = new StateRecord(hardState, r.ReadVarint(), r.ReadVarint());
            r.ExpectEnd();
            return state;
        }
        catch (FormatException e)
        {
            throw new CorruptionException($"state record at 0x{Convert.ToHexString(key)} does not decode: {e.Message}");
        }
    }
}
