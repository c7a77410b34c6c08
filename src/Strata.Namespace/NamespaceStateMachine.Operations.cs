using Strata.Namespace.Commands;

namespace Strata.Namespace;

public sealed partial class NamespaceStateMachine
{
    private static CommandResult Ok(EntryInfo? entry = null) => new() { Entry = entry, FailedOperation = -1 };

    private static CommandResult CreateBucket(ApplyContext context, CreateBucket create)
    {
        BucketNames.Validate(create.Name);
        byte[] key = NamespaceKeys.Bucket(create.Name);
        if (context.Writes.Get(key) is not null)
        {
            throw new CommandRejectedException(ResultCode.ResultAlreadyExists, $"bucket '{create.Name}' already exists")
            {
                FailedPath = create.Name,
            };
        }

        ulong root = context.NewDirectoryId();
        var record = new BucketRecord
        {
            Name = create.Name,
            Versioning = create.Versioning,
            Created = context.Timestamp,
            RootDirectoryId = root,
        };
        context.Writes.Put(key, Records.Seal(key, record));
        byte[] directoryKey = NamespaceKeys.Directory(root);
        context.Writes.Put(directoryKey, Records.Seal(directoryKey, new DirectoryRecord { Bucket = create.Name }));
        return new CommandResult { Bucket = BucketInfoOf(record), FailedOperation = -1 };
    }

    private static CommandResult DeleteBucket(ApplyContext context, DeleteBucket delete)
    {
        BucketRecord bucket = RequireBucket(context.Writes, delete.Name);
        if (NonEmptyReason(context.Writes, bucket.RootDirectoryId) is { } reason)
        {
            throw new CommandRejectedException(ResultCode.ResultNotEmpty, $"bucket '{delete.Name}' is not empty: {reason}")
            {
                FailedPath = delete.Name,
            };
        }

        context.Writes.Delete(NamespaceKeys.Bucket(delete.Name));
        context.Writes.Delete(NamespaceKeys.Directory(bucket.RootDirectoryId));
        return new CommandResult { Bucket = BucketInfoOf(bucket), FailedOperation = -1 };
    }

    private static CommandResult Put(ApplyContext context, PutObject put)
    {
        BucketRecord bucket = RequireBucket(context.Writes, put.Bucket);
        NamespacePath path = NamespacePath.Parse(put.Path);
        ObjectAttributes attributes = put.Attributes ?? new ObjectAttributes();
        ObjectRules.Validate(attributes);
        EntrySlot slot = ResolveSlot(context, bucket, path, createParents: true);
        if (slot.Live is { Kind: EntryKind.Directory } directory)
        {
            throw new CommandRejectedException(ResultCode.ResultAlreadyExists,
                $"'{path.Text}' is a directory; an object cannot replace it")
            {
                FailedPath = path.Text,
                CurrentGeneration = directory.Generation,
                CurrentMetageneration = directory.Metageneration,
            };
        }

        CheckPreconditions(slot, put.Preconditions);
        KeepNoncurrent(context, bucket, slot);
        var record = new EntryRecord
        {
            Kind = EntryKind.Object,
            Generation = context.Timestamp,
            Metageneration = 1,
            Created = context.Timestamp,
            Modified = context.Timestamp,
            Attributes = attributes.Clone(),
        };
        WriteEntry(context, slot, record);
        return Ok(ToInfo(bucket.Name, path.Text, record));
    }

    private static CommandResult Patch(ApplyContext context, PatchObject patch)
    {
        BucketRecord bucket = RequireBucket(context.Writes, patch.Bucket);
        NamespacePath path = NamespacePath.Parse(patch.Path);
        EntrySlot slot = ResolveSlot(context, bucket, path, createParents: false);
        EntryRecord current = RequireObject(slot);
        CheckPreconditions(slot, patch.Preconditions);
        EntryRecord next = current.Clone();
        ObjectAttributes attributes = next.Attributes ?? new ObjectAttributes();
        next.Attributes = attributes;
        if (patch.HasContentType)
        {
            attributes.ContentType = patch.ContentType;
        }

        if (patch.HasTier)
        {
            attributes.Tier = patch.Tier;
        }

        if (patch.HasLifecycle)
        {
            attributes.Lifecycle = patch.Lifecycle;
        }

        if (patch.ReplaceLocations)
        {
            attributes.Locations.Clear();
            attributes.Locations.AddRange(patch.Locations);
        }

        foreach (string removed in patch.RemoveMetadata)
        {
            attributes.UserMetadata.Remove(removed);
        }

        foreach (KeyValuePair<string, string> set in patch.SetMetadata)
        {
            attributes.UserMetadata[set.Key] = set.Value;
        }

        ObjectRules.Validate(attributes);
        next.Metageneration = current.Metageneration + 1;
        next.Modified = context.Timestamp;
        WriteEntry(context, slot, next);
        return Ok(ToInfo(bucket.Name, path.Text, next));
    }

