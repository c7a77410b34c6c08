using Grpc.Core;
using Strata.Client;

namespace Strata.Bench.Workloads;

/// <summary>
/// The workloads of <c>strata bench</c> against a Strata node: what each prepares and how its workers choose keys.
/// </summary>
public abstract class StrataWorkload : IWorkload
{
    private readonly IReadOnlyList<StrataClient> _clients;

    private protected StrataWorkload(IReadOnlyList<StrataClient> clients, BenchOptions options, string bucket, TimeProvider time)
    {
        _clients = clients;
        Client = clients[0];
        Options = options;
        Bucket = bucket;
        Time = time;
    }

    public abstract BenchWorkload Kind { get; }

    /// <summary>The bucket the workload runs in.</summary>
    public string Bucket { get; }

    /// <summary>The client that prepares the workload (the first one).</summary>
    private protected StrataClient Client { get; }

    /// <summary>The client of worker <paramref name="index"/>: workers are spread round-robin over the clients.</summary>
    private protected StrataClient ClientOf(int index) => _clients[index % _clients.Count];

    private protected BenchOptions Options { get; }

    private protected TimeProvider Time { get; }

    /// <summary>The workload named by <paramref name="options"/>, every worker over <paramref name="client"/>, in <paramref name="bucket"/>.</summary>
    public static StrataWorkload Create(StrataClient client, BenchOptions options, string bucket, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return Create([client], options, bucket, time);
    }

    /// <summary>
    /// The workload named by <paramref name="options"/> in <paramref name="bucket"/>, worker i using
    /// <c>clients[i mod count]</c>: several clients stand for several gateways (each its own client id, sequence window
    /// and HTTP/2 connection).
    /// </summary>
    public static StrataWorkload Create(IReadOnlyList<StrataClient> clients, BenchOptions options, string bucket, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(clients);
        if (clients.Count == 0 || clients.Any(c => c is null))
        {
            throw new ArgumentException("at least one client is needed, and no null ones", nameof(clients));
        }

        StrataClient[] client = [.. clients];
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
