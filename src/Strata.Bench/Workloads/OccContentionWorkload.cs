using System.Globalization;
using Grpc.Core;
using Strata.Api.V1;
using Strata.Client;

namespace Strata.Bench.Workloads;

/// <summary>
/// (e) Optimistic-concurrency contention: every worker updates the same <see cref="BenchOptions.HotObjects"/>
/// object(s) with a put guarded by if-generation-match on the generation it last saw. A success tells it the new
/// generation; a conflict (FAILED_PRECONDITION) tells it the current one through the node's trailers, so each attempt
/// is one call, as a client retrying a compare-and-swap loop would make it.
/// </summary>
internal sealed class OccContentionWorkload(IReadOnlyList<StrataClient> clients, BenchOptions options, string bucket, TimeProvider time)
    : StrataWorkload(clients, options, bucket, time)
{
    public override BenchWorkload Kind => BenchWorkload.OccContention;

    public override async Task<PreloadInfo> PrepareAsync(IProgress<BenchProgress>? progress, CancellationToken cancellationToken)
    {
        await CreateBucketAsync(cancellationToken).ConfigureAwait(false);
        long started = Time.GetTimestamp();
        for (int k = 0; k < Options.HotObjects; k++)
        {
            await Client.PutObjectAsync(Bucket, PathOf(k), ObjectCatalog.Attributes(k), cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        double seconds = Time.GetElapsedTime(started).TotalSeconds;
        return new PreloadInfo(Options.HotObjects, Math.Round(seconds, 3), seconds > 0 ? Math.Round(Options.HotObjects / seconds, 1) : 0);
    }

    public override IWorkloadWorker CreateWorker(int index) => new Worker(this, ClientOf(index), WorkerRandom(Options.Seed, index));

    private static string PathOf(int hot) => string.Create(CultureInfo.InvariantCulture, $"occ/obj-{hot:D4}");

    private sealed class Worker(OccContentionWorkload workload, StrataClient client, Random random) : IWorkloadWorker
    {
        private readonly ulong[] _known = new ulong[workload.Options.HotObjects];
        private long _attempt;

        public async Task InitializeAsync(CancellationToken cancellationToken)
        {
            for (int k = 0; k < _known.Length; k++)
            {
                _known[k] = (await client.StatAsync(workload.Bucket, PathOf(k), cancellationToken: cancellationToken).ConfigureAwait(false)).Generation;
            }
        }

        public OperationKind NextOperation() => OperationKind.ConditionalUpdate;

        public async Task ExecuteAsync(OperationKind kind, CancellationToken cancellationToken)
        {
            int k = _known.Length == 1 ? 0 : random.Next(_known.Length);
            try
            {
                Entry written = await client.PutObjectAsync(workload.Bucket, PathOf(k), ObjectCatalog.Attributes(++_attempt),
                    new Preconditions { IfGenerationMatch = _known[k] }, cancellationToken: cancellationToken).ConfigureAwait(false);
                _known[k] = written.Generation;
            }
            catch (StrataException e) when (e.StatusCode == StatusCode.FailedPrecondition)
            {
                // Lost the race: learn the winner's generation for the next attempt (read it if the node did not say).
                _known[k] = e.CurrentGeneration
                    ?? (await client.StatAsync(workload.Bucket, PathOf(k), cancellationToken: cancellationToken).ConfigureAwait(false)).Generation;
                throw;
            }
        }
    }
}
