using Strata.Bench.Scale;
using Strata.Bench.Targets;

namespace Strata.Bench.Workloads;

/// <summary>
/// The read phase of the scale mode: stat of objects chosen uniformly among the first <paramref name="loaded"/> objects
/// of <paramref name="catalog"/> (all of them are loaded), so every object is equally likely and the working set is
/// the whole data set, not a cached hot head. The load happened before; <see cref="PrepareAsync"/> only reports it.
/// </summary>
internal sealed class ScaleReadsWorkload(BenchTarget target, BenchOptions options, ScaleCatalog catalog, int loaded, PreloadInfo load) : IWorkload
{
    public BenchWorkload Kind => BenchWorkload.Scale;

    public Task<PreloadInfo> PrepareAsync(IProgress<BenchProgress>? progress, CancellationToken cancellationToken) => Task.FromResult(load);

    public IWorkloadWorker CreateWorker(int index) =>
        new Worker(catalog, target.StoreOf(index), KeyChooser.Uniform(loaded, Workload.WorkerRandom(options.Seed, index)));

    private sealed class Worker(ScaleCatalog catalog, IBenchStore store, KeyChooser keys) : IWorkloadWorker
    {
        public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public OperationKind NextOperation() => OperationKind.Stat;

        public async Task ExecuteAsync(OperationKind kind, CancellationToken cancellationToken)
        {
            int index = keys.Next();
            string bucket = catalog.BucketOf(index);
            string path = catalog.Objects.PathOf(index);
            _ = await store.GetAsync(bucket, path, cancellationToken).ConfigureAwait(false)
                ?? throw new BenchOperationException("NotFound", $"no entry at '{path}' in bucket '{bucket}'");
        }
    }
}