    private static CommandResult Delete(ApplyContext context, DeleteObject delete)
    {
        BucketRecord bucket = RequireBucket(context.Writes, delete.Bucket);
        NamespacePath path = NamespacePath.Parse(delete.Path);
        EntrySlot slot = ResolveSlot(context, bucket, path, createParents: false);
        if (delete.HasVersion && slot.Live?.Generation != delete.Version)
        {
            return DeleteNoncurrent(context, bucket, slot, delete.Version);
        }

        if (delete.HasVersion)
        {
            return DeleteCurrentVersion(context, bucket, slot, delete.Preconditions);
        }

        EntryRecord current = RequireObject(slot);
        CheckPreconditions(slot, delete.Preconditions);
        KeepNoncurrent(context, bucket, slot);
        DeleteEntry(context, slot);
        return new CommandResult { Entry = ToInfo(bucket.Name, path.Text, current), Removed = 1, FailedOperation = -1 };
    }

    /// <summary>
    /// Permanently removes the current version (named by its generation): it is not kept as noncurrent, and the
    /// newest noncurrent version, if any, becomes current again.
    /// </summary>
    private static CommandResult DeleteCurrentVersion(ApplyContext context, BucketRecord bucket, EntrySlot slot, Preconditions? preconditions)
    {
        EntryRecord current = RequireObject(slot);
        CheckPreconditions(slot, preconditions);
        (byte[] lower, byte[] upper) = NamespaceKeys.NoncurrentVersions(slot.DirectoryId, slot.Name);
        KeyValuePair<byte[], byte[]>? newest = null;
        foreach (KeyValuePair<byte[], byte[]> pair in context.Writes.Scan(lower, upper))
        {
            newest = pair;
            break;
        }

        if (newest is { } promoted)
        {
            EntryRecord restored = Records.Open(promoted.Key, promoted.Value, EntryRecord.Parser);
            context.Writes.Delete(promoted.Key);
            WriteEntry(context, slot, restored);
        }
        else
        {
            DeleteEntry(context, slot);
        }

        return new CommandResult { Entry = ToInfo(bucket.Name, slot.Path, current), Removed = 1, FailedOperation = -1 };
    }

    private static CommandResult DeleteNoncurrent(ApplyContext context, BucketRecord bucket, EntrySlot slot, ulong version)
    {
        byte[] key = NamespaceKeys.Noncurrent(slot.DirectoryId, slot.Name, version);
        byte[]? stored = context.Writes.Get(key);
        if (stored is null)
        {
            throw CommandRejectedException.NotFound($"'{slot.Path}' has no version {version}");
        }

        EntryRecord record = Records.Open(key, stored, EntryRecord.Parser);
        context.Writes.Delete(key);
        return new CommandResult
        {
            Entry = ToInfo(bucket.Name, slot.Path, record, isCurrent: false),
            Removed = 1,
            FailedOperation = -1,
        };
    }

    private static CommandResult MakeDirectory(ApplyContext context, MakeDirectory make)
    {
        BucketRecord bucket = RequireBucket(context.Writes, make.Bucket);
        NamespacePath path = NamespacePath.Parse(make.Path);
        EntrySlot slot = ResolveSlot(context, bucket, path, createParents: true);
        CheckPreconditions(slot, make.Preconditions);
        if (slot.Live is { } existing)
        {
            string what = existing.Kind == EntryKind.Directory ? "directory" : "object";
            throw new CommandRejectedException(ResultCode.ResultAlreadyExists, $"'{path.Text}' already exists as a {what}")
            {
                FailedPath = path.Text,
                CurrentGeneration = existing.Generation,
                CurrentMetageneration = existing.Metageneration,
            };
        }

        CreateDirectory(context, bucket, slot);
        byte[] key = NamespaceKeys.Entry(slot.DirectoryId, slot.Name);
        EntryRecord created = Records.Open(key, context.Writes.Get(key)!, EntryRecord.Parser);
        return Ok(ToInfo(bucket.Name, path.Text, created));
    }

