using Strata.Consensus;
using Strata.Storage;

namespace Strata.Replication.Tests;

/// <summary>
/// The contract of <see cref="IRaftLogStorage"/> together with the write side every implementation offers (append with
/// truncation of a conflicting suffix, hard state, snapshot installation, compaction), run against each implementation.
/// </summary>
public abstract class RaftLogStorageContract
{
    private static readonly ConfState Members = new() { Voters = [1, 2, 3] };

    /// <summary>A new log: empty, or for a founding member with <paramref name="members"/>.</summary>
    protected abstract IRaftLogStorage Create(ConfState? members);

    protected abstract void Append(IRaftLogStorage log, IReadOnlyList<Entry> entries);

    protected abstract void SetHardState(IRaftLogStorage log, HardState hardState);

    protected abstract void ApplySnapshot(IRaftLogStorage log, Snapshot snapshot);

    /// <summary>Records a snapshot at <paramref name="index"/> with <paramref name="data"/> and drops entries up to it.</summary>
    protected abstract void Compact(IRaftLogStorage log, ulong index, ConfState confState, byte[] data);

    /// <summary>The same log as a restarted process sees it (the memory log: itself).</summary>
    protected abstract IRaftLogStorage Reopen(IRaftLogStorage log);

    protected static Entry E(ulong index, ulong term, string data = "") =>
        new(index, term, EntryType.Normal, System.Text.Encoding.UTF8.GetBytes(data.Length == 0 ? $"e{index}t{term}" : data));

    protected static Entry[] Range(ulong from, ulong to, ulong term) =>
        [.. Enumerable.Range((int)from, (int)(to - from + 1)).Select(i => E((ulong)i, term))];

