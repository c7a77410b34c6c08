using System.Globalization;
using Strata.Bench.Targets;

namespace Strata.Bench.Workloads;

/// <summary>
/// (b) Creates of new objects across many directories: each create names a fresh object (if-generation-match 0, so
/// the target checks it does not exist) in one of <see cref="BenchOptions.Directories"/> directories, chosen with the
/// configured distribution. A directory is made by its first create.
/// </summary>
internal sealed class CreatesWorkload(BenchTarget target, BenchOptions options, string bucket, TimeProvider time)
    : Workload(target, options, bucket, time)
{
    private readonly ZipfianDistribution? _zipfian = options.Distribution == KeyDistribution.Zipfian ? new ZipfianDistribution(options.Directories, options.ZipfTheta) : null;

    // Distinguishes runs that reuse a bucket (--bucket), so their creates never collide.
    private readonly string _run = time.GetUtcNow().ToUnixTimeMilliseconds().ToString("x", CultureInfo.InvariantCulture);

    public override BenchWorkload Kind => BenchWorkload.Creates;

    public override async Task<PreloadInfo> PrepareAsync(IProgress<BenchProgress>? progress, CancellationToken cancellationToken)
    {
        await CreateBucketAsync(cancellationToken).ConfigureAwait(false);
        return new PreloadInfo(0, 0, 0);
    }

    public override IWorkloadWorker CreateWorker(int index) =>
        new Worker(this, Target.StoreOf(index), index, Chooser(_zipfian, Options.Directories, WorkerRandom(Options.Seed, index)));

    private sealed class Worker(CreatesWorkload workload, IBenchStore store, int index, KeyChooser directories) : IWorkloadWorker
    {
        private long _sequence;

        public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public OperationKind NextOperation() => OperationKind.Create;

        public async Task ExecuteAsync(OperationKind kind, CancellationToken cancellationToken)
        {
            long sequence = ++_sequence;
            string path = string.Create(CultureInfo.InvariantCulture, $"new/d{directories.Next():D5}/{workload._run}-w{index:D4}-{sequence:D9}");
            Created(await store.PutAsync(workload.Bucket, path, ObjectCatalog.Attributes(sequence), 0, cancellationToken).ConfigureAwait(false), path);
        }
    }
}
