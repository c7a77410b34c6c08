using System.Globalization;
using Strata.Bench.Workloads;

namespace Strata.Bench.Scale;

/// <summary>
/// Where the scale mode puts object i: bucket <c>{prefix}-{i mod buckets}</c> (buckets hash to different shards, so
/// the load spreads over every Raft group of a cluster), path as in <see cref="ObjectCatalog"/>
/// (<c>scale/d{i mod directories}/obj-{i}</c>). Pure and thread-safe.
/// </summary>
public sealed class ScaleCatalog
{
    private readonly string[] _buckets;

    /// <summary>A catalog of <paramref name="objects"/> objects over <paramref name="buckets"/> buckets named after <paramref name="bucketPrefix"/>.</summary>
    public ScaleCatalog(string bucketPrefix, int objects, int buckets, int directories)
    {
        ArgumentException.ThrowIfNullOrEmpty(bucketPrefix);
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 1);
        _buckets = [.. Enumerable.Range(0, buckets).Select(b => string.Create(CultureInfo.InvariantCulture, $"{bucketPrefix}-{b}"))];
        Objects = new ObjectCatalog("scale", objects, directories, ScaleRun.BatchSize);
    }

    /// <summary>The buckets, in order.</summary>
    public IReadOnlyList<string> Buckets => _buckets;

    /// <summary>The objects' paths (within their bucket).</summary>
    public ObjectCatalog Objects { get; }

    /// <summary>The bucket of object <paramref name="index"/>.</summary>
    public string BucketOf(int index) => _buckets[index % _buckets.Length];

    /// <summary>
    /// The load batches of objects [<paramref name="from"/>, <paramref name="to"/>): each holds at most
    /// <paramref name="batchSize"/> objects of one bucket, in ascending order, and every object is in exactly one batch.
    /// Lazily enumerated, so a billion objects never sit in memory at once.
    /// </summary>
    public IEnumerable<(string Bucket, int[] Indexes)> Batches(int from, int to, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        ArgumentOutOfRangeException.ThrowIfLessThan(to, from);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        int buckets = _buckets.Length;
        long span = (long)batchSize * buckets;
        for (long chunk = from; chunk < to; chunk += span)
        {
            int end = (int)Math.Min(to, chunk + span);
            for (int b = 0; b < buckets; b++)
            {
                // The first index in [chunk, end) whose bucket is b.
                long first = chunk + ((b - (chunk % buckets) + buckets) % buckets);
                if (first >= end)
                {
                    continue;
                }

                int count = (int)((end - 1 - first) / buckets) + 1;
                var indexes = new int[count];
                for (int k = 0; k < count; k++)
                {
                    indexes[k] = (int)(first + ((long)k * buckets));
                }

                yield return (_buckets[b], indexes);
            }
        }
    }
}
