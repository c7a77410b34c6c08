using Strata.Consensus;
using Strata.Storage;

namespace Strata.Replication;

/// <summary>
/// The durable log, hard state and latest snapshot of one replica, kept in the node's shared engine (column
/// <see cref="KvColumn.RaftLog"/>, layout in <see cref="RaftLogKeys"/>) next to every other group's.
/// </summary>
/// <remarks>
/// <para><b>Reads</b> (the <see cref="IRaftLogStorage"/> the core uses) are served from an in-memory view: first and
/// last index, the terms of every entry (as runs of equal terms), the snapshot metadata and a cache of the most recent
/// entries. Older entries are read from the engine, and every record read is verified against its checksum: a damaged
/// record throws <see cref="CorruptionException"/> and is never returned.</para>
/// <para><b>Writes</b> go through a <see cref="RaftLogWriter"/> shared by all groups of the node: it stages each
/// group's changes in one engine batch, writes it with one fsync, and only then publishes the changes to each
/// group's view. A failed write leaves every view as it was.</para>
/// <para><b>Recovery</b> (<see cref="Open"/>) rebuilds the view from the engine and verifies every record; see
/// <see cref="RecoveryReport"/> for what a torn tail does.</para>
/// <para><b>Concurrency:</b> not thread-safe. The store's drive loop reads and writes it from one thread at a time.</para>
/// </remarks>
public sealed partial class DurableRaftLog : IRaftLogStorage
{
    private readonly IKvEngine _engine;
    private readonly int _maxCachedEntries;

    // Runs of equal terms covering [FirstIndex, LastIndex]: run i covers [Start_i, Start_{i+1}).
    private readonly List<(ulong Start, ulong Term)> _termRuns = [];

    // The most recent entries, contiguous and ending at LastIndex (possibly empty).
    private readonly List<Entry> _cache = [];

    private SnapshotMetadata _snapshot = new(0, 0, new ConfState());
    private HardState _hardState;
    private ulong _lastIndex;

    private DurableRaftLog(IKvEngine engine, ulong groupId, int maxCachedEntries)
    {
        _engine = engine;
        GroupId = groupId;
        _maxCachedEntries = Math.Max(1, maxCachedEntries);
        StateKey = RaftLogKeys.GroupRecord(groupId, RaftLogKeys.StateKind);
        SnapshotMetadataKey = RaftLogKeys.GroupRecord(groupId, RaftLogKeys.SnapshotMetadataKind);
        SnapshotDataKey = RaftLogKeys.GroupRecord(groupId, RaftLogKeys.SnapshotDataKind);
    }

    /// <summary>Default number of recent entries kept in memory per group.</summary>
    public const int DefaultMaxCachedEntries = 256;

    /// <summary>The group this log belongs to.</summary>
    public ulong GroupId { get; }

    /// <summary>Durable hard state (as of the last successful write).</summary>
    public HardState HardState => _hardState;

    /// <summary>Metadata of the latest snapshot (index 0 when there is none).</summary>
    public SnapshotMetadata SnapshotMetadata => _snapshot;

    /// <summary>What recovery found when this log was opened.</summary>
    public RecoveryReport Recovery { get; private set; } = RecoveryReport.Clean;

    /// <summary>Number of entries currently held in the in-memory cache (diagnostics and tests).</summary>
    public int CachedEntryCount => _cache.Count;

    internal byte[] StateKey { get; }

    internal byte[] SnapshotMetadataKey { get; }

    internal byte[] SnapshotDataKey { get; }

    /// <inheritdoc/>
    public ulong FirstIndex => _snapshot.Index + 1;

    /// <inheritdoc/>
    public ulong LastIndex => _lastIndex;

    /// <inheritdoc/>
    /// <remarks>The membership is the snapshot's: restart the node with <see cref="RaftConfig.Applied"/> no lower than
    /// the snapshot index and no higher than the hard state's commit, so later conf changes are re-applied.</remarks>
    public (HardState HardState, ConfState ConfState) InitialState() => (_hardState, _snapshot.ConfState);

    /// <inheritdoc/>
    public ulong Term(ulong index)
    {
        if (index < _snapshot.Index)
        {
            throw new LogCompactedException($"group {GroupId}: index {index} compacted (snapshot at {_snapshot.Index})");
        }

        if (index > _lastIndex)
        {
            throw new LogUnavailableException($"group {GroupId}: index {index} beyond last {_lastIndex}");
        }

        if (index == _snapshot.Index)
        {
            return _snapshot.Term;
        }

        // Binary search for the last run starting at or before index.
        int lo = 0, hi = _termRuns.Count - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (_termRuns[mid].Start <= index)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return _termRuns[lo].Term;
    }

