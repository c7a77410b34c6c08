using System.Globalization;
using Strata.Bench.Targets;

namespace Strata.Bench.Workloads;

/// <summary>
/// (f) Rename of large directories: for each size N of <see cref="BenchOptions.RenameSizes"/>, a directory
/// <c>rename/n{N}/d00000</c> of N entries is bulk-loaded (transactions of
/// <see cref="DirectoryListingWorkload.LoadBatchSize"/> puts); then one client renames the directories in turn, each
/// back and forth between its two names, and the runner records every rename's latency under its directory's size.
/// On Strata a directory is one entry, its children keyed by its id, so the latency must be the same for every N (the
/// report's ratio to the smallest N is ≈ 1); a key-value peer moves N keys.
/// </summary>
/// <remarks>
/// One client, one rename at a time (<see cref="BenchOptions.Concurrency"/> is 1): renames of one directory cannot
/// overlap, and renames of different sizes do not slow each other, so every size sees the same machine. A rename that
/// does not happen (source missing, destination taken) is an error.
/// </remarks>
internal sealed class DirectoryRenameWorkload : Workload
{
    private readonly Sized[] _directories;

    public DirectoryRenameWorkload(BenchTarget target, BenchOptions options, string bucket, TimeProvider time)
        : base(target, options, bucket, time)
    {
        _directories = [.. options.RenameSizes.Order().Select(n =>
        {
            var catalog = new ObjectCatalog(string.Create(CultureInfo.InvariantCulture, $"rename/n{n:D9}"), n, 1, DirectoryListingWorkload.LoadBatchSize);
            string home = catalog.DirectoryOf(0);
            return new Sized(n, catalog, home, string.Create(CultureInfo.InvariantCulture, $"rename/n{n:D9}/moved"));
        })];
    }

    public override BenchWorkload Kind => BenchWorkload.DirectoryRename;

    /// <summary>Per size, ascending: the entries, and the directory's two names (where it is loaded, where it moves to).</summary>
    public IReadOnlyList<(int Entries, string Home, string Away)> Directories => [.. _directories.Select(d => (d.Entries, d.Home, d.Away))];

    public override async Task<PreloadInfo> PrepareAsync(IProgress<BenchProgress>? progress, CancellationToken cancellationToken)
    {
        await CreateBucketAsync(cancellationToken).ConfigureAwait(false);
        long started = Time.GetTimestamp();
        long entries = 0;
        foreach (Sized directory in _directories)
        {
            PreloadInfo loaded = await directory.Catalog.LoadAsync(Store, Bucket, Time, progress, cancellationToken).ConfigureAwait(false);
            entries += loaded.Objects;
        }

        double seconds = Time.GetElapsedTime(started).TotalSeconds;
        return new PreloadInfo(entries, Math.Round(seconds, 3), seconds > 0 ? Math.Round(entries / seconds, 1) : 0);
    }

    public override IWorkloadWorker CreateWorker(int index) => new Worker(this, Target.StoreOf(index));

    private sealed record Sized(int Entries, ObjectCatalog Catalog, string Home, string Away);

    private sealed class Worker(DirectoryRenameWorkload workload, IBenchStore store) : IWorkloadWorker
    {
        private readonly bool[] _away = new bool[workload._directories.Length];
        private long _turn = -1;

        private int Current => (int)(_turn % workload._directories.Length);

        public long? DirectorySize => _turn < 0 ? null : workload._directories[Current].Entries;

        public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public OperationKind NextOperation()
        {
            _turn++;
            return OperationKind.Rename;
        }

        public async Task ExecuteAsync(OperationKind kind, CancellationToken cancellationToken)
        {
            int current = Current;
            Sized directory = workload._directories[current];
            (string source, string destination) = _away[current] ? (directory.Away, directory.Home) : (directory.Home, directory.Away);
            RenameOutcome outcome = await store.RenameDirectoryAsync(workload.Bucket, source, destination, cancellationToken).ConfigureAwait(false);
            if (outcome != RenameOutcome.Renamed)
            {
                throw new BenchOperationException(outcome.ToString(), $"rename of '{source}' to '{destination}': {outcome}");
            }

            _away[current] = !_away[current];
        }
    }
}