    private static void AssertSame(IReadOnlyList<Entry> expected, IReadOnlyList<Entry> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Index, actual[i].Index);
            Assert.Equal(expected[i].Term, actual[i].Term);
            Assert.Equal(expected[i].Type, actual[i].Type);
            Assert.Equal(expected[i].Data.ToArray(), actual[i].Data.ToArray());
        }
    }

    [Fact]
    public void An_empty_log_has_nothing_and_says_so()
    {
        var log = Create(null);
        Assert.Equal(1UL, log.FirstIndex);
        Assert.Equal(0UL, log.LastIndex);
        Assert.Equal(0UL, log.Term(0));
        Assert.True(log.InitialState().HardState.IsEmpty);
        Assert.Throws<LogUnavailableException>(() => log.Term(1));
        Assert.Throws<LogUnavailableException>(() => log.Entries(1, 2, ulong.MaxValue));
        Assert.Equal(0UL, log.Snapshot().Index);
    }

    [Fact]
    public void A_founding_member_starts_from_a_snapshot_at_index_one()
    {
        var log = Reopen(Create(Members));
        Assert.Equal(2UL, log.FirstIndex);
        Assert.Equal(1UL, log.LastIndex);
        Assert.Equal(1UL, log.Term(1));
        var (hs, cs) = log.InitialState();
        Assert.Equal(new HardState(1, 0, 1), hs);
        Assert.True(cs.SameMembers(Members));
        Assert.Equal(1UL, log.Snapshot().Index);
    }

    [Fact]
    public void Appended_entries_and_hard_state_read_back_after_reopen()
    {
        var log = Create(Members);
        var entries = Range(2, 40, 2);
        Append(log, entries);
        SetHardState(log, new HardState(2, 1, 30));
        log = Reopen(log);
        Assert.Equal(40UL, log.LastIndex);
        Assert.Equal(2UL, log.Term(40));
        Assert.Equal(1UL, log.Term(1));
        Assert.Equal(new HardState(2, 1, 30), log.InitialState().HardState);
        AssertSame(entries, log.Entries(2, 41, ulong.MaxValue));
        AssertSame(entries[5..10], log.Entries(7, 12, ulong.MaxValue));
    }

    [Fact]
    public void Entries_respect_the_size_limit_but_return_at_least_one()
    {
        var log = Create(Members);
        Append(log, Range(2, 30, 1));
        var size = (ulong)E(2, 1).Size;
        Assert.Single(log.Entries(2, 31, 0));
        Assert.Equal(3, log.Entries(2, 31, (3 * size) + 1).Count);
        Assert.Equal(29, log.Entries(2, 31, ulong.MaxValue).Count);
        Assert.Equal(3, Reopen(log).Entries(2, 31, (3 * size) + 1).Count);
    }

    [Fact]
    public void Out_of_range_reads_throw_the_documented_exceptions()
    {
        var log = Create(Members);
        Append(log, Range(2, 10, 1));
        SetHardState(log, new HardState(1, 0, 10));
        Compact(log, 5, Members, [1, 2, 3]);
        Assert.Throws<LogCompactedException>(() => log.Entries(5, 7, ulong.MaxValue));
        Assert.Throws<LogCompactedException>(() => log.Term(4));
        Assert.Throws<LogUnavailableException>(() => log.Entries(6, 12, ulong.MaxValue));
        Assert.Throws<LogUnavailableException>(() => log.Term(11));
        Assert.Equal(1UL, log.Term(5)); // the snapshot's term stays answerable
    }

    [Fact]
    public void A_conflicting_suffix_is_truncated_by_the_overwriting_entries()
    {
        var log = Create(Members);
        Append(log, Range(2, 12, 1));
        Append(log, Range(6, 8, 3));
        log = Reopen(log);
        Assert.Equal(8UL, log.LastIndex);
        Assert.Equal(1UL, log.Term(5));
        Assert.Equal(3UL, log.Term(6));
        Assert.Equal(3UL, log.Term(8));
        Assert.Throws<LogUnavailableException>(() => log.Term(9));
        AssertSame([.. Range(2, 5, 1), .. Range(6, 8, 3)], log.Entries(2, 9, ulong.MaxValue));
        Append(log, Range(9, 10, 3));
        Assert.Equal(10UL, Reopen(log).LastIndex);
    }

    [Fact]
    public void Compaction_drops_entries_and_keeps_the_snapshot()
    {
        var log = Create(Members);
        Append(log, [.. Range(2, 7, 1), .. Range(8, 20, 2)]);
        SetHardState(log, new HardState(2, 1, 20));
        Compact(log, 12, Members, [7, 7, 7]);
        log = Reopen(log);
        Assert.Equal(13UL, log.FirstIndex);
        Assert.Equal(20UL, log.LastIndex);
        Assert.Equal(2UL, log.Term(12));
        var snap = log.Snapshot();
        Assert.Equal(12UL, snap.Index);
        Assert.Equal(2UL, snap.Term);
        Assert.Equal(new byte[] { 7, 7, 7 }, snap.Data.ToArray());
        Assert.True(snap.Metadata.ConfState.SameMembers(Members));
        AssertSame(Range(13, 20, 2), log.Entries(13, 21, ulong.MaxValue));
        Assert.True(log.InitialState().ConfState.SameMembers(Members));
    }

    [Fact]
    public void Compacting_the_whole_log_leaves_it_empty_after_the_snapshot()
    {
        var log = Create(Members);
        Append(log, Range(2, 9, 4));
        SetHardState(log, new HardState(4, 0, 9));
        Compact(log, 9, Members, []);
        log = Reopen(log);
        Assert.Equal(10UL, log.FirstIndex);
        Assert.Equal(9UL, log.LastIndex);
        Assert.Equal(4UL, log.Term(9));
        Append(log, Range(10, 11, 5));
        Assert.Equal(5UL, Reopen(log).Term(11));
    }

    [Fact]
    public void An_installed_snapshot_replaces_the_log()
    {
        var log = Create(null);
        Append(log, Range(1, 5, 1));
        var members = new ConfState { Voters = [1, 2, 3], Learners = [4] };
        ApplySnapshot(log, new Snapshot(new SnapshotMetadata(50, 6, members), new byte[] { 42 }));
        SetHardState(log, new HardState(6, 0, 50));
        log = Reopen(log);
        Assert.Equal(51UL, log.FirstIndex);
        Assert.Equal(50UL, log.LastIndex);
        Assert.Equal(6UL, log.Term(50));
        Assert.Equal(new byte[] { 42 }, log.Snapshot().Data.ToArray());
        Assert.True(log.InitialState().ConfState.SameMembers(members));
        Assert.Equal(50UL, log.InitialState().HardState.Commit);
        Append(log, Range(51, 53, 6));
        AssertSame(Range(51, 53, 6), Reopen(log).Entries(51, 54, ulong.MaxValue));
    }

    [Fact]
    public void Entries_already_covered_by_the_snapshot_are_ignored()
    {
        var log = Create(Members);
        Append(log, Range(2, 10, 1));
        SetHardState(log, new HardState(1, 0, 10));
        Compact(log, 8, Members, []);
        Append(log, Range(5, 8, 1));
        Assert.Equal(10UL, log.LastIndex);
        Append(log, Range(7, 12, 1));
        log = Reopen(log);
        Assert.Equal(12UL, log.LastIndex);
        AssertSame(Range(9, 12, 1), log.Entries(9, 13, ulong.MaxValue));
    }

    [Fact]
    public void A_randomized_history_matches_a_model()
    {
        var rng = new Random(20261126);
        var log = Create(Members);
        var model = new List<Entry>(); // entries after the snapshot
        ulong snapIndex = 1, snapTerm = 1, term = 1, commit = 1;
        for (var step = 0; step < 300; step++)
        {
            var last = snapIndex + (ulong)model.Count;
            switch (rng.Next(10))
            {
                case < 6:
                    {
                        // append, sometimes overwriting a suffix with a higher term
                        var from = model.Count > 0 && rng.Next(4) == 0 ? last - (ulong)rng.Next(0, Math.Min(model.Count, 5)) : last + 1;
                        if (from <= commit)
                        {
                            from = commit + 1; // committed entries are never overwritten
                        }

                        if (from <= last)
                        {
                            term++;
                        }

                        var n = rng.Next(1, 6);
                        var entries = Range(from, from + (ulong)n - 1, term);
                        Append(log, entries);
                        model.RemoveRange((int)(from - snapIndex - 1), model.Count - (int)(from - snapIndex - 1));
                        model.AddRange(entries);
                        break;
                    }

                case < 8 when model.Count > 3:
                    {
                        var to = snapIndex + (ulong)rng.Next(1, model.Count - 1);
                        commit = Math.Max(commit, to);
                        SetHardState(log, new HardState(term, 0, commit));
                        Compact(log, to, Members, []);
                        snapTerm = model[(int)(to - snapIndex - 1)].Term;
                        model.RemoveRange(0, (int)(to - snapIndex));
                        snapIndex = to;
                        break;
                    }

                default:
                    log = Reopen(log);
                    break;
            }

            Assert.Equal(snapIndex + 1, log.FirstIndex);
            Assert.Equal(snapIndex + (ulong)model.Count, log.LastIndex);
            Assert.Equal(snapTerm, log.Term(snapIndex));
            if (model.Count > 0)
            {
                var lo = snapIndex + 1 + (ulong)rng.Next(model.Count);
                var hi = lo + (ulong)rng.Next(1, (int)(snapIndex + (ulong)model.Count - lo) + 2);
                AssertSame(model.GetRange((int)(lo - snapIndex - 1), (int)(hi - lo)), log.Entries(lo, hi, ulong.MaxValue));
                Assert.Equal(model[^1].Term, log.Term(log.LastIndex));
            }
        }
    }
}

