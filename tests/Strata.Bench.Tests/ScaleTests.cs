using System.Text;
using Strata.Api.V1;
using Strata.Bench.Scale;
using Strata.Bench.Targets;
using Strata.Bench.Workloads;
using Strata.Client;
using Strata.Server;

namespace Strata.Bench.Tests;

/// <summary>
/// The scale mode: its placement puts every object in exactly one load batch of one bucket; a run loads exactly the
/// objects it says (checked by listing every directory of every bucket), reads them at N/10 and N without a miss, and
/// on RocksDB measures the bytes on disk; a read of an object that was never loaded is a NotFound error, so a lost
/// object cannot pass unseen; and the disk walk counts what is there.
/// </summary>
public sealed class ScaleTests : InMemoryNodeTests
{
    private static readonly BenchOptions Small = new()
    {
        Workload = BenchWorkload.Scale,
        Objects = 2_000,
        ScaleBuckets = 3,
        Directories = 7,
        LoadParallelism = 4,
        Concurrency = 4,
        Warmup = TimeSpan.Zero,
        Duration = TimeSpan.FromMilliseconds(300),
        ProgressInterval = TimeSpan.FromMilliseconds(100),
    };

    [Theory]
    [InlineData(0, 2_000, 3, 100)]
    [InlineData(7, 12_345, 8, 100)]
    [InlineData(200, 2_000, 1, 1_000)]
    [InlineData(5, 6, 4, 10)]
    [InlineData(10, 10, 4, 10)]
    public void Every_object_of_a_range_is_in_exactly_one_batch_of_its_own_bucket(int from, int to, int buckets, int batchSize)
    {
        var catalog = new ScaleCatalog("b", to, buckets, directories: 5);
        var seen = new int[to];
        foreach ((string bucket, int[] indexes) in catalog.Batches(from, to, batchSize))
        {
            Assert.InRange(indexes.Length, 1, batchSize);
            Assert.True(indexes.SequenceEqual(indexes.Order()), "a batch is in ascending order");
            foreach (int index in indexes)
            {
                Assert.Equal(bucket, catalog.BucketOf(index));
                seen[index]++;
            }
        }

        for (int i = 0; i < to; i++)
        {
            Assert.True(seen[i] == (i >= from ? 1 : 0), $"object {i} is in {seen[i]} batches");
        }
    }

    [Fact]
    public async Task A_run_loads_exactly_its_objects_and_reads_them_at_a_tenth_and_at_all_without_a_miss()
    {
        await using var target = new StrataTarget(Client);
        // On a clock its readings move: each 300 ms read window holds reads however loaded the machine.
        var run = new ScaleRun(target, Small, "scale-test", "in-memory node", "none", replicas: 1, measureDisk: null, time: new SteppingClock(TimeSpan.FromMilliseconds(1)));

        ScaleResult result = await run.RunAsync();

        Assert.Equal(2_000, result.Objects);
        Assert.Equal(200, result.Tenth);
        Assert.Collection(result.Loads,
            first => Assert.Equal((0L, 200L), (first.From, first.To)),
            second => Assert.Equal((200L, 2_000L), (second.From, second.To)));

        // 200 objects over 3 buckets in batches of at most 1,000: one batch per bucket; then 1,800 more, one per bucket again.
        Assert.Equal(3, result.Loads[0].Transactions);
        Assert.Equal(3, result.Loads[1].Transactions);
        Assert.Equal(result.Loads.Sum(l => l.Transactions), result.Loads.Sum(l => l.Transaction.Count));
        Assert.Empty(result.LoadErrorsByKind);
        foreach (BenchResult reads in new[] { result.ReadsAtTenth, result.ReadsAtFull })
        {
            Assert.True(reads.Operations > 0, $"no reads at {reads.TargetName}");
            Assert.Equal(0, reads.Errors);
            Assert.Equal(BenchWorkload.Scale, reads.Workload);
        }

        Assert.Equal("N/10 = 200", result.ReadsAtTenth.TargetName);
        Assert.Equal("N = 2,000", result.ReadsAtFull.TargetName);
        Assert.Null(result.DiskAtFull);
        Assert.Null(result.BytesPerObjectPerReplica);

        // Exactly the catalog's objects are there: each bucket's whole subtree listed to its end.
        var listed = new HashSet<(string Bucket, string Path)>();
        foreach (string bucket in run.Catalog.Buckets)
        {
            await foreach (Entry entry in Client.ListAllAsync(new ListRequest { Bucket = bucket, Delimiter = "", Limit = 1_000 }))
            {
                if (entry.Kind == EntryKind.Object)
                {
                    Assert.True(listed.Add((bucket, entry.Path)), $"{entry.Path} listed twice");
                }
            }
        }

        var expected = Enumerable.Range(0, Small.Objects).Select(i => (run.Catalog.BucketOf(i), run.Catalog.Objects.PathOf(i))).ToHashSet();
        Assert.True(expected.SetEquals(listed), $"listed {listed.Count} objects, expected {expected.Count}");
    }

