using System.Text;
using Strata.Namespace.Commands;
using Strata.Storage;

namespace Strata.Namespace;

public sealed partial class NamespaceReader
{
    private const byte Slash = (byte)'/';

    /// <summary>
    /// Lists entries by path order. The continuation token holds the last path returned, so a listing
    /// continues correctly across concurrent creates and deletes: entries created after that path appear,
    /// entries deleted before being reached do not, nothing is returned twice.
    /// </summary>
    public ListPage List(ListRequest request)
    {
        CheckLimit(request.Limit);
        BucketRecord bucket = RequireBucket(request.Bucket);
        (NamespacePath directory, byte[] namePrefix) = SplitPrefix(request.Prefix);
        ulong directoryId = ResolveDirectory(bucket, directory.Components, directory, request.At);
        byte[] directorySortPrefix = directory.IsRoot ? [] : [.. Encoding.UTF8.GetBytes(directory.Text), Slash];

        byte[] startAfter = NamespacePath.EncodeStrict(request.StartAfter.TrimStart('/'), "start-after");
        if (request.ContinuationToken is not null)
        {
            byte[] resumeAfter = ContinuationTokens.Open(request.ContinuationToken, ListingFingerprint(request));
            if (KeyOrder.Compare(resumeAfter, startAfter) > 0)
            {
                startAfter = resumeAfter;
            }
        }

        var entries = new List<EntryInfo>(Math.Min(request.Limit, 1024));
        byte[]? lastSortPath = null;
        bool more = false;
        foreach (Listed listed in Walk(directoryId, directorySortPrefix, directory.Text, namePrefix, startAfter, request.Recursive, request.At))
        {
            if (entries.Count == request.Limit)
            {
                more = true;
                break;
            }

            entries.Add(NamespaceStateMachine.ToInfo(request.Bucket, listed.Path, listed.Record));
            lastSortPath = listed.SortPath;
        }

        string? token = more ? ContinuationTokens.Seal(lastSortPath!, ListingFingerprint(request)) : null;
        return new ListPage(entries, token);
    }

    private readonly record struct Listed(byte[] SortPath, string Path, EntryRecord Record);

    /// <summary>
    /// Yields the entries of one directory (and, when recursive, their subtrees) in path order, after
    /// <paramref name="startAfter"/>. Children are stored in name order; a directory orders as name + '/',
    /// so directories wait in a small sorted set until the name scan passes them.
    /// </summary>
    private IEnumerable<Listed> Walk(ulong directoryId, byte[] sortPrefix, string pathPrefix, byte[] namePrefix,
        byte[] startAfter, bool recursive, ulong at)
    {
        var pending = new SortedList<byte[], (byte[] Name, EntryRecord Record)>(KeyOrder.Comparer);
        byte[] seekName = SeekName(sortPrefix, startAfter);
        foreach ((byte[] name, EntryRecord record) in DirectoriesOrderedAfter(directoryId, namePrefix, seekName, at))
        {
            pending.Add([.. name, Slash], (name, record));
        }

        foreach ((byte[] name, EntryRecord record) in Children(directoryId, namePrefix, seekName, at))
        {
            bool isDirectory = record.Kind == EntryKind.Directory;
            byte[] sortKey = isDirectory ? [.. name, Slash] : name;
            while (pending.Count > 0 && KeyOrder.Compare(pending.Keys[0], sortKey) < 0)
            {
                (byte[] waitingName, EntryRecord waiting) = pending.Values[0];
                pending.RemoveAt(0);
                foreach (Listed listed in EmitDirectory(waitingName, waiting, sortPrefix, pathPrefix, startAfter, recursive, at))
                {
                    yield return listed;
                }
            }

            if (isDirectory)
            {
                pending.Add(sortKey, (name, record));
                continue;
            }

            byte[] sortPath = [.. sortPrefix, .. name];
            if (KeyOrder.Compare(sortPath, startAfter) > 0)
            {
                yield return new Listed(sortPath, NamespacePath.Join(pathPrefix, name), record);
            }
        }

        while (pending.Count > 0)
        {
            (byte[] waitingName, EntryRecord waiting) = pending.Values[0];
            pending.RemoveAt(0);
            foreach (Listed listed in EmitDirectory(waitingName, waiting, sortPrefix, pathPrefix, startAfter, recursive, at))
            {
                yield return listed;
            }
        }
    }

