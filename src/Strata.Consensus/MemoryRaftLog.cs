namespace Strata.Consensus;

/// <summary>
/// An in-memory <see cref="IRaftLogStorage"/> that also offers the write side (what a durable implementation does
/// inside one batch): used by tests, the simulator (as the "disk" that survives a crash) and benchmarks.
/// </summary>
/// <remarks>Not thread-safe: one owner drives both the node and the writes.</remarks>
public sealed class MemoryRaftLog : IRaftLogStorage
{
    // _entries[0] is a sentinel holding the snapshot's (index, term); real entries follow it.
    private readonly List<Entry> _entries = [new Entry(0, 0, EntryType.Normal, default)];
    private HardState _hardState;
    private Snapshot _snapshot = new(new SnapshotMetadata(0, 0, new ConfState()), default);

    /// <summary>
    /// An empty log (a replica created to join an existing group), or with <paramref name="initialMembers"/> the log of a
    /// founding member: bootstrapped as an empty snapshot at index 1, term 1 (hard state term 1, commit 1). Because the
    /// founding membership lives in a snapshot, a replica added later receives it with that snapshot.
    /// </summary>
    public MemoryRaftLog(ConfState? initialMembers = null)
    {
        if (initialMembers is not null)
        {
            _snapshot = new(new SnapshotMetadata(1, 1, initialMembers), default);
            _entries[0] = new Entry(1, 1, EntryType.Normal, default);
            _hardState = new HardState(1, 0, 1);
        }
    }

    /// <summary>Persisted hard state.</summary>
    public HardState HardState => _hardState;

    /// <summary>Number of entries held (after the snapshot).</summary>
    public int Count => _entries.Count - 1;

    /// <inheritdoc/>
    /// <remarks>The membership returned is the snapshot's: a node restarted from this log must be created with
    /// <see cref="RaftConfig.Applied"/> equal to the snapshot index, so that it re-applies later conf changes.</remarks>
    public (HardState HardState, ConfState ConfState) InitialState() => (_hardState, _snapshot.Metadata.ConfState);

    /// <inheritdoc/>
    public ulong FirstIndex => _entries[0].Index + 1;

    /// <inheritdoc/>
    public ulong LastIndex => _entries[0].Index + (ulong)(_entries.Count - 1);

    /// <inheritdoc/>
    public ulong Term(ulong index)
    {
        var offset = _entries[0].Index;
        if (index < offset)
        {
            throw new LogCompactedException($"index {index} compacted (snapshot at {offset})");
        }

        if (index > LastIndex)
        {
            throw new LogUnavailableException($"index {index} beyond last {LastIndex}");
        }

        return _entries[(int)(index - offset)].Term;
    }

    /// <inheritdoc/>
    public IReadOnlyList<Entry> Entries(ulong low, ulong high, ulong maxBytes)
    {
        var offset = _entries[0].Index;
        if (low <= offset)
        {
            throw new LogCompactedException($"index {low} compacted (snapshot at {offset})");
        }

        if (high > LastIndex + 1)
        {
            throw new LogUnavailableException($"entries up to {high} requested, last is {LastIndex}");
        }

        var result = new List<Entry>((int)Math.Min(high - low, 64));
        ulong size = 0;
        for (var i = low; i < high; i++)
        {
            var e = _entries[(int)(i - offset)];
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
    public Snapshot Snapshot() => _snapshot;

    /// <summary>Persists the hard state.</summary>
    public void SetHardState(HardState hardState) => _hardState = hardState;

    /// <summary>Appends entries, truncating any existing entries at or after the first new index.</summary>
    public void Append(IReadOnlyList<Entry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }

        var first = FirstIndex;
        var incoming = entries[0].Index;
        if (incoming + (ulong)entries.Count - 1 < first)
        {
            return; // wholly covered by the snapshot
        }

        var skip = incoming < first ? (int)(first - incoming) : 0;
        incoming += (ulong)skip;
        if (incoming > LastIndex + 1)
        {
            throw new InvalidOperationException($"gap in log: appending {incoming} after {LastIndex}");
        }

        var keep = (int)(incoming - _entries[0].Index);
        _entries.RemoveRange(keep, _entries.Count - keep);
        for (var i = skip; i < entries.Count; i++)
        {
            _entries.Add(entries[i]);
        }
    }

    /// <summary>Replaces the log with <paramref name="snapshot"/> (installing a snapshot received from the leader).</summary>
    public void ApplySnapshot(Snapshot snapshot)
    {
        if (snapshot.Index <= _snapshot.Index && _snapshot.Index != 0)
        {
            throw new InvalidOperationException($"snapshot {snapshot.Index} is older than {_snapshot.Index}");
        }

        _snapshot = snapshot;
        _entries.Clear();
        _entries.Add(new Entry(snapshot.Index, snapshot.Term, EntryType.Normal, default));
    }

    /// <summary>
    /// Records a snapshot of the state machine at applied index <paramref name="index"/> (which must be in the log)
    /// without dropping entries; follow with <see cref="Compact"/> to free them.
    /// </summary>
    public Snapshot CreateSnapshot(ulong index, ConfState confState, ReadOnlyMemory<byte> data)
    {
        if (index <= _snapshot.Index)
        {
            return _snapshot;
        }

        if (index > LastIndex)
        {
            throw new InvalidOperationException($"snapshot index {index} beyond last {LastIndex}");
        }

        _snapshot = new(new SnapshotMetadata(index, Term(index), confState), data);
        return _snapshot;
    }

    /// <summary>Drops entries up to and including <paramref name="compactIndex"/> (must not exceed the applied index).</summary>
    public void Compact(ulong compactIndex)
    {
        var offset = _entries[0].Index;
        if (compactIndex <= offset)
        {
            return;
        }

        if (compactIndex > LastIndex)
        {
            throw new InvalidOperationException($"compact {compactIndex} beyond last {LastIndex}");
        }

        var i = (int)(compactIndex - offset);
        var sentinel = new Entry(_entries[i].Index, _entries[i].Term, EntryType.Normal, default);
        _entries.RemoveRange(0, i + 1);
        _entries.Insert(0, sentinel);
    }
}
