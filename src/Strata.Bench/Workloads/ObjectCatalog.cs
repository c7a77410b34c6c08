using System.Globalization;
using Strata.Api.V1;
using Strata.Bench.Targets;

namespace Strata.Bench.Workloads;

/// <summary>
/// The preloaded objects that reading workloads stat: object i is <c>{prefix}/d{i mod directories}/obj-{i}</c>, so
/// consecutive (and, under Zipf, the hottest) ranks land in different directories.
/// </summary>
/// <remarks>
/// <paramref name="batchSize"/> entries go into each preload batch (Strata: one transaction, at most 1,000 operations).
/// </remarks>
public sealed class ObjectCatalog(string prefix, int objects, int directories, int batchSize = ObjectCatalog.BatchSize)
{
    /// <summary>Puts per preload transaction.</summary>
    public const int BatchSize = 100;

    /// <summary>Transactions in flight during the preload.</summary>
    public const int ParallelBatches = 4;

    public int Count { get; } = objects;

    /// <summary>The directory holding object <paramref name="index"/>.</summary>
    public string DirectoryOf(int index) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}/d{index % directories:D5}");

    /// <summary>The path of object <paramref name="index"/>.</summary>
    public string PathOf(int index) =>
        string.Create(CultureInfo.InvariantCulture, $"{DirectoryOf(index)}/obj-{index:D9}");

    /// <summary>Writes every object in batches of <c>batchSize</c> (one atomic commit each where the target has them), reporting progress.</summary>
    public async Task<PreloadInfo> LoadAsync(IBenchStore store, string bucket, TimeProvider time, IProgress<BenchProgress>? progress, CancellationToken cancellationToken)
    {
        long started = time.GetTimestamp();
        long done = 0;
        IEnumerable<int[]> batches = Enumerable.Range(0, Count).Chunk(batchSize);
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = ParallelBatches, CancellationToken = cancellationToken },
            async (batch, token) =>
            {
                await store.LoadAsync(bucket, [.. batch.Select(index => (PathOf(index), Attributes(index)))], token).ConfigureAwait(false);
                long now = Interlocked.Add(ref done, batch.Length);
                progress?.Report(new BenchProgress(BenchPhase.Preload, now, Count, time.GetElapsedTime(started), TimeSpan.Zero, 0, 0, 0));
            }).ConfigureAwait(false);
        double seconds = time.GetElapsedTime(started).TotalSeconds;
        return new PreloadInfo(Count, Math.Round(seconds, 3), seconds > 0 ? Math.Round(Count / seconds, 1) : 0);
    }

    /// <summary>Plausible attributes of a small media object; <paramref name="salt"/> varies the size and ETag.</summary>
    public static ObjectAttributes Attributes(long salt) => new()
    {
        Size = (ulong)(65_536 + (salt % 1_000_000)),
        Etag = string.Create(CultureInfo.InvariantCulture, $"\"{salt:x16}\""),
        ContentType = "application/octet-stream",
        Tier = Tier.Ssd,
        Lifecycle = LifecycleState.LifecycleHot,
    };
}
