using Grpc.Core;
using Strata.Client;

namespace Strata.Bench.Workloads;

/// <summary>
/// The workloads of <c>strata bench</c> against a Strata node: what each prepares and how its workers choose keys.
/// </summary>
public abstract class StrataWorkload : IWorkload
{
    private protected StrataWorkload(StrataClient client, BenchOptions options, string bucket, TimeProvider time)
    {
        Client = client;
        Options = options;
        Bucket = bucket;
        Time = time;
    }

    public abstract BenchWorkload Kind { get; }

    /// <summary>The bucket the workload runs in.</summary>
    public string Bucket { get; }

    private protected StrataClient Client { get; }

    private protected BenchOptions Options { get; }

    private protected TimeProvider Time { get; }

    /// <summary>The workload named by <paramref name="options"/>, over <paramref name="client"/> in <paramref name="bucket"/>.</summary>
    public static StrataWorkload Create(StrataClient client, BenchOptions options, string bucket, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(bucket);
        options.Validate();
        TimeProvider clock = time ?? TimeProvider.System;
        return options.Workload switch
        {
            BenchWorkload.HotReads => new HotReadsWorkload(client, options, bucket, clock),
            BenchWorkload.Creates => new CreatesWorkload(client, options, bucket, clock),
            BenchWorkload.ViralMix => new ViralMixWorkload(client, options, bucket, clock),
            BenchWorkload.OccContention => new OccContentionWorkload(client, options, bucket, clock),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Workload, "unknown workload"),
        };
    }

    public abstract Task<PreloadInfo> PrepareAsync(IProgress<BenchProgress>? progress, CancellationToken cancellationToken);

    public abstract IWorkloadWorker CreateWorker(int index);

    /// <summary>The seeded random source of worker <paramref name="index"/> (independent of the other workers').</summary>
    public static Random WorkerRandom(int seed, int index) => new(unchecked((seed * 1_000_003) + (index * 7_919) + 17));

    /// <summary>Creates the bucket; an existing one (a name passed with --bucket) is used as it is.</summary>
    private protected async Task CreateBucketAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Client.CreateBucketAsync(Bucket, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (StrataException e) when (e.StatusCode == StatusCode.AlreadyExists)
        {
            // Reusing the bucket of an earlier run: creates get fresh names from the run's seed and time, reads find the objects.
        }
    }

    /// <summary>A key chooser over <paramref name="count"/> keys with the configured distribution.</summary>
    private protected KeyChooser Chooser(ZipfianDistribution? zipfian, int count, Random random) =>
        Options.Distribution == KeyDistribution.Zipfian && zipfian is not null ? KeyChooser.Zipfian(zipfian, random) : KeyChooser.Uniform(count, random);
}
