using Strata.Namespace.Commands;

namespace Strata.Namespace;

/// <summary>What one command needs while it applies: its write set, its timestamp and its ID source.</summary>
internal sealed class ApplyContext(WriteSet writes, ulong timestamp, ulong idSeed)
{
    private ulong _idCounter;

    public WriteSet Writes { get; } = writes;

    public ulong Timestamp { get; } = timestamp;

    /// <summary>
    /// The next new directory ID of this command: derived from the proposer's random seed, so every replica
    /// picks the same IDs; an ID already in use is skipped, deterministically.
    /// </summary>
    public ulong NewDirectoryId()
    {
        while (true)
        {
            ulong id = Mix(idSeed + (0x9E3779B97F4A7C15UL * ++_idCounter));
            if (id != 0 && Writes.Get(NamespaceKeys.Directory(id)) is null)
            {
                return id;
            }
        }
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>An entry as found while applying: where it is and its current record (null when absent).</summary>
internal readonly record struct EntrySlot(ulong DirectoryId, byte[] Name, string Path, EntryRecord? Current)
{
    public bool Exists => Current is { Deleted: false };

    public EntryRecord? Live => Exists ? Current : null;
}

public sealed partial class NamespaceStateMachine
{
    private static BucketRecord RequireBucket(WriteSet writes, string name)
    {
        byte[] key = NamespaceKeys.Bucket(name);
        byte[]? stored = writes.Get(key);
        return stored is null
            ? throw CommandRejectedException.NotFound($"bucket '{NamespacePath.Printable(name)}' does not exist")
            : Records.Open(key, stored, BucketRecord.Parser);
    }

    private static EntrySlot ReadSlot(WriteSet writes, ulong directoryId, byte[] name, string path)
    {
        byte[] key = NamespaceKeys.Entry(directoryId, name);
        byte[]? stored = writes.Get(key);
        return new EntrySlot(directoryId, name, path,
            stored is null ? null : Records.Open(key, stored, EntryRecord.Parser));
    }

    /// <summary>
    /// Finds the directory that holds <paramref name="path"/>'s last component, creating missing directories
    /// on the way when <paramref name="createMissing"/> (S3-style puts).
    /// </summary>
    private static ulong ResolveParent(ApplyContext context, BucketRecord bucket, NamespacePath path, bool createMissing)
    {
        ulong directoryId = bucket.RootDirectoryId;
        string walked = "";
        for (int i = 0; i < path.Components.Length - 1; i++)
        {
            byte[] name = path.Components[i];
            walked = NamespacePath.Join(walked, name);
            EntrySlot slot = ReadSlot(context.Writes, directoryId, name, walked);
            if (slot.Live is { } live)
            {
                if (live.Kind != EntryKind.Directory)
                {
                    throw new CommandRejectedException(ResultCode.ResultFailedPrecondition,
                        $"'{walked}' is an object, not a directory: it cannot hold '{path.Text}'")
                    {
                        FailedPath = walked,
                        CurrentGeneration = live.Generation,
                        CurrentMetageneration = live.Metageneration,
                    };
                }

                directoryId = live.DirectoryId;
                continue;
            }

            if (!createMissing)
            {
                throw CommandRejectedException.NotFound($"directory '{walked}' does not exist");
            }

            directoryId = CreateDirectory(context, bucket, slot);
        }

        return directoryId;
    }

    /// <summary>Resolves a path to its slot (the entry may be absent).</summary>
    private static EntrySlot ResolveSlot(ApplyContext context, BucketRecord bucket, NamespacePath path, bool createParents)
    {
        ulong parent = ResolveParent(context, bucket, path, createParents);
        return ReadSlot(context.Writes, parent, path.Name, path.Text);
    }

    private static ulong CreateDirectory(ApplyContext context, BucketRecord bucket, EntrySlot slot)
    {
        ulong id = context.NewDirectoryId();
        var record = new EntryRecord
        {
            Kind = EntryKind.Directory,
            DirectoryId = id,
            Generation = context.Timestamp,
            Metageneration = 1,
            Created = context.Timestamp,
            Modified = context.Timestamp,
        };
        WriteEntry(context, slot, record);
        byte[] directoryKey = NamespaceKeys.Directory(id);
        context.Writes.Put(directoryKey, Records.Seal(directoryKey, new DirectoryRecord
        {
            Bucket = bucket.Name,
            ParentId = slot.DirectoryId,
            Name = NamespacePath.Decode(slot.Name),
        }));
        return id;
    }

    /// <summary>
    /// Makes <paramref name="next"/> the current version of the slot's entry at the command's timestamp:
    /// the previous current version moves to the MVCC history, and the time index follows the change.
    /// </summary>
    private static void WriteEntry(ApplyContext context, EntrySlot slot, EntryRecord next)
    {
        next.Version = context.Timestamp;
        WriteSet writes = context.Writes;
        if (slot.Current is { } previous && previous.Version != context.Timestamp)
        {
            byte[] historyKey = NamespaceKeys.EntryVersion(slot.DirectoryId, slot.Name, previous.Version);
            writes.Put(historyKey, Records.Seal(historyKey, previous));
        }

        if (slot.Live is { } live)
        {
            writes.Delete(NamespaceKeys.TimeIndex(slot.DirectoryId, live.Created, slot.Name));
        }

        if (!next.Deleted)
        {
            writes.Put(NamespaceKeys.TimeIndex(slot.DirectoryId, next.Created, slot.Name), []);
        }

        byte[] key = NamespaceKeys.Entry(slot.DirectoryId, slot.Name);
        writes.Put(key, Records.Seal(key, next));
    }

    /// <summary>Marks the slot's entry deleted (a tombstone version, so older snapshots still see it).</summary>
    private static void DeleteEntry(ApplyContext context, EntrySlot slot) =>
        WriteEntry(context, slot, new EntryRecord { Deleted = true });

    /// <summary>In a versioned bucket, keeps the object being replaced or deleted as a noncurrent version.</summary>
    private static void KeepNoncurrent(ApplyContext context, BucketRecord bucket, EntrySlot slot)
    {
        if (bucket.Versioning && slot.Live is { Kind: EntryKind.Object } live)
        {
            byte[] key = NamespaceKeys.Noncurrent(slot.DirectoryId, slot.Name, live.Generation);
            EntryRecord kept = live.Clone();
            kept.Modified = context.Timestamp;
            context.Writes.Put(key, Records.Seal(key, kept));
        }
    }

    /// <summary>Checks <paramref name="preconditions"/> against the slot; throws FAILED_PRECONDITION naming the entry.</summary>
    private static void CheckPreconditions(EntrySlot slot, Preconditions? preconditions)
    {
        if (preconditions is null)
        {
            return;
        }

        EntryRecord? live = slot.Live;
        string state = live is null
            ? $"'{slot.Path}' does not exist"
            : $"'{slot.Path}' has generation {live.Generation}, metageneration {live.Metageneration}";
        CommandRejectedException Failed(string requirement) => new(ResultCode.ResultFailedPrecondition,
            $"precondition failed: {state}; the request required {requirement}")
        {
            FailedPath = slot.Path,
            CurrentGeneration = live?.Generation ?? 0,
            CurrentMetageneration = live?.Metageneration ?? 0,
        };

        if (preconditions.HasIfGenerationMatch)
        {
            ulong expected = preconditions.IfGenerationMatch;
            if (expected == 0 && live is not null)
            {
                throw Failed("that it does not exist (if-generation-match 0)");
            }

            if (expected != 0 && live?.Generation != expected)
            {
                throw Failed($"generation {expected}");
            }
        }

        if (preconditions.HasIfMetagenerationMatch && live?.Metageneration != preconditions.IfMetagenerationMatch)
        {
            throw Failed($"metageneration {preconditions.IfMetagenerationMatch}");
        }

        if (preconditions.IfNoneMatch && live is not null)
        {
            throw Failed("that it does not exist (if-none-match)");
        }

        if (preconditions.HasIfMatch &&
            (live is null || live.Kind != EntryKind.Object || live.Attributes.Etag != preconditions.IfMatch))
        {
            string current = live?.Attributes?.Etag is { Length: > 0 } etag ? $" (current ETag \"{etag}\")" : "";
            throw Failed($"ETag \"{preconditions.IfMatch}\"{current}");
        }
    }

    /// <summary>True when the directory has a live child or keeps noncurrent versions of a child.</summary>
    private static string? NonEmptyReason(WriteSet writes, ulong directoryId)
    {
        (byte[] lower, byte[] upper) = NamespaceKeys.DirectoryEntries(directoryId);
        foreach (KeyValuePair<byte[], byte[]> pair in writes.Scan(lower, upper))
        {
            (ReadOnlyMemory<byte> _, ulong? version) = NamespaceKeys.ParseEntry(pair.Key, out _);
            if (version is null && !Records.Open(pair.Key, pair.Value, EntryRecord.Parser).Deleted)
            {
                return "it has entries";
            }
        }

        byte[] noncurrentLower = [NamespaceKeys.NoncurrentKind, .. lower.AsSpan(1)];
        byte[] noncurrentUpper = [NamespaceKeys.NoncurrentKind, .. upper.AsSpan(1)];
        foreach (KeyValuePair<byte[], byte[]> _ in writes.Scan(noncurrentLower, noncurrentUpper))
        {
            return "it keeps noncurrent object versions";
        }

        return null;
    }

    internal static EntryInfo ToInfo(string bucket, string path, EntryRecord record, bool isCurrent = true) => new()
    {
        Bucket = bucket,
        Path = path,
        Kind = record.Kind,
        Generation = record.Generation,
        Metageneration = record.Metageneration,
        Created = record.Created,
        Modified = record.Modified,
        Attributes = record.Kind == EntryKind.Object ? record.Attributes : null,
        DirectoryId = record.DirectoryId,
        IsCurrent = isCurrent,
    };
}
