namespace Strata.Consensus.Tests;

/// <summary>The in-memory log honours the <see cref="IRaftLogStorage"/> contract.</summary>
public sealed class MemoryRaftLogTests
{
    private static Entry E(ulong index, ulong term) => new(index, term, EntryType.Normal, new byte[] { (byte)index });

    [Fact]
    public void A_founding_member_starts_from_a_bootstrap_snapshot_at_index_one()
    {
        var log = new MemoryRaftLog(new ConfState { Voters = [1, 2, 3] });

        Assert.Equal(2UL, log.FirstIndex);
        Assert.Equal(1UL, log.LastIndex);
        Assert.Equal(1UL, log.Term(1));
        Assert.Equal(new HardState(1, 0, 1), log.InitialState().HardState);
        Assert.Equal([1UL, 2, 3], log.InitialState().ConfState.Voters);
    }

    [Fact]
    public void Appending_over_existing_entries_truncates_the_conflicting_suffix()
    {
        var log = new MemoryRaftLog();
        log.Append([E(1, 1), E(2, 1), E(3, 1)]);

        log.Append([E(2, 2)]);

        Assert.Equal(2UL, log.LastIndex);
        Assert.Equal(2UL, log.Term(2));
        Assert.Throws<LogUnavailableException>(() => log.Term(3));
        Assert.Throws<InvalidOperationException>(() => log.Append([E(5, 2)])); // a gap
    }

    [Fact]
    public void Entries_honour_the_size_limit_but_always_return_one()
    {
        var log = new MemoryRaftLog();
        log.Append([E(1, 1), E(2, 1), E(3, 1)]);

        Assert.Single(log.Entries(1, 4, 0));
        Assert.Equal(2, log.Entries(1, 4, (ulong)(2 * E(1, 1).Size)).Count);
        Assert.Equal(3, log.Entries(1, 4, ulong.MaxValue).Count);
        Assert.Throws<LogUnavailableException>(() => log.Entries(1, 5, ulong.MaxValue));
    }

    [Fact]
    public void Compaction_keeps_the_term_of_the_last_compacted_index()
    {
        var log = new MemoryRaftLog();
        log.Append([E(1, 1), E(2, 2), E(3, 3)]);

        log.CreateSnapshot(2, new ConfState { Voters = [1] }, "s"u8.ToArray());
        log.Compact(2);

        Assert.Equal(3UL, log.FirstIndex);
        Assert.Equal(2UL, log.Term(2));
        Assert.Throws<LogCompactedException>(() => log.Term(1));
        Assert.Throws<LogCompactedException>(() => log.Entries(2, 4, ulong.MaxValue));
        Assert.Equal(2UL, log.Snapshot().Index);
    }

    [Fact]
    public void Applying_a_snapshot_replaces_the_log()
    {
        var log = new MemoryRaftLog();
        log.Append([E(1, 1), E(2, 1)]);

        log.ApplySnapshot(new Snapshot(new SnapshotMetadata(10, 4, new ConfState { Voters = [1, 2] }), default));

        Assert.Equal(11UL, log.FirstIndex);
        Assert.Equal(10UL, log.LastIndex);
        Assert.Equal(4UL, log.Term(10));
        Assert.Equal([1UL, 2], log.InitialState().ConfState.Voters);
    }
}
