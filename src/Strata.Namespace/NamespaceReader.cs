using Strata.Namespace.Commands;
using Strata.Storage;

namespace Strata.Namespace;

/// <summary>One page of a listing and the token that continues it (null on the last page).</summary>
public sealed record ListPage(IReadOnlyList<EntryInfo> Entries, string? NextToken);

/// <summary>What to list.</summary>
/// <param name="Bucket">The bucket.</param>
/// <param name="Prefix">A path prefix: "photos/2024/" lists that directory, "photos/20" the names of "photos" starting with "20".</param>
/// <param name="Recursive">False: one directory level, with subdirectories as entries (delimiter '/'). True: the whole subtree.</param>
/// <param name="StartAfter">Only paths ordered after this one (a full path inside the bucket).</param>
/// <param name="Limit">Page size, 1 to <see cref="NamespaceLimits.MaxListLimit"/>.</param>
/// <param name="ContinuationToken">The token of the previous page, or null.</param>
/// <param name="At">Read timestamp: <see cref="NamespaceReader.Latest"/> or an HLC timestamp within the MVCC retention window.</param>
public sealed record ListRequest(
    string Bucket,
    string Prefix = "",
    bool Recursive = false,
    string StartAfter = "",
    int Limit = 1000,
    string? ContinuationToken = null,
    ulong At = NamespaceReader.Latest);

/// <summary>
/// Queries over the namespace: bucket lookups, stat, listings by name and by upload time, versions.
/// Reads never go through the log; they see whole applied batches.
/// </summary>
/// <remarks>
/// Works over the engine (latest state) or an engine snapshot (a fixed point). Thread-safe when the
/// underlying reader is. Failures are <see cref="CommandRejectedException"/>s with a precise message.
/// Entries are ordered by path, where a directory orders as its name followed by '/', the order of full
/// object paths in a flat key space (so "a-b" &lt; "a/" &lt; "a0").
/// </remarks>
public sealed partial class NamespaceReader(IKvReader reader)
{
    /// <summary>Read the latest applied state.</summary>
    public const ulong Latest = ulong.MaxValue;

    private const int MaxStackKey = 512;

    public BucketInfo GetBucket(string name) => NamespaceStateMachine.BucketInfoOf(RequireBucket(name));

    /// <summary>Buckets in name order, after <paramref name="startAfter"/>, at most <paramref name="limit"/>.</summary>
    public IReadOnlyList<BucketInfo> ListBuckets(string startAfter = "", int limit = 1000)
    {
        CheckLimit(limit);
        (byte[] lower, byte[] upper) = NamespaceKeys.BucketRange();
        var buckets = new List<BucketInfo>();
        using IKvCursor cursor = reader.Scan(KvColumn.Data, lower, upper);
        byte[] seek = NamespaceKeys.Bucket(startAfter);
        for (cursor.Seek(seek); cursor.Valid && buckets.Count < limit; cursor.Next())
        {
            if (cursor.Key.SequenceEqual(seek))
            {
                continue;
            }

            BucketRecord record = Records.Open(cursor.Key, cursor.Value, BucketRecord.Parser);
            buckets.Add(NamespaceStateMachine.BucketInfoOf(record));
        }

        return buckets;
    }

    /// <summary>The entry at <paramref name="path"/> as of <paramref name="at"/>; NOT_FOUND when absent.</summary>
    public EntryInfo Stat(string bucket, string path, ulong at = Latest)
    {
        BucketRecord record = RequireBucket(bucket);
        NamespacePath parsed = NamespacePath.Parse(path);
        ulong parent = ResolveDirectory(record, parsed.Components.AsSpan(0, parsed.Components.Length - 1), parsed, at);
        EntryRecord entry = FindEntry(parent, parsed.Name, at)
            ?? throw CommandRejectedException.NotFound($"'{parsed.Text}' does not exist in bucket '{bucket}'");
        return NamespaceStateMachine.ToInfo(bucket, parsed.Text, entry);
    }

    /// <summary>
    /// The point read of the hot path: the live record of (directory, name), or null. Allocates nothing but
    /// the record it returns.
    /// </summary>
    public EntryRecord? FindEntry(ulong directoryId, ReadOnlySpan<byte> name, ulong at = Latest)
    {
        int length = NamespaceKeys.EntryLength(name.Length);
        Span<byte> key = length <= MaxStackKey ? stackalloc byte[length] : new byte[length];
        NamespaceKeys.WriteEntry(key, directoryId, name);
        EntryRecord? current = reader.Read(KvColumn.Data, key, DecodeEntry);
        if (current is null)
        {
            return null;
        }

        if (at == Latest || current.Version <= at)
        {
            return current.Deleted ? null : current;
        }

        EntryRecord? older = FindOlderVersion(directoryId, name, at);
        return older is { Deleted: false } ? older : null;
    }