    private static CommandResult RemoveDirectory(ApplyContext context, RemoveDirectory remove)
    {
        BucketRecord bucket = RequireBucket(context.Writes, remove.Bucket);
        NamespacePath path = NamespacePath.Parse(remove.Path);
        EntrySlot slot = ResolveSlot(context, bucket, path, createParents: false);
        EntryRecord current = slot.Live ?? throw CommandRejectedException.NotFound($"directory '{path.Text}' does not exist");
        if (current.Kind != EntryKind.Directory)
        {
            throw new CommandRejectedException(ResultCode.ResultFailedPrecondition,
                $"'{path.Text}' is an object, not a directory; delete it instead")
            {
                FailedPath = path.Text,
                CurrentGeneration = current.Generation,
            };
        }

        CheckPreconditions(slot, remove.Preconditions);
        if (NonEmptyReason(context.Writes, current.DirectoryId) is { } reason)
        {
            throw new CommandRejectedException(ResultCode.ResultNotEmpty, $"directory '{path.Text}' is not empty: {reason}")
            {
                FailedPath = path.Text,
                CurrentGeneration = current.Generation,
            };
        }

        DeleteEntry(context, slot);
        context.Writes.Delete(NamespaceKeys.Directory(current.DirectoryId));
        return new CommandResult { Entry = ToInfo(bucket.Name, path.Text, current), Removed = 1, FailedOperation = -1 };
    }

    /// <summary>
    /// Moves one entry. A directory moves as its single entry (its children are keyed by its ID, which does
    /// not change), so renaming a directory costs the same whatever it holds. Refused when the destination
    /// lies inside the source's own subtree: the destination's ancestor chain is read and checked, so the
    /// check holds even against concurrent renames of those ancestors (they are ordered by the log).
    /// </summary>
    private static CommandResult Rename(ApplyContext context, Rename rename)
    {
        BucketRecord bucket = RequireBucket(context.Writes, rename.Bucket);
        NamespacePath source = NamespacePath.Parse(rename.Source);
        NamespacePath destination = NamespacePath.Parse(rename.Destination);
        if (source.Text == destination.Text)
        {
            throw CommandRejectedException.Invalid($"source and destination are the same path '{source.Text}'");
        }

        EntrySlot from = ResolveSlot(context, bucket, source, createParents: false);
        EntryRecord moving = from.Live ?? throw CommandRejectedException.NotFound($"'{source.Text}' does not exist");
        CheckPreconditions(from, rename.Preconditions);
        if (moving.Kind == EntryKind.Directory && destination.IsWithin(source))
        {
            throw CommandRejectedException.Invalid(
                $"cannot move directory '{source.Text}' into its own subtree ('{destination.Text}')");
        }

        EntrySlot to = ResolveSlot(context, bucket, destination, createParents: true);
        if (moving.Kind == EntryKind.Directory)
        {
            RefuseCycle(context.Writes, moving.DirectoryId, to.DirectoryId, source, destination);
        }

        // Re-read the source: creating the destination's parents never touches it, but be exact.
        from = ReadSlot(context.Writes, from.DirectoryId, from.Name, from.Path);
        if (to.Live is { } occupant)
        {
            bool replaceable = rename.ReplaceDestination && occupant.Kind == EntryKind.Object && moving.Kind == EntryKind.Object;
            if (!replaceable)
            {
                string what = occupant.Kind == EntryKind.Directory ? "a directory" : "an object";
                throw new CommandRejectedException(ResultCode.ResultAlreadyExists,
                    $"destination '{destination.Text}' already exists as {what}" +
                    (occupant.Kind == EntryKind.Object && moving.Kind == EntryKind.Object ? " (set replace to overwrite it)" : ""))
                {
                    FailedPath = destination.Text,
                    CurrentGeneration = occupant.Generation,
                    CurrentMetageneration = occupant.Metageneration,
                };
            }

            KeepNoncurrent(context, bucket, to);
        }

        EntryRecord moved = moving.Clone();
        moved.Metageneration = moving.Metageneration + 1;
        moved.Modified = context.Timestamp;
        DeleteEntry(context, from);
        WriteEntry(context, to with { Current = ReadSlot(context.Writes, to.DirectoryId, to.Name, to.Path).Current }, moved);
        if (moving.Kind == EntryKind.Directory)
        {
            byte[] directoryKey = NamespaceKeys.Directory(moving.DirectoryId);
            context.Writes.Put(directoryKey, Records.Seal(directoryKey, new DirectoryRecord
            {
                Bucket = bucket.Name,
                ParentId = to.DirectoryId,
                Name = NamespacePath.Decode(to.Name),
            }));
        }

        return Ok(ToInfo(bucket.Name, destination.Text, moved));
    }

