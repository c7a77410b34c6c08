using Strata.Api.V1;
using Strata.Bench.Limits;
using Strata.Bench.Targets;
using Strata.Bench.Workloads;
using Strata.Client;

namespace Strata.Bench.Tests;

/// <summary>
/// Workloads (d) paged listing of a large directory and (f) directory rename by size, end to end against an in-memory
/// node, and the physical-limit probes. Counts are asserted, never speed.
/// </summary>
public sealed class DirectoryWorkloadTests : InMemoryNodeTests
{
    [Fact]
    public async Task Listing_loads_the_directory_and_lists_full_pages_from_all_over_it()
    {
        var options = Shape(new BenchOptions { Workload = BenchWorkload.DirectoryListing, DirectoryEntries = 2_500, PageSize = 100, Concurrency = 2 });
        BenchResult result = await RunAsync(options, "bench-listing");

        Assert.Equal(2_500, result.Preload.Objects);
        Assert.Equal(result.Operations, result.Successes + result.Conflicts + result.Errors);
        Assert.Equal(0, result.Errors);
        OperationResult lists = Assert.Single(result.ByOperation);
        Assert.Equal(OperationKind.List, lists.Operation);
        ListingResult listing = Assert.IsType<ListingResult>(result.Listing);
        Assert.Equal(lists.Successes, listing.Pages);
        Assert.Equal(listing.Pages * 100, listing.Entries);
        Assert.Equal(2_500, listing.DirectoryEntries);
        Assert.Null(result.BySize);

        // The directory really holds every loaded entry, in the order the pages were checked against.
        var names = new List<string>();
        await foreach (Entry entry in Client.ListAllAsync(new ListRequest { Bucket = result.Bucket, Prefix = "listing/d00000/", Delimiter = "/" }))
        {
            names.Add(entry.Path);
        }

        Assert.Equal(2_500, names.Count);
        Assert.Equal("listing/d00000/obj-000000000", names[0].TrimStart('/'));
        Assert.Equal("listing/d00000/obj-000002499", names[^1].TrimStart('/'));
        string markdown = BenchReport.ToMarkdown(result);
        Assert.Contains("entries/s", markdown, StringComparison.Ordinal);
        Assert.Contains("pages of 100 starting uniformly over a directory of 2,500 entries", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listing_counts_a_short_page_as_an_error()
    {
        // Against a target whose listing returns one entry fewer than asked, every page is an error and none is counted as listed.
        var options = Shape(new BenchOptions { Workload = BenchWorkload.DirectoryListing, DirectoryEntries = 300, PageSize = 50, Concurrency = 1 });
        await using var target = new ShortPages(new StrataTarget(Client));
        Workload workload = Workload.Create(target, options, "bench-short-pages");
        BenchResult result = await new BenchRunner(workload, options, time: new SteppingClock(TimeSpan.FromMilliseconds(1))).RunAsync("bench-short-pages", "short pages");

        Assert.True(result.Operations > 0);
        Assert.Equal(result.Operations, result.Errors);
        Assert.Equal(result.Operations, result.ErrorsByKind["ShortPage"]);
        Assert.Equal(0, result.Listing!.Entries);
    }

    [Fact]
    public async Task Rename_reports_one_row_per_directory_size_and_leaves_every_entry_in_place()
    {
        int[] sizes = [40, 4_000];
        var options = Shape(new BenchOptions { Workload = BenchWorkload.DirectoryRename, RenameSizes = sizes, Concurrency = 1 });
        BenchResult result = await RunAsync(options, "bench-rename");

        Assert.Equal(sizes.Sum(), result.Preload.Objects);
        Assert.Equal(0, result.Errors);
        Assert.True(result.Operations >= 2, $"{result.Operations} renames measured");
        IReadOnlyList<DirectorySizeResult> rows = Assert.IsAssignableFrom<IReadOnlyList<DirectorySizeResult>>(result.BySize);
        Assert.Equal(sizes.Select(n => (long)n), rows.Select(r => r.Entries));
        Assert.Equal(result.Operations, rows.Sum(r => r.Operations));
        Assert.Equal(1.0, rows[0].P50VsSmallest);

        // The renames alternate: the sizes' counts differ by at most one (either way: the warm-up may end after either size).
        Assert.InRange(Math.Abs(rows[0].Operations - rows[1].Operations), 0, 1);

        string markdown = BenchReport.ToMarkdown(result);
        Assert.Contains("directories of 40, 4,000 entries renamed in turn", markdown, StringComparison.Ordinal);
        Assert.Contains("| 40 | ", markdown, StringComparison.Ordinal);
        Assert.Contains("| 4,000 | ", markdown, StringComparison.Ordinal);

        // Whichever of its two names each directory is under now, it holds all its entries.
        foreach (int n in sizes)
        {
            long found = 0;
            foreach (string directory in new[] { $"rename/n{n:D9}/d00000", $"rename/n{n:D9}/moved" })
            {
                try
                {
                    await foreach (Entry entry in Client.ListAllAsync(new ListRequest { Bucket = result.Bucket, Prefix = directory + "/", Delimiter = "/" }))
                    {
                        found++;
                    }
                }
                catch (StrataException e) when (e.StatusCode == Grpc.Core.StatusCode.NotFound)
                {
                    // Not under this name at the moment.
                }
            }

            Assert.Equal(n, found);
        }
    }

    [Fact]
    public void Rename_runs_one_client_and_options_are_checked()
    {
        Assert.Throws<ArgumentException>(() => new BenchOptions { Workload = BenchWorkload.DirectoryRename, Concurrency = 2 }.Validate());
        Assert.Throws<ArgumentException>(() => new BenchOptions { Workload = BenchWorkload.DirectoryRename, Concurrency = 1, RenameSizes = [10, 10] }.Validate());
        Assert.Throws<ArgumentException>(() => new BenchOptions { PageSize = 20_000 }.Validate());
        Assert.Throws<ArgumentException>(() => new BenchOptions { DirectoryEntries = 10, PageSize = 100 }.Validate());
        new BenchOptions { Workload = BenchWorkload.DirectoryRename, Concurrency = 1 }.Validate();
    }

    [Fact]
    public async Task Limits_probe_returns_positive_finite_floors_and_the_report_states_the_multiples()
    {
        string directory = Directory.CreateTempSubdirectory("strata-limits-test-").FullName;
        try
        {
            var probe = new LimitsProbeOptions { FsyncSamples = 20, RoundTripSamples = 200, GetSamples = 500, SyncPutSamples = 20, PutSamples = 200 };
            PhysicalLimits limits = await LimitsProbe.MeasureAsync(directory, probe);

            foreach ((FloorLatency floor, int samples) in new[]
            {
                (limits.Fsync, 20), (limits.LoopbackRoundTrip, 200), (limits.RocksDbGet, 500), (limits.RocksDbPutSync, 20), (limits.RocksDbPutNoSync, 200),
            })
            {
                Assert.Equal(samples, floor.Samples);
                Assert.True(double.IsFinite(floor.P50Us) && floor.P50Us > 0, $"p50 {floor.P50Us}");
                Assert.True(floor.P50Us <= floor.P99Us && floor.P99Us <= floor.MaxUs, $"{floor}");
            }

            // The probes clean up after themselves.
            Assert.Empty(Directory.EnumerateFileSystemEntries(directory));

            // Multiples: reads against the round trip, writes against fsync + round trip.
            var options = Shape(new BenchOptions { Workload = BenchWorkload.DirectoryListing, DirectoryEntries = 500, PageSize = 50, Concurrency = 1 });
            BenchResult run = await RunAsync(options, "bench-limits");
            var synthetic = limits with
            {
                Fsync = new FloorLatency(1, 900, 900, 1_900, 2_000),
                LoopbackRoundTrip = new FloorLatency(1, 100, 100, 100, 100),
            };
            LatencySummary stat = new(10, 1, 1, 1, 2, 2, 2);
            LatencySummary create = new(10, 5, 5, 5, 10, 10, 10);
            BenchResult shaped = run with
            {
                ByOperation =
                [
                    new OperationResult(OperationKind.Stat, 10, 10, 0, 0, 10, stat),
                    new OperationResult(OperationKind.Create, 10, 10, 0, 0, 10, create),
                ],
            };
            IReadOnlyList<LimitMultiple> multiples = synthetic.Multiples(shaped);
            Assert.Equal(10, multiples[0].P50Multiple);    // 1 ms over a 0.1 ms round trip
            Assert.Equal(20, multiples[0].P99Multiple);    // 2 ms over 0.1 ms
            Assert.Equal(5, multiples[1].P50Multiple);     // 5 ms over 0.9 + 0.1 ms
            Assert.Equal(5, multiples[1].P99Multiple);     // 10 ms over 1.9 + 0.1 ms

            BenchResult reported = run with { Limits = limits, AgainstLimits = limits.Multiples(run) };
            LimitMultiple list = Assert.Single(reported.AgainstLimits!);
            Assert.Equal(OperationKind.List, list.Operation);
            Assert.Equal("loopback round trip", list.Floor);
            string markdown = BenchReport.ToMarkdown(reported);
            Assert.Contains("Against the machine's limits", markdown, StringComparison.Ordinal);
            Assert.Contains("fsync: 4 KiB write + fdatasync", markdown, StringComparison.Ordinal);
            Assert.Contains("| list | loopback round trip |", markdown, StringComparison.Ordinal);
            Assert.Contains("\"againstLimits\"", BenchReport.ToJson(reported), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static BenchOptions Shape(BenchOptions options) => options with
    {
        Duration = TimeSpan.FromSeconds(1),
        Warmup = TimeSpan.FromMilliseconds(200),
        ProgressInterval = TimeSpan.FromMilliseconds(250),
    };

    private async Task<BenchResult> RunAsync(BenchOptions options, string bucket)
    {
        Workload workload = Workload.Create(new StrataTarget(Client), options, bucket);
        // On a clock its readings move (a rename reads it twice): the window holds about 50 renames or 500 pages
        // however loaded the machine.
        TimeSpan step = options.Workload == BenchWorkload.DirectoryRename ? TimeSpan.FromMilliseconds(10) : TimeSpan.FromMilliseconds(1);
        return await new BenchRunner(workload, options, time: new SteppingClock(step)).RunAsync(bucket, "in-memory test node");
    }

    /// <summary>Strata, except that every listing page loses its last entry.</summary>
    private sealed class ShortPages(StrataTarget inner) : BenchTarget, IBenchStore
    {
        public override string Name => "short-pages";

        public override string Description => "Strata with truncated pages";

        public override string Durability => inner.Durability;

        public override Task CreateBucketAsync(string bucket, CancellationToken cancellationToken) => inner.CreateBucketAsync(bucket, cancellationToken);

        public override IBenchStore StoreOf(int worker) => this;

        public Task<StoredEntry?> GetAsync(string bucket, string path, CancellationToken cancellationToken) => inner.StoreOf(0).GetAsync(bucket, path, cancellationToken);

        public Task<WriteOutcome> PutAsync(string bucket, string path, ObjectAttributes attributes, long? ifGenerationMatch, CancellationToken cancellationToken) =>
            inner.StoreOf(0).PutAsync(bucket, path, attributes, ifGenerationMatch, cancellationToken);

        public async Task<IReadOnlyList<string>> ListAsync(string bucket, string directory, string? startAfter, int limit, CancellationToken cancellationToken) =>
            [.. (await inner.StoreOf(0).ListAsync(bucket, directory, startAfter, limit, cancellationToken)).SkipLast(1)];

        public Task<RenameOutcome> RenameAsync(string bucket, string source, string destination, CancellationToken cancellationToken) =>
            inner.StoreOf(0).RenameAsync(bucket, source, destination, cancellationToken);

        public Task<RenameOutcome> RenameDirectoryAsync(string bucket, string source, string destination, CancellationToken cancellationToken) =>
            inner.StoreOf(0).RenameDirectoryAsync(bucket, source, destination, cancellationToken);

        public Task LoadAsync(string bucket, IReadOnlyList<(string Path, ObjectAttributes Attributes)> entries, CancellationToken cancellationToken) =>
            inner.StoreOf(0).LoadAsync(bucket, entries, cancellationToken);

        protected override ValueTask DisposeCoreAsync() => inner.DisposeAsync();
    }
}
