using Strata.Consensus;
using Strata.Storage;

namespace Strata.Replication.Tests;

/// <summary>What the durable log adds to the contract: group commit, checksums, failure and crash recovery.</summary>
public sealed class DurableRaftLogTests
{
    private static readonly ConfState Members = new() { Voters = [1, 2, 3] };

    private static Entry[] Range(ulong from, ulong to, ulong term) =>
        [.. Enumerable.Range((int)from, (int)(to - from + 1)).Select(i => new Entry((ulong)i, term, EntryType.Normal, new byte[] { (byte)i, (byte)term, 0xAB }))];

    private static Ready ReadyWith(Entry[] entries, HardState? hardState) => new() { Entries = entries, HardState = hardState, MustSync = true };

    [Fact]
    public void Every_group_of_a_cycle_is_written_in_one_batch_with_one_fsync()
    {
        var engine = new CountingEngine(new InMemoryKvEngine());
        using var writer = new RaftLogWriter(engine);
        var logs = Enumerable.Range(1, 50).Select(g => DurableRaftLog.Create(writer, (ulong)g, Members)).ToList();
        Assert.Equal(1, writer.Flush() > 0 ? engine.SyncedWrites : -1);

        foreach (var log in logs)
        {
            writer.StageReady(log, ReadyWith(Range(2, 4, 2), new HardState(2, 1, 3)));
        }

        Assert.Equal(50, writer.Flush());
        Assert.Equal(2, engine.Writes);
        Assert.Equal(2, engine.SyncedWrites);
        Assert.All(logs, log =>
        {
            Assert.Equal(4UL, log.LastIndex);
            Assert.Equal(new HardState(2, 1, 3), log.HardState);
        });
        Assert.Equal(0, writer.Flush()); // nothing staged: no write at all
        Assert.Equal(2, engine.Writes);
        Assert.Equal(Enumerable.Range(1, 50).Select(g => (ulong)g), DurableRaftLog.ListGroups(engine));
    }

    [Fact]
    public void Nothing_becomes_visible_before_the_write_returns()
    {
        var engine = new InMemoryKvEngine();
        using var writer = new RaftLogWriter(engine);
        var log = DurableRaftLog.Create(writer, 5, Members);
        Assert.Equal(0UL, log.LastIndex); // staged, not written
        writer.Flush();
        writer.StageReady(log, ReadyWith(Range(2, 6, 1), new HardState(1, 1, 1)));
        Assert.Equal(1UL, log.LastIndex);
        Assert.Equal(new HardState(1, 0, 1), log.HardState);
        Assert.Null(engine.Get(KvColumn.RaftLog, RaftLogKeys.Entry(5, 2)));
        writer.Flush();
        Assert.Equal(6UL, log.LastIndex);
    }

    [Fact]
    public void A_failed_fsync_stops_the_writer_and_leaves_the_view_at_the_durable_state()
    {
        var engine = new InMemoryKvEngine();
        using var writer = new RaftLogWriter(engine);
        var log = DurableRaftLog.Create(writer, 1, Members);
        writer.Flush();
        writer.StageReady(log, ReadyWith(Range(2, 10, 2), new HardState(2, 1, 5)));
        writer.Flush(); // acknowledged: 2..10

        writer.StageReady(log, ReadyWith(Range(11, 20, 2), new HardState(2, 1, 10)));
        engine.FailNextSync();
        Assert.Throws<StorageFailureException>(() => writer.Flush());
        Assert.True(writer.IsFailed);
        Assert.Equal(10UL, log.LastIndex);
        Assert.Equal(new HardState(2, 1, 5), log.HardState);
        Assert.Throws<InvalidOperationException>(() => writer.StageHardState(log, new HardState(3, 0, 5)));
        Assert.Throws<InvalidOperationException>(() => writer.Flush());

        // The batch whose fsync failed may or may not survive the crash; either way it is whole or absent.
        engine.SimulateCrash(survivingUnsyncedBatches: 0);
        var recovered = DurableRaftLog.Open(engine, 1);
        Assert.Equal(10UL, recovered.LastIndex);
        Assert.Equal(new HardState(2, 1, 5), recovered.HardState);
        Assert.Equal(Range(2, 10, 2).Select(e => e.Data.ToArray()), recovered.Entries(2, 11, ulong.MaxValue).Select(e => e.Data.ToArray()));
    }