    /// <summary>Walks the destination's ancestors up to the root; meeting the moving directory is a cycle.</summary>
    private static void RefuseCycle(WriteSet writes, ulong moving, ulong destinationParent, NamespacePath source, NamespacePath destination)
    {
        ulong current = destinationParent;
        for (int depth = 0; current != 0; depth++)
        {
            if (current == moving)
            {
                throw CommandRejectedException.Invalid(
                    $"cannot move directory '{source.Text}' into its own subtree ('{destination.Text}')");
            }

            if (depth > NamespaceLimits.MaxDepth * 4)
            {
                throw new Storage.CorruptionException($"directory chain above {destinationParent} does not reach a root");
            }

            byte[] key = NamespaceKeys.Directory(current);
            byte[]? stored = writes.Get(key);
            if (stored is null)
            {
                throw new Storage.CorruptionException($"directory {current} has no directory record");
            }

            current = Records.Open(key, stored, DirectoryRecord.Parser).ParentId;
        }
    }

    /// <summary>
    /// Checks preconditions and changes nothing. A path whose parent is missing (or is an object) names an
    /// entry that does not exist, and is checked as such.
    /// </summary>
    private static CommandResult Guard(ApplyContext context, Guard guard)
    {
        BucketRecord bucket = RequireBucket(context.Writes, guard.Bucket);
        NamespacePath path = NamespacePath.Parse(guard.Path);
        EntrySlot slot;
        try
        {
            slot = ResolveSlot(context, bucket, path, createParents: false);
        }
        catch (CommandRejectedException rejected) when (rejected.Code is ResultCode.ResultNotFound or ResultCode.ResultFailedPrecondition)
        {
            slot = new EntrySlot(0, path.Name, path.Text, null);
        }

        CheckPreconditions(slot, guard.Preconditions);
        return Ok(slot.Live is { } live ? ToInfo(bucket.Name, path.Text, live) : null);
    }

    /// <summary>All operations apply in order, or none: the first refusal discards the whole write set.</summary>
    private static CommandResult Transaction(ApplyContext context, Transaction transaction)
    {
        if (transaction.Operations.Count == 0)
        {
            throw CommandRejectedException.Invalid("a transaction needs at least one operation");
        }

        if (transaction.Operations.Count > NamespaceLimits.MaxTransactionOperations)
        {
            throw CommandRejectedException.Invalid(
                $"a transaction has at most {NamespaceLimits.MaxTransactionOperations} operations, not {transaction.Operations.Count}");
        }

        var result = new CommandResult { FailedOperation = -1 };
        for (int i = 0; i < transaction.Operations.Count; i++)
        {
            Operation operation = transaction.Operations[i];
            try
            {
                result.Operations.Add(operation.BodyCase switch
                {
                    Operation.BodyOneofCase.Put => Put(context, operation.Put),
                    Operation.BodyOneofCase.Delete => Delete(context, operation.Delete),
                    Operation.BodyOneofCase.Patch => Patch(context, operation.Patch),
                    Operation.BodyOneofCase.MakeDirectory => MakeDirectory(context, operation.MakeDirectory),
                    Operation.BodyOneofCase.RemoveDirectory => RemoveDirectory(context, operation.RemoveDirectory),
                    Operation.BodyOneofCase.Rename => Rename(context, operation.Rename),
                    Operation.BodyOneofCase.Guard => Guard(context, operation.Guard),
                    _ => throw CommandRejectedException.Invalid("the operation is empty"),
                });
            }
            catch (CommandRejectedException rejected)
            {
                throw new CommandRejectedException(rejected.Code, $"operation {i} of the transaction: {rejected.Message}")
                {
                    FailedPath = rejected.FailedPath,
                    CurrentGeneration = rejected.CurrentGeneration,
                    CurrentMetageneration = rejected.CurrentMetageneration,
                    FailedOperation = i,
                };
            }
        }

        return result;
    }

    private static EntryRecord RequireObject(EntrySlot slot)
    {
        EntryRecord current = slot.Live ?? throw CommandRejectedException.NotFound($"object '{slot.Path}' does not exist");
        return current.Kind == EntryKind.Object
            ? current
            : throw new CommandRejectedException(ResultCode.ResultFailedPrecondition,
                $"'{slot.Path}' is a directory, not an object")
            {
                FailedPath = slot.Path,
                CurrentGeneration = current.Generation,
            };
    }

    internal static BucketInfo BucketInfoOf(BucketRecord record) => new()
    {
        Name = record.Name,
        Versioning = record.Versioning,
        Created = record.Created,
        RootDirectoryId = record.RootDirectoryId,
    };
}
