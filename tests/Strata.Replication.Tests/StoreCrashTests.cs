using System.Globalization;
using System.Text;
using Strata.Consensus;
using Strata.Storage;

namespace Strata.Replication.Tests;

/// <summary>
/// Seeded random runs: proposals, crashes (some in the middle of a failed fsync, with or without the failed batch
/// surviving), restarts. Whatever any node ever applied must end up applied, once and in the same order, everywhere.
/// </summary>
/// <remarks>Three seeds by default; set <c>STRATA_REPLICATION_SEEDS=n</c> to run n seeds (long mode).</remarks>
public sealed class StoreCrashTests
{
    public static IEnumerable<object[]> Seeds()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("STRATA_REPLICATION_SEEDS"), CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 3;
        return Enumerable.Range(1, count).Select(seed => new object[] { seed });
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_crashes_never_lose_an_applied_entry(int seed)
    {
        var rng = new Random(seed);
        using var c = new StoreCluster(nodes: 3, groups: 20, (id, o) => o with
        {
            RandomSeed = (ulong)seed * 7919 + id,
            CompactionThreshold = (ulong)rng.Next(4, 40),
            MaxCachedEntriesPerGroup = rng.Next(1, 16),
        });
        var applied = new HashSet<(ulong Group, string Command)>(); // anything any node ever applied: committed
        var downSince = new Dictionary<ulong, int>();
        var proposals = 0;
        var crashes = 0;

        void Record()
        {
            foreach (var n in c.NodeIds.Where(n => !c.Down.Contains(n)))
            {
                foreach (var g in c.GroupIds)
                {
                    foreach (var command in c.Machines[n].Commands(g))
                    {
                        applied.Add((g, command));
                    }
                }
            }
        }

        for (var step = 0; step < 400; step++)
        {
            // Proposals to whoever believes it leads (a stale leader's may be lost: they were never acknowledged).
            for (var i = rng.Next(0, 4); i > 0; i--)
            {
                var g = c.GroupIds[rng.Next(c.GroupIds.Length)];
                var leader = c.NodeIds.Where(n => !c.Down.Contains(n) && c[n].Find(g)!.Role == StateRole.Leader).ToList();
                if (leader.Count > 0)
                {
                    c[leader[rng.Next(leader.Count)]].Propose(g, Encoding.UTF8.GetBytes($"s{seed}-{proposals++}"));
                }
            }

            foreach (var n in c.NodeIds)
            {
                if (c.Down.Contains(n))
                {
                    continue;
                }

                try
                {
                    c.StepNode(n);
                }
                catch (StorageFailureException)
                {
                    // The fsync failed: the process dies; the failed batch may or may not have reached the disk.
                    Record();
                    var engine = (InMemoryKvEngine)c.Engine(n);
                    c.Crash(n, rng.Next(0, engine.UnsyncedBatchCount + 1));
                    downSince[n] = step;
                    crashes++;
                }
            }

            Record();
            if (downSince.Count == 0 && (rng.Next(40) == 0 || (step == 200 && crashes == 0)))
            {
                var victim = c.NodeIds[rng.Next(c.NodeIds.Length)];
                if (rng.Next(2) == 0)
                {
                    ((InMemoryKvEngine)c.Engine(victim)).FailNextSync(); // dies at its next write
                }
                else
                {
                    c.Crash(victim);
                    downSince[victim] = step;
                    crashes++;
                }
            }

            foreach (var (n, since) in downSince.ToList())
            {
                if (step - since > rng.Next(10, 60))
                {
                    c.StartNode(n);
                    downSince.Remove(n);
                }
            }
        }

        foreach (var n in downSince.Keys)
        {
            c.StartNode(n);
        }

        foreach (var n in c.NodeIds)
        {
            ((InMemoryKvEngine)c.Engine(n)).SimulateCrash(((InMemoryKvEngine)c.Engine(n)).UnsyncedBatchCount); // disarm
        }

        Assert.True(applied.Count > 50, $"only {applied.Count} commands applied: the run tested little");
        Assert.True(crashes > 0, "no crash happened: the run tested little");
        c.RunUntil(() => applied.All(p => c.NodeIds.All(n => c.Machines[n].Commands(p.Group).Contains(p.Command))), 800,
            $"seed {seed}: every applied command applied on every node");

        // State machine safety: the nodes' histories of a group are prefixes of one another; the last proposals drain.
        foreach (var g in c.GroupIds)
        {
            var histories = c.NodeIds.Select(n => c.Machines[n].Commands(g)).OrderBy(h => h.Count).ToList();
            Assert.True(histories[0].SequenceEqual(histories[2].Take(histories[0].Count)), $"seed {seed}: group {g} histories diverge");
            Assert.True(histories[1].SequenceEqual(histories[2].Take(histories[1].Count)), $"seed {seed}: group {g} histories diverge");
        }

        c.RunUntil(() => c.GroupIds.All(g => c.NodeIds.All(n => c.Machines[n].Commands(g).SequenceEqual(c.Machines[1].Commands(g)))), 200,
            $"seed {seed}: every node applies the same history");
        foreach (var g in c.GroupIds)
        {
            var reference = c.Machines[1].Commands(g);
            Assert.Equal(reference.Count, reference.Distinct().Count()); // each proposal applied at most once
        }
    }
}
