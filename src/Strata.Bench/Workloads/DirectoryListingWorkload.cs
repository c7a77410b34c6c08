using System.Globalization;
using Strata.Bench.Targets;

namespace Strata.Bench.Workloads;

/// <summary>
/// (d) Paged listing of one large directory: <see cref="BenchOptions.DirectoryEntries"/> entries are bulk-loaded into
/// <c>listing/d00000</c> (transactions of <see cref="LoadBatchSize"/> puts), then every operation lists one page of
/// <see cref="BenchOptions.PageSize"/> entries starting after an entry chosen uniformly with the worker's seeded random
/// source, so pages come from all over the directory rather than from its cached head.
/// </summary>
/// <remarks>
/// A page is checked, not just counted: it must hold exactly the page size of entries, the first being the one right
/// after the start position. A short or misplaced page is an error (<c>ShortPage</c>, <c>WrongPage</c>), so entries
/// listed = successful pages × page size.
/// </remarks>
internal sealed class DirectoryListingWorkload(BenchTarget target, BenchOptions options, string bucket, TimeProvider time)
    : Workload(target, options, bucket, time)
{
    /// <summary>Puts per preload transaction: Strata's limit of operations in one transaction.</summary>
    public const int LoadBatchSize = 1_000;

    private readonly ObjectCatalog _catalog = new("listing", options.DirectoryEntries, 1, LoadBatchSize);

    public override BenchWorkload Kind => BenchWorkload.DirectoryListing;

    /// <summary>The directory listed.</summary>
    public string Directory => _catalog.DirectoryOf(0);

    /// <summary>The path of entry <paramref name="index"/> (entries sort by index).</summary>
    public string PathOf(int index) => _catalog.PathOf(index);

    public override async Task<PreloadInfo> PrepareAsync(IProgress<BenchProgress>? progress, CancellationToken cancellationToken)
    {
        await CreateBucketAsync(cancellationToken).ConfigureAwait(false);
        return await _catalog.LoadAsync(Store, Bucket, Time, progress, cancellationToken).ConfigureAwait(false);
    }

    public override IWorkloadWorker CreateWorker(int index) => new Worker(this, Target.StoreOf(index), WorkerRandom(Options.Seed, index));

    private sealed class Worker(DirectoryListingWorkload workload, IBenchStore store, Random random) : IWorkloadWorker
    {
        public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public OperationKind NextOperation() => OperationKind.List;

        public async Task ExecuteAsync(OperationKind kind, CancellationToken cancellationToken)
        {
            int pageSize = workload.Options.PageSize;

            // The first entry of the page; 0 lists from the start of the directory, any other resumes after its predecessor.
            int first = random.Next(0, workload.Options.DirectoryEntries - pageSize + 1);
            string? startAfter = first == 0 ? null : workload.PathOf(first - 1);
            IReadOnlyList<string> page = await store.ListAsync(workload.Bucket, workload.Directory, startAfter, pageSize, cancellationToken).ConfigureAwait(false);
            if (page.Count != pageSize)
            {
                throw new BenchOperationException("ShortPage", string.Create(CultureInfo.InvariantCulture, $"a page from entry {first} held {page.Count} entries, not {pageSize}"));
            }

            if (page[0] != workload.PathOf(first) || page[^1] != workload.PathOf(first + pageSize - 1))
            {
                throw new BenchOperationException("WrongPage", $"a page from entry {first} ran from '{page[0]}' to '{page[^1]}'");
            }
        }
    }
}
