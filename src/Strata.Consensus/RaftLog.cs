namespace Strata.Consensus;

/// <summary>
/// The log as the core sees it: durable entries read through <see cref="IRaftLogStorage"/>, followed by
/// unstable entries (and possibly an unstable snapshot) not yet persisted by the host.
/// </summary>
internal sealed class RaftLog
{
    private readonly IRaftLogStorage _storage;
    private readonly List<Entry> _unstable = [];
    private ulong _unstableOffset; // index of _unstable[0]; entries of the storage at or after it are shadowed

    public RaftLog(IRaftLogStorage storage)
    {
        _storage = storage;
        _unstableOffset = storage.LastIndex + 1;
        Committed = storage.FirstIndex - 1;
        Applied = storage.FirstIndex - 1;
    }

    /// <summary>Highest index known to be committed.</summary>
    public ulong Committed { get; private set; }

    /// <summary>Highest index the host has applied (acknowledged through Advance).</summary>
    public ulong Applied { get; private set; }

    /// <summary>A snapshot received from the leader that the host has not yet persisted.</summary>
    public Snapshot? UnstableSnapshot { get; private set; }

    public ulong FirstIndex => UnstableSnapshot is { } s ? s.Index + 1 : _storage.FirstIndex;

    public ulong LastIndex =>
        _unstable.Count > 0 ? _unstableOffset + (ulong)_unstable.Count - 1
        : UnstableSnapshot is { } s ? s.Index
        : _unstableOffset - 1;

    public ulong LastTerm => TryTerm(LastIndex, out var t) ? t : throw new InvalidOperationException("last term unavailable");

    public bool HasUnstable => _unstable.Count > 0;

    public int UnstableCount => _unstable.Count;

    public Entry[] UnstableEntries() => [.. _unstable];

    /// <summary>Term of the entry at <paramref name="index"/>, if the log still has it (including the snapshot's index).</summary>
    public bool TryTerm(ulong index, out ulong term)
    {
        term = 0;
        if (index + 1 < FirstIndex || index > LastIndex)
        {
            return false;
        }

        if (UnstableSnapshot is { } snap && index == snap.Index)
        {
            term = snap.Term;
            return true;
        }

        if (index >= _unstableOffset)
        {
            term = _unstable[(int)(index - _unstableOffset)].Term;
            return true;
        }

        try
        {
            term = _storage.Term(index);
            return true;
        }
        catch (LogCompactedException)
        {
            return false;
        }
    }

    public bool MatchTerm(ulong index, ulong term) => TryTerm(index, out var t) && t == term;

    /// <summary>Whether a candidate's log (last index and term) is at least as up to date as ours (§5.4.1).</summary>
    public bool IsUpToDate(ulong lastIndex, ulong lastTerm)
    {
        var ourTerm = LastTerm;
        return lastTerm > ourTerm || (lastTerm == ourTerm && lastIndex >= LastIndex);
    }

    /// <summary>
    /// Follower side of an append: if our entry at <paramref name="index"/> has <paramref name="logTerm"/>, append
    /// <paramref name="entries"/> (truncating conflicts) and advance the commit index.
    /// </summary>
    /// <returns>The index of the last new entry, or null when the log does not match.</returns>
    public ulong? MaybeAppend(ulong index, ulong logTerm, ulong committed, IReadOnlyList<Entry> entries)
    {
        if (!MatchTerm(index, logTerm))
        {
            return null;
        }

        var lastNew = index + (ulong)entries.Count;
        for (var i = 0; i < entries.Count; i++)
        {
            if (!MatchTerm(entries[i].Index, entries[i].Term))
            {
                if (entries[i].Index <= Committed)
                {
                    throw new InvalidOperationException(
                        $"entry {entries[i].Index} conflicts with committed entry (committed {Committed})");
                }

                Append(entries, i);
                break;
            }
        }

        CommitTo(Math.Min(committed, lastNew));
        return lastNew;
    }

    /// <summary>Appends entries from position <paramref name="from"/>, replacing any at or after the first's index.</summary>
    public void Append(IReadOnlyList<Entry> entries, int from = 0)
    {
        if (from >= entries.Count)
        {
            return;
        }

        var first = entries[from].Index;
        if (first <= Committed)
        {
            throw new InvalidOperationException($"append at {first} would overwrite committed {Committed}");
        }

        var end = _unstableOffset + (ulong)_unstable.Count;
        if (first == end)
        {
            // common case: extend
        }
        else if (first <= _unstableOffset)
        {
            _unstable.Clear();
            _unstableOffset = first;
        }
        else
        {
            _unstable.RemoveRange((int)(first - _unstableOffset), (int)(end - first));
        }

        for (var i = from; i < entries.Count; i++)
        {
            _unstable.Add(entries[i]);
        }
    }