    [Fact]
    public async Task Reads_of_objects_never_loaded_are_not_found_errors()
    {
        await using var target = new StrataTarget(Client);
        var catalog = new ScaleCatalog("scale-missing", 100, 2, 3);
        foreach (string bucket in catalog.Buckets)
        {
            await target.CreateBucketAsync(bucket, CancellationToken.None);
        }

        var workload = new ScaleReadsWorkload(target, Small, catalog, 100, new PreloadInfo(100, 0, 0));
        BenchResult result = await new BenchRunner(workload, Small, time: new SteppingClock(TimeSpan.FromMilliseconds(1))).RunAsync("scale-missing", "test");

        Assert.True(result.Operations > 0);
        Assert.Equal(result.Operations, result.Errors);
        Assert.Equal(result.Errors, result.ErrorsByKind["NotFound"]);
    }

    [Fact]
    public async Task On_rocksdb_the_bytes_on_disk_are_measured_after_each_load()
    {
        string directory = Directory.CreateTempSubdirectory("strata-scale-").FullName;
        try
        {
            await using StrataServer server = await StrataServer.StartAsync(new StrataServerOptions { DataDirectory = directory, Port = 0 });
            using StrataClient client = StrataClient.Connect(server.Address, new StrataClientOptions { Retry = RetryPolicy.None });
            await using var target = new StrataTarget(client);
            var run = new ScaleRun(target, Small with { Objects = 1_000 }, "scale-disk", "rocksdb node", "fsync", replicas: 1,
                () => DiskUsage.Measure([server.DataDirectory]));

            ScaleResult result = await run.RunAsync();

            DiskUsage tenth = Assert.IsType<DiskUsage>(result.DiskAtTenth);
            DiskUsage full = Assert.IsType<DiskUsage>(result.DiskAtFull);
            Assert.True(tenth.TotalBytes > 0 && tenth.Files > 0, tenth.ToString());
            Assert.True(full.TotalBytes > tenth.TotalBytes, $"{full} after 1,000 objects is not more than {tenth} after 100");
            Assert.InRange(full.TableBytes, 0, full.TotalBytes);
            Assert.Equal(Math.Round(full.TotalBytes / 1_000.0, 1), result.BytesPerObjectPerReplica);
            Assert.Equal(0, result.ReadsAtFull.Errors);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void The_disk_walk_sums_every_file_and_the_sorted_tables_apart_and_a_missing_directory_is_empty()
    {
        string root = Directory.CreateTempSubdirectory("strata-du-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "a", "nested"));
            File.WriteAllBytes(Path.Combine(root, "a", "000012.sst"), new byte[1_000]);
            File.WriteAllBytes(Path.Combine(root, "a", "000013.log"), new byte[300]);
            File.WriteAllBytes(Path.Combine(root, "a", "nested", "000014.sst"), new byte[20]);
            File.WriteAllText(Path.Combine(root, "a", "MANIFEST-000001"), "xyz", Encoding.ASCII);

            DiskUsage usage = DiskUsage.Measure([Path.Combine(root, "a"), Path.Combine(root, "missing")]);

            Assert.Equal(new DiskUsage(2, 4, 1_323, 1_020), usage);
            Assert.Equal(441.0, usage.BytesPerObjectPerReplica(objects: 1, replicas: 3));
            Assert.Equal(340.0, usage.TableBytesPerObjectPerReplica(objects: 1, replicas: 3));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void The_report_states_ingest_reads_at_both_sizes_growth_and_disk()
    {
        BenchResult Reads(string name, double p99) => new()
        {
            Workload = BenchWorkload.Scale, Mode = LoadMode.Closed, Options = Small, Bucket = "b", Target = "t", TargetName = name,
            StartedUtc = "2026-11-26T00:00:00Z", Machine = MachineInfo.Current(), Preload = new PreloadInfo(0, 0, 0), WarmupOperations = 0,
            MeasuredSeconds = 1, ElapsedSeconds = 1, Operations = 10, Successes = 10, Conflicts = 0, Errors = 0, Throughput = 10,
            Latency = new LatencySummary(10, 1, 1, 1, p99, p99, p99), ByOperation = [], ErrorsByKind = new Dictionary<string, long>(), Timeline = [],
        };
        var result = new ScaleResult
        {
            Objects = 1_000, Tenth = 100, Buckets = 2, Directories = 5, Replicas = 3, Target = "cluster", Durability = "majority",
            Machine = MachineInfo.Current(), StartedUtc = "2026-11-26T00:00:00Z",
            Loads = [new LoadPhase(0, 100, 1, 100, 1, LatencySummary.Empty, []), new LoadPhase(100, 1_000, 2, 450, 2, LatencySummary.Empty, [])],
            IngestPerSecond = 333.3, LoadErrorsByKind = new Dictionary<string, long> { ["Unavailable"] = 2 },
            ReadsAtTenth = Reads("N/10 = 100", 2), ReadsAtFull = Reads("N = 1,000", 3), P50Growth = 1, P99Growth = 1.5,
            DiskAtTenth = new DiskUsage(3, 9, 30_000, 3_000), DiskAtFull = new DiskUsage(3, 12, 600_000, 90_000),
            BytesPerObjectPerReplica = 200, TableBytesPerObjectPerReplica = 30,
        };

        string markdown = ScaleReport.ToMarkdown(result, "strata bench -w scale");

        Assert.Contains("| 0 → 100 | 1 | 100 | 1 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| **all 1,000** | 3 | **333** |", markdown, StringComparison.Ordinal);
        Assert.Contains("p99 **1.5×**", markdown, StringComparison.Ordinal);
        Assert.Contains("| 1,000 | 3 | 12 | 600,000 | 200.0 | 90,000 | 30.0 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| 100 | 3 | 9 | 30,000 | 100.0 | 3,000 | 10.0 |", markdown, StringComparison.Ordinal);
        Assert.Contains("Unavailable 2", markdown, StringComparison.Ordinal);
        Assert.Contains("3 replicas", markdown, StringComparison.Ordinal);
        Assert.Contains("Not measured", ScaleReport.ToMarkdown(result with { DiskAtFull = null, DiskAtTenth = null, Replicas = null }), StringComparison.Ordinal);
    }

    [Fact]
    public void The_scale_mode_needs_ten_objects_and_is_not_a_plain_workload()
    {
        Assert.Throws<ArgumentException>(() => (Small with { Objects = 9 }).Validate());
        Assert.Throws<ArgumentException>(() => (Small with { ScaleBuckets = 0 }).Validate());
        Assert.Throws<ArgumentException>(() => (Small with { LoadParallelism = 0 }).Validate());
        Assert.Throws<ArgumentException>(() => Workload.Create(new StrataTarget(Client), Small, "b"));
    }
}
