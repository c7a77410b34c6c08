using Xunit.Abstractions;

namespace Strata.Storage.Tests;

/// <summary>
/// Metamorphic test: the same random operations run against <see cref="RocksDbEngine"/> and
/// <see cref="InMemoryKvEngine"/> must give the same answers: point reads, snapshots, and cursors walked in both
/// directions with random seeks. The RocksDB engine is also closed and reopened now and then.
/// </summary>
/// <remarks>
/// Knobs (environment): <c>STRATA_STORAGE_MODEL_SEED=n</c> replays one seed; <c>STRATA_STORAGE_MODEL_SEEDS=n</c>
/// runs n seeds (default 4); <c>STRATA_STORAGE_MODEL_STEPS=n</c> sets the steps per seed (default 400).
/// A failure message starts with the seed.
/// </remarks>
public sealed class ModelBasedEngineTests(ITestOutputHelper output)
{
    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var value) ? value : fallback;

    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        if (Environment.GetEnvironmentVariable("STRATA_STORAGE_MODEL_SEED") is { } replay && int.TryParse(replay, out var seed))
        {
            data.Add(seed);
            return data;
        }

        for (var i = 0; i < EnvInt("STRATA_STORAGE_MODEL_SEEDS", 4); i++)
        {
            data.Add(1000 + i);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RocksDb_and_the_in_memory_engine_agree_on_random_operations(int seed)
    {
        output.WriteLine($"seed {seed} (replay with STRATA_STORAGE_MODEL_SEED={seed})");
        var steps = EnvInt("STRATA_STORAGE_MODEL_STEPS", 400);
        using var directory = new TempDirectory();
        var random = new Random(seed);
        var path = directory.Sub("db");
        var rocks = RocksDbEngine.Open(path, RocksDbEngineContractTests.SmallOptions);
        using var model = new InMemoryKvEngine();
        var snapshots = new List<(IKvSnapshot Rocks, IKvSnapshot Model)>();
        try
        {
            for (var step = 0; step < steps; step++)
            {
                var context = $"seed {seed}, step {step}";
                switch (random.Next(100))
                {
                    case < 45:
                        WriteRandomBatch(random, rocks, model);
                        break;
                    case < 60:
                        CompareGets(random, rocks, model, context);
                        break;
                    case < 85:
                        CompareCursors(random, rocks, model, context);
                        break;
                    case < 92:
                        if (snapshots.Count < 4)
                        {
                            snapshots.Add((rocks.Snapshot(), model.Snapshot()));
                        }
                        else
                        {
                            var index = random.Next(snapshots.Count);
                            CompareCursors(random, snapshots[index].Rocks, snapshots[index].Model, context + " (snapshot)");
                            CompareGets(random, snapshots[index].Rocks, snapshots[index].Model, context + " (snapshot)");
                            snapshots[index].Rocks.Dispose();
                            snapshots[index].Model.Dispose();
                            snapshots.RemoveAt(index);
                        }

                        break;
                    case < 97:
                        var column = RandomColumn(random);
                        Assert.True(Dump(rocks, column) == Dump(model, column), $"{context}: full scans of {column} differ");
                        break;
                    default:
                        // Reopen: a clean close keeps everything, so the model does not change.
                        foreach (var (r, m) in snapshots)
                        {
                            r.Dispose();
                            m.Dispose();
                        }

                        snapshots.Clear();
                        rocks.Dispose();
                        rocks = RocksDbEngine.Open(path, RocksDbEngineContractTests.SmallOptions);
                        break;
                }
            }

            foreach (var column in new[] { KvColumn.Data, KvColumn.RaftLog, KvColumn.Local })
            {
                Assert.True(Dump(rocks, column) == Dump(model, column), $"seed {seed}: final contents of {column} differ");
            }
        }
        finally
        {
            foreach (var (r, m) in snapshots)
            {
                r.Dispose();
                m.Dispose();
            }

            rocks.Dispose();
        }
    }

    /// <summary>Keys from a tiny alphabet, lengths 0-3, so that writes, deletes and bounds collide often.</summary>
    private static byte[] RandomKey(Random random)
    {
        byte[] alphabet = [0x00, 0x01, 0x7F, 0x80, 0xFF];
        return [.. Enumerable.Range(0, random.Next(0, 4)).Select(_ => alphabet[random.Next(alphabet.Length)])];
    }

    private static KvColumn RandomColumn(Random random) => random.Next(10) switch
    {
        < 6 => KvColumn.Data,
        < 8 => KvColumn.RaftLog,
        _ => KvColumn.Local,
    };

    private static void WriteRandomBatch(Random random, IKvEngine rocks, IKvEngine model)
    {
        using var rocksBatch = rocks.CreateBatch();
        using var modelBatch = model.CreateBatch();
        var operations = random.Next(0, 6);
        for (var i = 0; i < operations; i++)
        {
            var column = RandomColumn(random);
            var key = RandomKey(random);
            switch (random.Next(10))
            {
                case < 6:
                    var value = new byte[random.Next(0, 12)];
                    random.NextBytes(value);
                    rocksBatch.Put(column, key, value);
                    modelBatch.Put(column, key, value);
                    break;
                case < 9:
                    rocksBatch.Delete(column, key);
                    modelBatch.Delete(column, key);
                    break;
                default:
                    var other = RandomKey(random);
                    var (lower, upper) = KeyOrder.Compare(key, other) <= 0 ? (key, other) : (other, key);
                    rocksBatch.DeleteRange(column, lower, upper);
                    modelBatch.DeleteRange(column, lower, upper);
                    break;
            }
        }

        Assert.Equal(modelBatch.Count, rocksBatch.Count);
        var sync = random.Next(4) == 0;
        rocks.Write(rocksBatch, sync);
        model.Write(modelBatch, sync);
    }

    private static void CompareGets(Random random, IKvReader rocks, IKvReader model, string context)
    {
        for (var i = 0; i < 5; i++)
        {
            var column = RandomColumn(random);
            var key = RandomKey(random);
            var expected = model.Get(column, key);
            var actual = rocks.Get(column, key);
            Assert.True(
                expected is null ? actual is null : actual is not null && expected.AsSpan().SequenceEqual(actual),
                $"{context}: Get({column}, {Convert.ToHexString(key)}) = {Show(actual)}, model says {Show(expected)}");
        }
    }

    private static void CompareCursors(Random random, IKvReader rocks, IKvReader model, string context)
    {
        var column = RandomColumn(random);
        var lower = random.Next(3) == 0 ? [] : RandomKey(random);
        var upper = random.Next(3) == 0 ? [] : RandomKey(random);
        using var r = rocks.Scan(column, lower, upper);
        using var m = model.Scan(column, lower, upper);
        var trace = $"{context}: cursor on {column} [{Convert.ToHexString(lower)}, {Convert.ToHexString(upper)})";
        for (var move = 0; move < 12; move++)
        {
            string description;
            var choice = random.Next(m.Valid ? 6 : 4);
            switch (choice)
            {
                case 0:
                    r.SeekToFirst();
                    m.SeekToFirst();
                    description = "SeekToFirst";
                    break;
                case 1:
                    r.SeekToLast();
                    m.SeekToLast();
                    description = "SeekToLast";
                    break;
                case 2:
                    var target = RandomKey(random);
                    r.Seek(target);
                    m.Seek(target);
                    description = $"Seek({Convert.ToHexString(target)})";
                    break;
                case 3:
                    var before = RandomKey(random);
                    r.SeekForPrev(before);
                    m.SeekForPrev(before);
                    description = $"SeekForPrev({Convert.ToHexString(before)})";
                    break;
                case 4:
                    r.Next();
                    m.Next();
                    description = "Next";
                    break;
                default:
                    r.Prev();
                    m.Prev();
                    description = "Prev";
                    break;
            }

            trace += " " + description;
            var expected = m.Valid ? $"{Convert.ToHexString(m.Key)}={Convert.ToHexString(m.Value)}" : "invalid";
            var actual = r.Valid ? $"{Convert.ToHexString(r.Key)}={Convert.ToHexString(r.Value)}" : "invalid";
            Assert.True(expected == actual, $"{trace}: RocksDB at {actual}, model at {expected}");
        }
    }

    private static string Dump(IKvReader reader, KvColumn column)
    {
        using var cursor = reader.Scan(column, [], []);
        var parts = new List<string>();
        for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
        {
            parts.Add($"{Convert.ToHexString(cursor.Key)}={Convert.ToHexString(cursor.Value)}");
        }

        return string.Join(" ", parts);
    }

    private static string Show(byte[]? value) => value is null ? "null" : Convert.ToHexString(value);
}
