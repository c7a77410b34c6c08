namespace Strata.Storage.Tests;

/// <summary>The simulator's extras: crashes that lose unsynced writes, injected fsync failures.</summary>
public sealed class InMemoryKvEngineFaultTests
{
    private static void Put(InMemoryKvEngine engine, byte key, byte value, bool sync)
    {
        using var batch = engine.CreateBatch();
        batch.Put(KvColumn.Data, [key], [value]);
        engine.Write(batch, sync);
    }

    private static string Dump(IKvReader reader)
    {
        using var cursor = reader.Scan(KvColumn.Data, [], []);
        var parts = new List<string>();
        for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
        {
            parts.Add($"{cursor.Key[0]}={cursor.Value[0]}");
        }

        return string.Join(",", parts);
    }

    [Fact]
    public void A_crash_keeps_synced_writes_and_loses_unsynced_ones()
    {
        using var engine = new InMemoryKvEngine();
        Put(engine, 1, 1, sync: true);
        Put(engine, 2, 2, sync: false);
        Put(engine, 1, 9, sync: false);
        Assert.Equal("1=9,2=2", Dump(engine));
        Assert.Equal(2, engine.UnsyncedBatchCount);

        engine.SimulateCrash();

        Assert.Equal("1=1", Dump(engine));
        Assert.Equal(0, engine.UnsyncedBatchCount);
    }

    [Fact]
    public void A_synced_write_makes_every_earlier_write_durable()
    {
        using var engine = new InMemoryKvEngine();
        Put(engine, 1, 1, sync: false);
        Put(engine, 2, 2, sync: false);
        using (var empty = engine.CreateBatch())
        {
            engine.Write(empty, sync: true);
        }

        Put(engine, 3, 3, sync: false);
        engine.SimulateCrash();
        Assert.Equal("1=1,2=2", Dump(engine));
    }

    [Fact]
    public void A_crash_can_keep_a_prefix_of_the_unsynced_batches_each_whole()
    {
        using var engine = new InMemoryKvEngine();
        Put(engine, 1, 1, sync: true);
        for (byte i = 2; i <= 4; i++)
        {
            using var batch = engine.CreateBatch();
            batch.Put(KvColumn.Data, [i], [i]);
            batch.Put(KvColumn.Data, [(byte)(i + 10)], [i]);
            engine.Write(batch, sync: false);
        }

        engine.SimulateCrash(survivingUnsyncedBatches: 2);

        Assert.Equal("1=1,2=2,3=3,12=2,13=3", Dump(engine));
        Assert.Throws<ArgumentOutOfRangeException>(() => engine.SimulateCrash(survivingUnsyncedBatches: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => engine.SimulateCrash(survivingUnsyncedBatches: -1));
    }

    [Fact]
    public void Snapshots_taken_before_a_crash_keep_their_view()
    {
        using var engine = new InMemoryKvEngine();
        Put(engine, 1, 1, sync: false);
        using var snapshot = engine.Snapshot();
        engine.SimulateCrash();
        Assert.Equal("1=1", Dump(snapshot));
        Assert.Equal("", Dump(engine));
    }

    [Fact]
    public void An_injected_fsync_failure_poisons_the_engine_until_the_simulated_restart()
    {
        using var engine = new InMemoryKvEngine();
        Put(engine, 1, 1, sync: true);
        engine.FailNextSync();
        Put(engine, 2, 2, sync: false);
        Assert.Throws<StorageFailureException>(() => Put(engine, 3, 3, sync: true));

        Assert.Throws<StorageFailureException>(() => engine.Get(KvColumn.Data, [1]));
        Assert.Throws<StorageFailureException>(() => engine.Scan(KvColumn.Data, [], []));
        Assert.Throws<StorageFailureException>(() => engine.Snapshot());
        Assert.Throws<StorageFailureException>(() => engine.CreateBatch());
        Assert.Throws<StorageFailureException>(() => Put(engine, 4, 4, sync: false));

        // The batch whose fsync failed counts as unsynced: whether it survives is the crash's choice.
        Assert.Equal(2, engine.UnsyncedBatchCount);
        engine.SimulateCrash(survivingUnsyncedBatches: 1);
        Assert.Equal("1=1,2=2", Dump(engine));
        Put(engine, 5, 5, sync: true);
        Assert.Equal("1=1,2=2,5=5", Dump(engine));
    }

    [Fact]
    public void Crash_controls_refuse_a_disposed_engine()
    {
        var engine = new InMemoryKvEngine();
        engine.Dispose();
        Assert.Throws<ObjectDisposedException>(() => engine.SimulateCrash());
        Assert.Throws<ObjectDisposedException>(() => engine.FailNextSync());
    }
}