    /// <summary>
    /// The largest index at or below <paramref name="index"/> whose term is at most <paramref name="term"/>, with that
    /// term (0 if unknown). Used on both sides of a rejected append to skip a whole conflicting term at once.
    /// </summary>
    public (ulong Index, ulong Term) FindConflictByTerm(ulong index, ulong term)
    {
        index = Math.Min(index, LastIndex);
        while (true)
        {
            if (!TryTerm(index, out var t))
            {
                return (index, 0);
            }

            if (t <= term || index == 0)
            {
                return (index, t);
            }

            index--;
        }
    }

    /// <summary>Entries in [<paramref name="low"/>, <paramref name="high"/>), at least one if the range is non-empty.</summary>
    /// <returns>null when <paramref name="low"/> has been compacted (send a snapshot instead).</returns>
    public List<Entry>? Slice(ulong low, ulong high, ulong maxBytes)
    {
        if (low < FirstIndex)
        {
            return null;
        }

        high = Math.Min(high, LastIndex + 1);
        var result = new List<Entry>();
        if (low >= high)
        {
            return result;
        }

        ulong size = 0;
        if (low < _unstableOffset)
        {
            var storedHigh = Math.Min(high, _unstableOffset);
            IReadOnlyList<Entry> stored;
            try
            {
                stored = _storage.Entries(low, storedHigh, maxBytes);
            }
            catch (LogCompactedException)
            {
                return null;
            }

            foreach (var e in stored)
            {
                size += (ulong)e.Size;
                result.Add(e);
            }

            if ((ulong)stored.Count < storedHigh - low)
            {
                return result; // size-limited
            }
        }

        for (var i = Math.Max(low, _unstableOffset); i < high; i++)
        {
            var e = _unstable[(int)(i - _unstableOffset)];
            size += (ulong)e.Size;
            if (result.Count > 0 && size > maxBytes)
            {
                break;
            }

            result.Add(e);
        }

        return result;
    }

    public bool HasNextCommittedEntries => UnstableSnapshot is null && Committed > Applied;

    public List<Entry> NextCommittedEntries(ulong maxBytes)
    {
        if (!HasNextCommittedEntries)
        {
            return [];
        }

        var low = Math.Max(Applied + 1, FirstIndex);
        return Slice(low, Committed + 1, maxBytes) ?? throw new InvalidOperationException($"committed entries from {low} compacted");
    }

    public void CommitTo(ulong index)
    {
        if (index <= Committed)
        {
            return;
        }

        if (index > LastIndex)
        {
            throw new InvalidOperationException($"commit {index} beyond last index {LastIndex}");
        }

        Committed = index;
    }

    /// <summary>Leader side: commit <paramref name="index"/> if it is from the current term (§5.4.2).</summary>
    public bool MaybeCommit(ulong index, ulong term)
    {
        if (index > Committed && MatchTerm(index, term))
        {
            CommitTo(index);
            return true;
        }

        return false;
    }

    public void AppliedTo(ulong index)
    {
        if (index > Committed || index < Applied)
        {
            throw new InvalidOperationException($"applied {index} outside [{Applied}, {Committed}]");
        }

        Applied = index;
    }

    /// <summary>The host persisted entries up to (<paramref name="index"/>, <paramref name="term"/>).</summary>
    public void StableTo(ulong index, ulong term)
    {
        if (index < _unstableOffset || index >= _unstableOffset + (ulong)_unstable.Count)
        {
            return;
        }

        if (_unstable[(int)(index - _unstableOffset)].Term != term)
        {
            return; // replaced by a newer leader's entries since the Ready was taken
        }

        _unstable.RemoveRange(0, (int)(index - _unstableOffset + 1));
        _unstableOffset = index + 1;
    }

    public void StableSnapshotTo(ulong index)
    {
        if (UnstableSnapshot is { } s && s.Index == index)
        {
            UnstableSnapshot = null;
        }
    }

    /// <summary>Replaces the whole log with a snapshot from the leader.</summary>
    public void Restore(Snapshot snapshot)
    {
        Committed = snapshot.Index;
        UnstableSnapshot = snapshot;
        _unstable.Clear();
        _unstableOffset = snapshot.Index + 1;
    }

    /// <summary>After the host installed the snapshot: its state machine is at the snapshot's index.</summary>
    public void SnapshotApplied(ulong index)
    {
        if (index > Applied)
        {
            Applied = index;
        }
    }
}
