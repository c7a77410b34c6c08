using Strata.Client;

namespace Strata.Bench.Workloads;

/// <summary>(a) Hot point reads: stat of preloaded objects, keys Zipfian (or uniform).</summary>
internal sealed class HotReadsWorkload(IReadOnlyList<StrataClient> clients, BenchOptions options, string bucket, TimeProvider time)
    : StrataWorkload(clients, options, bucket, time)
{
    private readonly ObjectCatalog _catalog = new("objects", options.Objects, options.Directories);
    private readonly ZipfianDistribution? _zipfian = options.Distribution == KeyDistribution.Zipfian ? new ZipfianDistribution(options.Objects, options.ZipfTheta) : null;

    public override BenchWorkload Kind => BenchWorkload.HotReads;

    public override async Task<PreloadInfo> PrepareAsync(IProgress<BenchProgress>? progress, CancellationToken cancellationToken)
    {
        await CreateBucketAsync(cancellationToken).ConfigureAwait(false);
        return await _catalog.LoadAsync(Client, Bucket, Time, progress, cancellationToken).ConfigureAwait(false);
    }

    public override IWorkloadWorker CreateWorker(int index) => new Worker(this, ClientOf(index), Chooser(_zipfian, Options.Objects, WorkerRandom(Options.Seed, index)));

    private sealed class Worker(HotReadsWorkload workload, StrataClient client, KeyChooser keys) : IWorkloadWorker
    {
        public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public OperationKind NextOperation() => OperationKind.Stat;

        public Task ExecuteAsync(OperationKind kind, CancellationToken cancellationToken) =>
            client.StatAsync(workload.Bucket, workload._catalog.PathOf(keys.Next()), cancellationToken: cancellationToken);
    }
}