    /// <inheritdoc/>
    public IReadOnlyList<Entry> Entries(ulong low, ulong high, ulong maxBytes)
    {
        if (low <= _snapshot.Index)
        {
            throw new LogCompactedException($"group {GroupId}: index {low} compacted (snapshot at {_snapshot.Index})");
        }

        if (high > _lastIndex + 1)
        {
            throw new LogUnavailableException($"group {GroupId}: entries up to {high} requested, last is {_lastIndex}");
        }

        var result = new List<Entry>((int)Math.Min(high - low, 64));
        if (low >= high)
        {
            return result;
        }

        ulong size = 0;
        var cacheStart = _cache.Count > 0 ? _cache[0].Index : ulong.MaxValue;
        if (low < cacheStart)
        {
            // Older than the cache: read from the engine, verifying every record.
            var until = Math.Min(high, cacheStart);
            if (!ReadFromEngine(low, until, maxBytes, result, ref size) || until == high)
            {
                return result;
            }

            low = until;
        }

        for (var i = low; i < high; i++)
        {
            var e = _cache[(int)(i - cacheStart)];
            size += (ulong)e.Size;
            if (result.Count > 0 && size > maxBytes)
            {
                break;
            }

            result.Add(e);
        }

        return result;
    }

    /// <inheritdoc/>
    /// <remarks>The data is read from the engine and verified on every call (snapshots are sent rarely).</remarks>
    public Snapshot Snapshot()
    {
        if (_snapshot.Index == 0)
        {
            return new Snapshot(_snapshot, default);
        }

        var record = _engine.Get(KvColumn.RaftLog, SnapshotDataKey)
            ?? throw new CorruptionException($"group {GroupId}: the data of the snapshot at {_snapshot.Index} is missing");
        return new Snapshot(_snapshot, RecordCodec.Open(SnapshotDataKey, record).ToArray());
    }

    /// <summary>Reads [low, high) from the engine into <paramref name="result"/>; false when the size limit stopped it.</summary>
    private bool ReadFromEngine(ulong low, ulong high, ulong maxBytes, List<Entry> result, ref ulong size)
    {
        var lower = RaftLogKeys.Entry(GroupId, low);
        var upper = RaftLogKeys.Entry(GroupId, high);
        using var cursor = _engine.Scan(KvColumn.RaftLog, lower, upper);
        var expected = low;
        for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
        {
            var index = RaftLogKeys.EntryIndexOf(cursor.Key, GroupId);
            if (index != expected)
            {
                throw new CorruptionException($"group {GroupId}: entry {expected} is missing from the log (found {index} next)");
            }

            var e = RaftLogKeys.ReadEntryPayload(index, RecordCodec.Open(cursor.Key, cursor.Value));
            size += (ulong)e.Size;
            if (result.Count > 0 && size > maxBytes)
            {
                return false;
            }

            result.Add(e);
            expected++;
        }

        if (expected != high)
        {
            throw new CorruptionException($"group {GroupId}: entry {expected} is missing from the log (last is {_lastIndex})");
        }

        return true;
    }
}

/// <summary>
/// What <see cref="DurableRaftLog.Open"/> found. A torn tail is the part of a write that was in progress at a crash:
/// entries stored after the last index named by the group's durable state record. The state record is written in the
/// same atomic batch as the entries and after them, so such entries belong to a batch that never completed — never
/// fsynced, never acknowledged — and recovery drops them. Damage anywhere the state record vouches for (an entry that
/// may have been acknowledged) is not dropped: opening throws <see cref="CorruptionException"/>.
/// </summary>
/// <param name="TornEntriesDropped">How many entry records past the durable last index were removed.</param>
/// <param name="CorruptTornRecords">How many of those failed their checksum (a torn record).</param>
public sealed record RecoveryReport(int TornEntriesDropped, int CorruptTornRecords)
{
    /// <summary>Nothing to repair.</summary>
    public static RecoveryReport Clean { get; } = new(0, 0);

    /// <summary>True when recovery removed a torn tail.</summary>
    public bool RepairedTornTail => TornEntriesDropped > 0;
}