    [Fact]
    public void The_failed_batch_surviving_the_crash_recovers_whole()
    {
        var engine = new InMemoryKvEngine();
        using (var writer = new RaftLogWriter(engine))
        {
            var log = DurableRaftLog.Create(writer, 1, Members);
            writer.Flush();
            writer.StageReady(log, ReadyWith(Range(2, 10, 2), new HardState(2, 1, 5)));
            engine.FailNextSync();
            Assert.Throws<StorageFailureException>(() => writer.Flush());
        }

        engine.SimulateCrash(survivingUnsyncedBatches: 1);
        var recovered = DurableRaftLog.Open(engine, 1);
        Assert.Equal(10UL, recovered.LastIndex);
        Assert.Equal(new HardState(2, 1, 5), recovered.HardState);
        Assert.False(recovered.Recovery.RepairedTornTail);
    }

    [Fact]
    public void A_torn_last_write_is_dropped_and_every_acknowledged_entry_survives()
    {
        var engine = new InMemoryKvEngine();
        using var writer = new RaftLogWriter(engine);
        var log = DurableRaftLog.Create(writer, 3, Members);
        writer.Flush();
        writer.StageReady(log, ReadyWith(Range(2, 8, 2), new HardState(2, 2, 6)));
        writer.Flush(); // acknowledged
        var durableState = engine.Get(KvColumn.RaftLog, RaftLogKeys.GroupRecord(3, RaftLogKeys.StateKind))!;

        // The next write was torn by a crash: its first entries reached the disk, the last one only partly, and the
        // state record (written after the entries) not at all.
        writer.StageReady(log, ReadyWith(Range(9, 12, 3), new HardState(3, 1, 6)));
        writer.Flush();
        using (var tear = engine.CreateBatch())
        {
            var newest = RaftLogKeys.Entry(3, 12);
            tear.Put(KvColumn.RaftLog, newest, engine.Get(KvColumn.RaftLog, newest)!.AsSpan(0, 6));
            tear.Put(KvColumn.RaftLog, RaftLogKeys.GroupRecord(3, RaftLogKeys.StateKind), durableState);
            engine.Write(tear, sync: true);
        }

        var recovered = DurableRaftLog.Open(engine, 3);
        Assert.True(recovered.Recovery.RepairedTornTail);
        Assert.Equal(4, recovered.Recovery.TornEntriesDropped);
        Assert.Equal(1, recovered.Recovery.CorruptTornRecords);
        Assert.Equal(8UL, recovered.LastIndex);
        Assert.Equal(new HardState(2, 2, 6), recovered.HardState);
        Assert.Equal(7, recovered.Entries(2, 9, ulong.MaxValue).Count);
        Assert.Null(engine.Get(KvColumn.RaftLog, RaftLogKeys.Entry(3, 12))); // repaired on disk too
        Assert.False(DurableRaftLog.Open(engine, 3).Recovery.RepairedTornTail);
    }

    [Fact]
    public void A_damaged_entry_the_durable_state_vouches_for_refuses_to_open()
    {
        var engine = new InMemoryKvEngine();
        using var writer = new RaftLogWriter(engine);
        var log = DurableRaftLog.Create(writer, 3, Members);
        writer.Flush();
        writer.StageReady(log, ReadyWith(Range(2, 8, 2), new HardState(2, 2, 6)));
        writer.Flush(); // entry 8 may have been acknowledged: it must never be silently dropped

        var newest = RaftLogKeys.Entry(3, 8);
        var garbled = engine.Get(KvColumn.RaftLog, newest)!;
        garbled[^1] ^= 0x01;
        using (var batch = engine.CreateBatch())
        {
            batch.Put(KvColumn.RaftLog, newest, garbled);
            engine.Write(batch, sync: true);
        }

        var e = Assert.Throws<CorruptionException>(() => DurableRaftLog.Open(engine, 3));
        Assert.Contains("checksum", e.Message);
    }