    private static readonly ValueDecoder<EntryRecord> DecodeEntry = static (key, value) => Records.Open(key, value, EntryRecord.Parser);

    /// <summary>The newest MVCC version of (dir, name) at or below <paramref name="at"/> from the history.</summary>
    private EntryRecord? FindOlderVersion(ulong directoryId, ReadOnlySpan<byte> name, ulong at)
    {
        (byte[] _, byte[] upper) = NamespaceKeys.EntryVersions(directoryId, name);
        byte[] seek = NamespaceKeys.EntryVersion(directoryId, name, at);
        using IKvCursor cursor = reader.Scan(KvColumn.Data, seek, upper);
        cursor.SeekToFirst();
        return cursor.Valid ? Records.Open(cursor.Key, cursor.Value, EntryRecord.Parser) : null;
    }

    /// <summary>Every version of an object, current first, then noncurrent versions newest first.</summary>
    public IReadOnlyList<EntryInfo> ListVersions(string bucket, string path)
    {
        BucketRecord record = RequireBucket(bucket);
        NamespacePath parsed = NamespacePath.Parse(path);
        ulong parent = ResolveDirectory(record, parsed.Components.AsSpan(0, parsed.Components.Length - 1), parsed, Latest);
        var versions = new List<EntryInfo>();
        if (FindEntry(parent, parsed.Name) is { } current)
        {
            versions.Add(NamespaceStateMachine.ToInfo(bucket, parsed.Text, current));
        }

        (byte[] lower, byte[] upper) = NamespaceKeys.NoncurrentVersions(parent, parsed.Name);
        using IKvCursor cursor = reader.Scan(KvColumn.Data, lower, upper);
        for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
        {
            EntryRecord version = Records.Open(cursor.Key, cursor.Value, EntryRecord.Parser);
            versions.Add(NamespaceStateMachine.ToInfo(bucket, parsed.Text, version, isCurrent: false));
        }

        return versions.Count > 0
            ? versions
            : throw CommandRejectedException.NotFound($"'{parsed.Text}' has no versions in bucket '{bucket}'");
    }

    /// <summary>One version of an object by generation: the current one or a noncurrent one.</summary>
    public EntryInfo StatVersion(string bucket, string path, ulong generation)
    {
        BucketRecord record = RequireBucket(bucket);
        NamespacePath parsed = NamespacePath.Parse(path);
        ulong parent = ResolveDirectory(record, parsed.Components.AsSpan(0, parsed.Components.Length - 1), parsed, Latest);
        if (FindEntry(parent, parsed.Name) is { } current && current.Generation == generation)
        {
            return NamespaceStateMachine.ToInfo(bucket, parsed.Text, current);
        }

        byte[] key = NamespaceKeys.Noncurrent(parent, parsed.Name, generation);
        byte[]? stored = reader.Get(KvColumn.Data, key);
        return stored is null
            ? throw CommandRejectedException.NotFound($"'{parsed.Text}' has no version {generation}")
            : NamespaceStateMachine.ToInfo(bucket, parsed.Text, Records.Open(key, stored, EntryRecord.Parser), isCurrent: false);
    }

    private BucketRecord RequireBucket(string name)
    {
        byte[] key = NamespaceKeys.Bucket(name);
        byte[]? stored = reader.Get(KvColumn.Data, key);
        return stored is null
            ? throw CommandRejectedException.NotFound($"bucket '{NamespacePath.Printable(name)}' does not exist")
            : Records.Open(key, stored, BucketRecord.Parser);
    }

    /// <summary>Walks directory components from the bucket's root; NOT_FOUND or FAILED_PRECONDITION on the way.</summary>
    private ulong ResolveDirectory(BucketRecord bucket, ReadOnlySpan<byte[]> components, NamespacePath full, ulong at)
    {
        ulong directory = bucket.RootDirectoryId;
        for (int i = 0; i < components.Length; i++)
        {
            EntryRecord? entry = FindEntry(directory, components[i], at);
            if (entry is null)
            {
                throw CommandRejectedException.NotFound(
                    $"directory '{string.Join('/', full.Text.Split('/')[..(i + 1)])}' does not exist in bucket '{bucket.Name}'");
            }

            if (entry.Kind != EntryKind.Directory)
            {
                throw new CommandRejectedException(ResultCode.ResultFailedPrecondition,
                    $"'{string.Join('/', full.Text.Split('/')[..(i + 1)])}' is an object, not a directory");
            }

            directory = entry.DirectoryId;
        }

        return directory;
    }

    private static void CheckLimit(int limit)
    {
        if (limit is < 1 or > NamespaceLimits.MaxListLimit)
        {
            throw CommandRejectedException.Invalid($"limit must be between 1 and {NamespaceLimits.MaxListLimit}, not {limit}");
        }
    }
}
