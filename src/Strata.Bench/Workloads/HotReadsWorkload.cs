using Strata.Bench.Targets;

namespace Strata.Bench.Workloads;

/// <summary>(a) Hot point reads: stat of preloaded objects, keys Zipfian (or uniform).</summary>
internal sealed class HotReadsWorkload(BenchTarget target, BenchOptions options, string bucket, TimeProvider time)
    : Workload(target, options, bucket, time)
{
    private readonly ObjectCatalog _catalog = new("objects", options.Objects, options.Directories);
    private readonly ZipfianDistribution? _zipfian = options.Distribution == KeyDistribution.Zipfian ? new ZipfianDistribution(options.Objects, options.ZipfTheta) : null;

    public override BenchWorkload Kind => BenchWorkload.HotReads;

    public override async Task<PreloadInfo> PrepareAsync(IProgress<BenchProgress>? progress, CancellationToken cancellationToken)
    {
        await CreateBucketAsync(cancellationToken).ConfigureAwait(false);
        return await _catalog.LoadAsync(Store, Bucket, Time, progress, cancellationToken).ConfigureAwait(false);
    }

    public override IWorkloadWorker CreateWorker(int index) => new Worker(this, Target.StoreOf(index), Chooser(_zipfian, Options.Objects, WorkerRandom(Options.Seed, index)));

    private sealed class Worker(HotReadsWorkload workload, IBenchStore store, KeyChooser keys) : IWorkloadWorker
    {
        public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public OperationKind NextOperation() => OperationKind.Stat;

        public async Task ExecuteAsync(OperationKind kind, CancellationToken cancellationToken)
        {
            string path = workload._catalog.PathOf(keys.Next());
            Found(await store.GetAsync(workload.Bucket, path, cancellationToken).ConfigureAwait(false), path);
        }
    }
}
