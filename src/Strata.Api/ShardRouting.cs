using System.Text;

namespace Strata.Api;

/// <summary>
/// Where a request goes: every bucket's namespace lives in one shard, the shard whose range of the 64-bit
/// routing-key space holds the bucket's routing key. Clients and servers compute it with this one function.
/// </summary>
/// <remarks>
/// The routing key is FNV-1a over the bucket name's UTF-8 bytes followed by the SplitMix64 finalizer, so similar
/// names spread evenly over the key space and evenly split initial shards get similar numbers of buckets. It is part
/// of the on-disk contract: changing it would move every bucket. Pure and thread-safe.
/// </remarks>
public static class ShardRouting
{
    /// <summary>The routing key of <paramref name="bucket"/>.</summary>
    public static ulong RoutingKey(string bucket)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        Span<byte> small = stackalloc byte[256];
        int length = Encoding.UTF8.GetMaxByteCount(bucket.Length) <= small.Length
            ? Encoding.UTF8.GetBytes(bucket, small)
            : -1;
        return length >= 0 ? RoutingKey(small[..length]) : RoutingKey(Encoding.UTF8.GetBytes(bucket));
    }

    /// <summary>The routing key of a bucket name given as UTF-8 bytes.</summary>
    public static ulong RoutingKey(ReadOnlySpan<byte> bucketUtf8)
    {
        ulong hash = 0xCBF29CE484222325UL;
        foreach (byte b in bucketUtf8)
        {
            hash = (hash ^ b) * 0x100000001B3UL;
        }

        hash ^= hash >> 30;
        hash *= 0xBF58476D1CE4E5B9UL;
        hash ^= hash >> 27;
        hash *= 0x94D049BB133111EBUL;
        hash ^= hash >> 31;
        return hash;
    }

    /// <summary>Whether <paramref name="routingKey"/> falls in [<paramref name="start"/>, <paramref name="end"/>);
    /// an <paramref name="end"/> of 0 means the range runs to the end of the key space.</summary>
    public static bool Contains(ulong start, ulong end, ulong routingKey) =>
        routingKey >= start && (end == 0 || routingKey < end);
}