    [Fact]
    public void A_missing_entry_refuses_to_open()
    {
        var engine = new InMemoryKvEngine();
        using var writer = new RaftLogWriter(engine);
        var log = DurableRaftLog.Create(writer, 3, Members);
        writer.Flush();
        writer.StageReady(log, ReadyWith(Range(2, 8, 2), new HardState(2, 2, 6)));
        writer.Flush();
        using (var batch = engine.CreateBatch())
        {
            batch.Delete(KvColumn.RaftLog, RaftLogKeys.Entry(3, 5));
            engine.Write(batch, sync: true);
        }

        Assert.Throws<CorruptionException>(() => DurableRaftLog.Open(engine, 3));
    }

    [Fact]
    public void Corruption_behind_an_open_log_is_detected_on_read_and_never_served()
    {
        var engine = new InMemoryKvEngine();
        using var writer = new RaftLogWriter(engine);
        var log = DurableRaftLog.Create(writer, 4, Members, maxCachedEntries: 2);
        writer.Flush();
        writer.StageReady(log, ReadyWith(Range(2, 30, 1), new HardState(1, 1, 20)));
        writer.Flush();

        // Entry 5 is no longer cached: bit rot under it, then a value that belongs to another key (misdirected write).
        var key5 = RaftLogKeys.Entry(4, 5);
        var rotten = engine.Get(KvColumn.RaftLog, key5)!;
        rotten[RecordCodec.Overhead] ^= 0x40;
        using (var batch = engine.CreateBatch())
        {
            batch.Put(KvColumn.RaftLog, key5, rotten);
            batch.Put(KvColumn.RaftLog, RaftLogKeys.Entry(4, 7), engine.Get(KvColumn.RaftLog, RaftLogKeys.Entry(4, 6))!);
            engine.Write(batch, sync: true);
        }

        Assert.Throws<CorruptionException>(() => log.Entries(3, 6, ulong.MaxValue));
        Assert.Throws<CorruptionException>(() => log.Entries(7, 8, ulong.MaxValue));
        Assert.Equal(6UL, log.Entries(6, 7, ulong.MaxValue)[0].Index); // intact records still read
        Assert.Equal(30UL, log.Entries(29, 31, ulong.MaxValue)[^1].Index); // cached
    }

    [Fact]
    public void A_snapshot_whose_data_is_damaged_is_not_sent()
    {
        var engine = new InMemoryKvEngine();
        using var writer = new RaftLogWriter(engine);
        var log = DurableRaftLog.Create(writer, 4, Members);
        writer.Flush();
        writer.StageReady(log, ReadyWith(Range(2, 10, 1), new HardState(1, 1, 10)));
        writer.Flush();
        writer.StageCompaction(log, 8, Members, new byte[] { 1, 2, 3, 4 });
        writer.Flush();
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, log.Snapshot().Data.ToArray());

        var key = RaftLogKeys.GroupRecord(4, RaftLogKeys.SnapshotDataKind);
        var record = engine.Get(KvColumn.RaftLog, key)!;
        record[^2] ^= 0xFF;
        using (var batch = engine.CreateBatch())
        {
            batch.Put(KvColumn.RaftLog, key, record);
            engine.Write(batch, sync: true);
        }

        Assert.Throws<CorruptionException>(() => log.Snapshot());
    }

    [Fact]
    public void Groups_never_see_each_others_records()
    {
        var engine = new InMemoryKvEngine();
        using var writer = new RaftLogWriter(engine);
        var a = DurableRaftLog.Create(writer, 1, Members, maxCachedEntries: 1);
        var b = DurableRaftLog.Create(writer, 2, Members, maxCachedEntries: 1);
        writer.Flush();
        writer.StageReady(a, ReadyWith(Range(2, 9, 1), new HardState(1, 0, 9)));
        writer.StageReady(b, ReadyWith(Range(2, 5, 7), new HardState(7, 0, 5)));
        writer.Flush();
        writer.StageCompaction(a, 9, Members, []); // a's whole log compacted: b must be untouched
        writer.Flush();
        Assert.Equal(4, b.Entries(2, 6, ulong.MaxValue).Count);
        Assert.All(DurableRaftLog.Open(engine, 2).Entries(2, 6, ulong.MaxValue), e => Assert.Equal(7UL, e.Term));
        Assert.Equal(9UL, DurableRaftLog.Open(engine, 1).LastIndex);
    }
}
