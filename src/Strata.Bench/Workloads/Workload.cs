using Strata.Bench.Targets;

namespace Strata.Bench.Workloads;

/// <summary>
/// The workloads of <c>strata bench</c> over a <see cref="BenchTarget"/> (Strata or a peer): what each prepares and
/// how its workers choose keys. The same options and seed give every target the same operation stream.
/// </summary>
public abstract class Workload : IWorkload
{
    private protected Workload(BenchTarget target, BenchOptions options, string bucket, TimeProvider time)
    {
        Target = target;
        Options = options;
        Bucket = bucket;
        Time = time;
    }

    public abstract BenchWorkload Kind { get; }

    /// <summary>The bucket the workload runs in.</summary>
    public string Bucket { get; }

    /// <summary>What the workload runs against.</summary>
    public BenchTarget Target { get; }

    /// <summary>The store that prepares the workload (worker 0's).</summary>
    private protected IBenchStore Store => Target.StoreOf(0);

    private protected BenchOptions Options { get; }

    private protected TimeProvider Time { get; }

    /// <summary>The workload named by <paramref name="options"/> against <paramref name="target"/>, in <paramref name="bucket"/>.</summary>
    public static Workload Create(BenchTarget target, BenchOptions options, string bucket, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(bucket);
        options.Validate();
        TimeProvider clock = time ?? TimeProvider.System;
        return options.Workload switch
        {
            BenchWorkload.HotReads => new HotReadsWorkload(target, options, bucket, clock),
            BenchWorkload.Creates => new CreatesWorkload(target, options, bucket, clock),
            BenchWorkload.ViralMix => new ViralMixWorkload(target, options, bucket, clock),
            BenchWorkload.OccContention => new OccContentionWorkload(target, options, bucket, clock),
            BenchWorkload.DirectoryListing => new DirectoryListingWorkload(target, options, bucket, clock),
            BenchWorkload.DirectoryRename => new DirectoryRenameWorkload(target, options, bucket, clock),
            BenchWorkload.Scale => throw new ArgumentException("the scale mode loads and reads in phases: run it with Scale.ScaleRun", nameof(options)),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Workload, "unknown workload"),
        };
    }

    public abstract Task<PreloadInfo> PrepareAsync(IProgress<BenchProgress>? progress, CancellationToken cancellationToken);

    public abstract IWorkloadWorker CreateWorker(int index);

    /// <summary>The seeded random source of worker <paramref name="index"/> (independent of the other workers').</summary>
    public static Random WorkerRandom(int seed, int index) => new(unchecked((seed * 1_000_003) + (index * 7_919) + 17));

    /// <summary>Creates the bucket; an existing one (a name passed with --bucket) is used as it is.</summary>
    private protected Task CreateBucketAsync(CancellationToken cancellationToken) => Target.CreateBucketAsync(Bucket, cancellationToken);

    /// <summary>A key chooser over <paramref name="count"/> keys with the configured distribution.</summary>
    private protected KeyChooser Chooser(ZipfianDistribution? zipfian, int count, Random random) =>
        Options.Distribution == KeyDistribution.Zipfian && zipfian is not null ? KeyChooser.Zipfian(zipfian, random) : KeyChooser.Uniform(count, random);

    /// <summary>A stat's result: the entry, or the NotFound error the runner counts.</summary>
    private protected static StoredEntry Found(StoredEntry? entry, string path) =>
        entry ?? throw new BenchOperationException("NotFound", $"no entry at '{path}'");

    /// <summary>A write's result: its new generation; a create that found the entry is an AlreadyExists error.</summary>
    private protected static long Created(WriteOutcome outcome, string path) =>
        outcome.Committed ? outcome.Generation!.Value : throw new BenchOperationException("AlreadyExists", $"'{path}' already exists");
}