public sealed class MemoryRaftLogContract : RaftLogStorageContract
{
    protected override IRaftLogStorage Create(ConfState? members) => new MemoryRaftLog(members);

    protected override void Append(IRaftLogStorage log, IReadOnlyList<Entry> entries) => ((MemoryRaftLog)log).Append(entries);

    protected override void SetHardState(IRaftLogStorage log, HardState hardState) => ((MemoryRaftLog)log).SetHardState(hardState);

    protected override void ApplySnapshot(IRaftLogStorage log, Snapshot snapshot) => ((MemoryRaftLog)log).ApplySnapshot(snapshot);

    protected override void Compact(IRaftLogStorage log, ulong index, ConfState confState, byte[] data)
    {
        var memory = (MemoryRaftLog)log;
        memory.CreateSnapshot(index, confState, data);
        memory.Compact(index);
    }

    protected override IRaftLogStorage Reopen(IRaftLogStorage log) => log;
}

/// <summary>The durable log; a small cache so reads exercise the engine path. Each log shares the engine with a
/// neighbour group so key ranges must not leak into each other.</summary>
public abstract class DurableRaftLogContract : RaftLogStorageContract, IDisposable
{
    private const ulong Group = 7;
    private RaftLogWriter? _writer;

    protected abstract IKvEngine Engine { get; }

    private RaftLogWriter Writer => _writer ??= new RaftLogWriter(Engine);

    protected override IRaftLogStorage Create(ConfState? members)
    {
        // Neighbours on both sides of the group's key range.
        DurableRaftLog.Create(Writer, Group - 1, new ConfState { Voters = [9] });
        var neighbour = DurableRaftLog.Create(Writer, Group + 1, null);
        var log = DurableRaftLog.Create(Writer, Group, members, maxCachedEntries: 4);
        Writer.Flush();
        Writer.StageEntries(neighbour, Range(1, 20, 9));
        Writer.Flush();
        return log;
    }

    protected override void Append(IRaftLogStorage log, IReadOnlyList<Entry> entries)
    {
        Writer.StageEntries((DurableRaftLog)log, entries);
        Writer.Flush();
    }

    protected override void SetHardState(IRaftLogStorage log, HardState hardState)
    {
        Writer.StageHardState((DurableRaftLog)log, hardState);
        Writer.Flush();
    }

    protected override void ApplySnapshot(IRaftLogStorage log, Snapshot snapshot)
    {
        Writer.StageSnapshot((DurableRaftLog)log, snapshot);
        Writer.Flush();
    }

    protected override void Compact(IRaftLogStorage log, ulong index, ConfState confState, byte[] data)
    {
        Writer.StageCompaction((DurableRaftLog)log, index, confState, data);
        Writer.Flush();
    }

    protected override IRaftLogStorage Reopen(IRaftLogStorage log)
    {
        var reopened = DurableRaftLog.Open(Engine, Group, maxCachedEntries: 4);
        Assert.False(reopened.Recovery.RepairedTornTail);
        Assert.Equal(20UL, DurableRaftLog.Open(Engine, Group + 1).LastIndex);
        return reopened;
    }

    public virtual void Dispose()
    {
        _writer?.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class DurableRaftLogOnMemoryEngineContract : DurableRaftLogContract
{
    protected override IKvEngine Engine { get; } = new InMemoryKvEngine();
}

public sealed class DurableRaftLogOnRocksDbContract : DurableRaftLogContract
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "strata-repl-" + Path.GetRandomFileName());
    private RocksDbEngine? _engine;

    protected override IKvEngine Engine => _engine ??= RocksDbEngine.Open(_directory);

    public override void Dispose()
    {
        base.Dispose();
        _engine?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