    private IEnumerable<Listed> EmitDirectory(byte[] name, EntryRecord record, byte[] sortPrefix, string pathPrefix,
        byte[] startAfter, bool recursive, ulong at)
    {
        byte[] sortPath = [.. sortPrefix, .. name, Slash];
        string path = NamespacePath.Join(pathPrefix, name);
        bool after = KeyOrder.Compare(sortPath, startAfter) > 0;
        if (after)
        {
            yield return new Listed(sortPath, path, record);
        }

        if (recursive && (after || startAfter.AsSpan().StartsWith(sortPath)))
        {
            foreach (Listed listed in Walk(record.DirectoryId, sortPath, path, [], startAfter, recursive, at))
            {
                yield return listed;
            }
        }
    }

    /// <summary>
    /// Where to start the name scan of a directory: the remaining path of <paramref name="startAfter"/> in it (empty
    /// when it does not lead into this directory). A child whose name orders before it precedes
    /// <paramref name="startAfter"/> in path order too, except a directory named by a prefix of it that is followed
    /// by a byte &lt;= '/' (it orders as name + '/'): <see cref="DirectoriesOrderedAfter"/> finds those few. Seeking
    /// to the whole name keeps a page's cost independent of its position in the directory (cutting the seek at the
    /// first such byte made every page of names like <c>obj-000123</c> rescan the directory from <c>obj</c>).
    /// </summary>
    private static byte[] SeekName(byte[] sortPrefix, byte[] startAfter) =>
        startAfter.AsSpan().StartsWith(sortPrefix) ? startAfter.AsSpan(sortPrefix.Length).ToArray() : [];

    /// <summary>
    /// The directories ordered after <paramref name="seekName"/> in path order though before it in name order: for
    /// each cut of it before a byte &lt;= '/' (at most one per such byte), the child of exactly that name, when it is a
    /// directory visible at <paramref name="at"/> and within <paramref name="namePrefix"/>. One short seek each.
    /// </summary>
    private IEnumerable<(byte[] Name, EntryRecord Record)> DirectoriesOrderedAfter(ulong directoryId, byte[] namePrefix, byte[] seekName, ulong at)
    {
        for (int cut = 0; cut < seekName.Length; cut++)
        {
            if (seekName[cut] > Slash || cut == 0)
            {
                continue;
            }

            byte[] candidate = seekName[..cut];
            if (!candidate.AsSpan().StartsWith(namePrefix))
            {
                continue;
            }

            foreach ((byte[] name, EntryRecord record) in Children(directoryId, candidate, candidate, at))
            {
                if (name.AsSpan().SequenceEqual(candidate) && record.Kind == EntryKind.Directory)
                {
                    yield return (name, record);
                }

                break; // the first visible name with this prefix is the candidate itself, if it exists
            }
        }
    }

    /// <summary>The children of a directory visible at <paramref name="at"/>, in name order, from <paramref name="seekName"/>.</summary>
    private IEnumerable<(byte[] Name, EntryRecord Record)> Children(ulong directoryId, byte[] namePrefix, byte[] seekName, ulong at)
    {
        (byte[] lower, byte[] upper) = NamespaceKeys.DirectoryEntries(directoryId);
        byte[] from = KeyOrder.Compare(seekName, namePrefix) > 0 ? seekName : namePrefix;
        using IKvCursor cursor = reader.Scan(KvColumn.Data, lower, upper);
        cursor.Seek([.. lower, .. from]);
        byte[]? resolvedName = null;
        while (cursor.Valid)
        {
            (ReadOnlyMemory<byte> nameMemory, ulong? version) = NamespaceKeys.ParseEntry(cursor.Key, out _);
            ReadOnlySpan<byte> name = nameMemory.Span;
            if (!name.StartsWith(namePrefix))
            {
                yield break;
            }

            if (resolvedName is not null && name.SequenceEqual(resolvedName))
            {
                cursor.Next(); // an older version of a name already resolved
                continue;
            }

            EntryRecord record = Records.Open(cursor.Key, cursor.Value, EntryRecord.Parser);
            ulong recordVersion = version ?? record.Version;
            if (at != Latest && recordVersion > at)
            {
                cursor.Next(); // too new for this read; an older version may follow
                continue;
            }

            resolvedName = nameMemory.ToArray();
            if (!record.Deleted)
            {
                yield return (resolvedName, record);
            }

            cursor.Next();
        }
    }

