using System.Text.Json.Serialization;

namespace Strata.Bench;

/// <summary>The workloads of <c>strata bench</c> (letters as in issue 6).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BenchWorkload>))]
public enum BenchWorkload
{
    /// <summary>(a) Stat of existing objects, keys drawn from <see cref="BenchOptions.Distribution"/> (Zipfian by default).</summary>
    HotReads,

    /// <summary>(b) Creates of new objects spread over <see cref="BenchOptions.Directories"/> directories.</summary>
    Creates,

    /// <summary>(c) The viral event: 90% stat, 8% creates in a few hot directories, 2% listings, renames and conditional updates.</summary>
    ViralMix,

    /// <summary>(e) Optimistic-concurrency contention: every client updates the same object(s) with if-generation-match.</summary>
    OccContention,

    /// <summary>(d) Paged listing of one directory of <see cref="BenchOptions.DirectoryEntries"/> entries, pages starting at seeded positions.</summary>
    DirectoryListing,

    /// <summary>(f) Rename of directories of <see cref="BenchOptions.RenameSizes"/> entries back and forth: latency per size, which must not grow with it.</summary>
    DirectoryRename,

    /// <summary>
    /// Scale mode: bulk-load <see cref="BenchOptions.Objects"/> objects over <see cref="BenchOptions.ScaleBuckets"/>
    /// buckets, measuring the ingest rate, then uniform point reads at a tenth of them and at all of them, and the bytes
    /// on disk per object per replica. Runs through <see cref="Scale.ScaleRun"/>, not <see cref="BenchRunner"/> alone.
    /// </summary>
    Scale,
}

/// <summary>How load is offered.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LoadMode>))]
public enum LoadMode
{
    /// <summary>N clients, each issuing its next operation when the previous one completes (latency from actual start).</summary>
    Closed,

    /// <summary>A fixed arrival rate; latency is measured from each operation's intended start, so queueing counts.</summary>
    Open,
}

/// <summary>How keys (objects, directories) are chosen.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<KeyDistribution>))]
public enum KeyDistribution
{
    /// <summary>Every key equally likely.</summary>
    Uniform,

    /// <summary>Zipfian over key ranks (rank 0 hottest) with exponent <see cref="BenchOptions.ZipfTheta"/>.</summary>
    Zipfian,
}

/// <summary>Everything that defines a bench run. Immutable; <see cref="Validate"/> before use.</summary>
public sealed record BenchOptions
{
    public BenchWorkload Workload { get; init; } = BenchWorkload.HotReads;

    public LoadMode Mode { get; init; } = LoadMode.Closed;

    /// <summary>Concurrent clients (closed loop), or workers sharing the arrival schedule (open loop).</summary>
    public int Concurrency { get; init; } = 16;

    /// <summary>Open loop only: operations per second offered, over all workers.</summary>
    public double Rate { get; init; }

    /// <summary>Measured time. Operations that start (are intended to start) inside it are reported.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Time before the measurement during which load runs but nothing is recorded.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Objects preloaded for the reading workloads (a, c).</summary>
    public int Objects { get; init; } = 100_000;

    /// <summary>Directories the preloaded objects (a, c) or the new objects (b) are spread over.</summary>
    public int Directories { get; init; } = 1_000;

    public KeyDistribution Distribution { get; init; } = KeyDistribution.Zipfian;

    /// <summary>Zipfian exponent in (0, 1); 0.99 is YCSB's default.</summary>
    public double ZipfTheta { get; init; } = 0.99;

    /// <summary>Viral mix: the directories that receive the creates.</summary>
    public int HotDirectories { get; init; } = 4;

    /// <summary>OCC contention: the objects every client updates (1: all fight over one).</summary>
    public int HotObjects { get; init; } = 1;

    /// <summary>Directory listing (d): entries bulk-loaded into the one directory that is listed.</summary>
    public int DirectoryEntries { get; init; } = 1_000_000;

    /// <summary>Directory listing (d): entries per page (at most 10,000, Strata's page limit).</summary>
    public int PageSize { get; init; } = 1_000;

    /// <summary>
    /// Directory rename (f): the sizes (entries) of the directories renamed, one directory each; the run renames them in
    /// turn, one at a time (<see cref="Concurrency"/> must be 1), so no rename waits on another.
    /// </summary>
    public IReadOnlyList<int> RenameSizes { get; init; } = [1_000, 100_000];

    /// <summary>Scale mode: buckets the objects spread over (object i in bucket i mod this), so every shard takes a share of the load.</summary>
    public int ScaleBuckets { get; init; } = 8;

    /// <summary>Scale mode: load transactions in flight (each of <see cref="Scale.ScaleRun.BatchSize"/> creates in one bucket).</summary>
    public int LoadParallelism { get; init; } = 8;

    /// <summary>Seed of every random choice (keys, operation mix); worker w uses a seed derived from it.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>The bucket to create and use; null makes a fresh name per run so runs against one node never collide.</summary>
    public string? Bucket { get; init; }

    /// <summary>How often progress is reported and the timeline sampled.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first unusable setting.</summary>
    public void Validate()
    {
        Require(Concurrency is >= 1 and <= 4096, "concurrency must be in 1..4096");
        Require(Mode == LoadMode.Closed || (Rate > 0 && double.IsFinite(Rate)), "the open loop needs a rate > 0 (operations per second)");
        Require(Duration > TimeSpan.Zero, "duration must be positive");
        Require(Warmup >= TimeSpan.Zero, "warm-up must not be negative");
        Require(Objects >= 1, "objects must be at least 1");
        Require(Directories >= 1, "directories must be at least 1");
        Require(ZipfTheta is > 0 and < 1, "the Zipfian exponent must be in (0, 1)");
        Require(HotDirectories >= 1, "hot directories must be at least 1");
        Require(HotObjects >= 1, "hot objects must be at least 1");
        Require(ProgressInterval > TimeSpan.Zero, "progress interval must be positive");
        Require(PageSize is >= 1 and <= 10_000, "page size must be in 1..10000");
        Require(DirectoryEntries >= PageSize, "directory entries must be at least the page size");
        Require(RenameSizes is { Count: >= 1 } && RenameSizes.All(n => n >= 1) && RenameSizes.Distinct().Count() == RenameSizes.Count,
            "rename sizes must be one or more distinct counts of at least 1");
        Require(Workload != BenchWorkload.Scale || Objects >= 10, "the scale mode loads at least 10 objects (it reads at a tenth of them first)");
        Require(ScaleBuckets is >= 1 and <= 1024, "scale buckets must be in 1..1024");
        Require(LoadParallelism is >= 1 and <= 256, "load parallelism must be in 1..256");
        Require(Workload != BenchWorkload.DirectoryRename || (Concurrency == 1 && Mode == LoadMode.Closed),
            "the directory rename workload runs one closed-loop client (concurrency 1): renames of one directory cannot overlap");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message);
        }
    }
}
