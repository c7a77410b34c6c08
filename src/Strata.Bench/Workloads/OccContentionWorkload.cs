using System.Globalization;
using Strata.Bench.Targets;

namespace Strata.Bench.Workloads;

/// <summary>
/// (e) Optimistic-concurrency contention: every worker updates the same <see cref="BenchOptions.HotObjects"/>
/// object(s) with a put guarded by if-generation-match on the generation it last saw (a compare-and-swap). A success
/// tells it the new generation; a conflict tells it the current one (Strata in its trailers, etcd in the transaction's
/// failure branch, Redis from the script; PostgreSQL needs a read after the failed update), so each attempt is what a
/// client retrying a compare-and-swap loop would do.
/// </summary>
internal sealed class OccContentionWorkload(BenchTarget target, BenchOptions options, string bucket, TimeProvider time)
    : Workload(target, options, bucket, time)
{
    public override BenchWorkload Kind => BenchWorkload.OccContention;

    public override async Task<PreloadInfo> PrepareAsync(IProgress<BenchProgress>? progress, CancellationToken cancellationToken)
    {
        await CreateBucketAsync(cancellationToken).ConfigureAwait(false);
        long started = Time.GetTimestamp();
        for (int k = 0; k < Options.HotObjects; k++)
        {
            await Store.PutAsync(Bucket, PathOf(k), ObjectCatalog.Attributes(k), null, cancellationToken).ConfigureAwait(false);
        }

        double seconds = Time.GetElapsedTime(started).TotalSeconds;
        return new PreloadInfo(Options.HotObjects, Math.Round(seconds, 3), seconds > 0 ? Math.Round(Options.HotObjects / seconds, 1) : 0);
    }

    public override IWorkloadWorker CreateWorker(int index) => new Worker(this, Target.StoreOf(index), WorkerRandom(Options.Seed, index));

    /// <summary>The path of hot object <paramref name="hot"/>.</summary>
    public static string PathOf(int hot) => string.Create(CultureInfo.InvariantCulture, $"occ/obj-{hot:D4}");

    private sealed class Worker(OccContentionWorkload workload, IBenchStore store, Random random) : IWorkloadWorker
    {
        private readonly long[] _known = new long[workload.Options.HotObjects];
        private long _attempt;

        public async Task InitializeAsync(CancellationToken cancellationToken)
        {
            for (int k = 0; k < _known.Length; k++)
            {
                _known[k] = Found(await store.GetAsync(workload.Bucket, PathOf(k), cancellationToken).ConfigureAwait(false), PathOf(k)).Generation;
            }
        }

        public OperationKind NextOperation() => OperationKind.ConditionalUpdate;

        public async Task ExecuteAsync(OperationKind kind, CancellationToken cancellationToken)
        {
            int k = _known.Length == 1 ? 0 : random.Next(_known.Length);
            string path = PathOf(k);
            WriteOutcome outcome = await store.PutAsync(workload.Bucket, path, ObjectCatalog.Attributes(++_attempt), _known[k], cancellationToken).ConfigureAwait(false);
            if (outcome.Committed)
            {
                _known[k] = outcome.Generation!.Value;
                return;
            }

            // Lost the race: learn the winner's generation for the next attempt (read it if the target did not say).
            _known[k] = outcome.Generation
                ?? Found(await store.GetAsync(workload.Bucket, path, cancellationToken).ConfigureAwait(false), path).Generation;
            throw new BenchOperationException("Conflict", $"'{path}' moved past the generation this worker last saw", isConflict: true);
        }
    }
}