    /// <summary>"a/b/" is the directory a/b with no name prefix; "a/b/c" is directory a/b, names starting with "c".</summary>
    private static (NamespacePath Directory, byte[] NamePrefix) SplitPrefix(string prefix)
    {
        string trimmed = prefix.TrimStart('/');
        int slash = trimmed.LastIndexOf('/');
        string directory = slash < 0 ? "" : trimmed[..slash];
        string name = slash < 0 ? trimmed : trimmed[(slash + 1)..];
        NamespacePath parsed = NamespacePath.Parse(directory, allowRoot: true);
        byte[] namePrefix = name.Length == 0 ? [] : NamespacePath.ValidateName(name, prefix);
        if (name is "." or "..")
        {
            throw CommandRejectedException.Invalid($"prefix '{prefix}' ends in a relative component");
        }

        return (parsed, namePrefix);
    }

    private static byte[] ListingFingerprint(ListRequest request) => Encoding.UTF8.GetBytes(
        $"list\n{request.Bucket}\n{request.Prefix}\n{(request.Recursive ? 1 : 0)}");

    /// <summary>
    /// Lists a directory by upload time (the time its current version was created), newest first or
    /// oldest first, from the index stored beside the directory's entries. Reads the latest state.
    /// </summary>
    public ListPage ListByTime(string bucket, string directoryPath, bool newestFirst, int limit = 1000, string? continuationToken = null)
    {
        CheckLimit(limit);
        BucketRecord record = RequireBucket(bucket);
        NamespacePath directory = NamespacePath.Parse(directoryPath, allowRoot: true);
        ulong directoryId = ResolveDirectory(record, directory.Components, directory, Latest);
        byte[] fingerprint = Encoding.UTF8.GetBytes($"by-time\n{bucket}\n{directory.Text}\n{(newestFirst ? 1 : 0)}");
        (byte[] lower, byte[] upper) = NamespaceKeys.TimeIndexRange(directoryId);
        byte[]? resumeKey = continuationToken is null
            ? null
            : [.. lower, .. ContinuationTokens.Open(continuationToken, fingerprint)];

        var entries = new List<EntryInfo>(Math.Min(limit, 1024));
        byte[]? lastPosition = null;
        bool more = false;
        using IKvCursor cursor = reader.Scan(KvColumn.Data, lower, upper);
        if (resumeKey is null)
        {
            if (newestFirst)
            {
                cursor.SeekToLast();
            }
            else
            {
                cursor.SeekToFirst();
            }
        }
        else if (newestFirst)
        {
            cursor.SeekForPrev(resumeKey);
        }
        else
        {
            cursor.Seek(resumeKey);
        }

        for (; cursor.Valid; Step(cursor, newestFirst))
        {
            if (resumeKey is not null && cursor.Key.SequenceEqual(resumeKey))
            {
                continue;
            }

            if (entries.Count == limit)
            {
                more = true;
                break;
            }

            (ulong _, byte[] name) = NamespaceKeys.ParseTimeIndex(cursor.Key);
            EntryRecord? entry = FindEntry(directoryId, name);
            if (entry is null)
            {
                throw new CorruptionException(
                    $"time index of directory {directoryId} names '{NamespacePath.Decode(name)}', which does not exist");
            }

            entries.Add(NamespaceStateMachine.ToInfo(bucket, NamespacePath.Join(directory.Text, name), entry));
            lastPosition = cursor.Key[lower.Length..].ToArray();
        }

        return new ListPage(entries, more ? ContinuationTokens.Seal(lastPosition!, fingerprint) : null);
    }

    private static void Step(IKvCursor cursor, bool backwards)
    {
        if (backwards)
        {
            cursor.Prev();
        }
        else
        {
            cursor.Next();
        }
    }
}

/// <summary>
/// Opaque continuation tokens: a position sealed with a checksum bound to the listing it belongs to, so a
/// token that is malformed, truncated or taken from another listing is refused with INVALID_ARGUMENT.
/// </summary>
public static class ContinuationTokens
{
    public static string Seal(byte[] position, byte[] listing) =>
        Convert.ToBase64String(RecordCodec.Seal(listing, position)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[] Open(string token, byte[] listing)
    {
        byte[] raw;
        try
        {
            string base64 = token.Replace('-', '+').Replace('_', '/');
            raw = Convert.FromBase64String(base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '='));
        }
        catch (FormatException)
        {
            throw CommandRejectedException.Invalid("continuation token is malformed (not base64url)");
        }

        try
        {
            return RecordCodec.Open(listing, raw).ToArray();
        }
        catch (CorruptionException)
        {
            throw CommandRejectedException.Invalid("continuation token is malformed or belongs to another listing");
        }
    }
}
