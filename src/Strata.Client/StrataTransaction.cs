using Strata.Api.V1;

namespace Strata.Client;

/// <summary>
/// Builds a multi-operation transaction for <see cref="StrataClient.CommitAsync(StrataTransaction, TimeSpan?, CancellationToken)"/>:
/// the operations apply in order, all or none. A <see cref="Guard"/> checks preconditions and changes nothing,
/// so "change these only if that is still at generation G" is one atomic commit.
/// </summary>
/// <remarks>Not thread-safe: build on one thread, then commit. Committing does not consume the builder.</remarks>
public sealed class StrataTransaction
{
    private readonly List<TransactionOperation> _operations = [];

    /// <summary>The operations in commit order.</summary>
    public IReadOnlyList<TransactionOperation> Operations => _operations;

    /// <summary>Requires <paramref name="preconditions"/> of the entry at <paramref name="path"/>; writes nothing.</summary>
    public StrataTransaction Guard(string bucket, string path, Preconditions preconditions) =>
        Add(new TransactionOperation { Guard = new Guard { Bucket = bucket, Path = path, Preconditions = preconditions } });

    /// <summary>Creates or replaces an object.</summary>
    public StrataTransaction Put(string bucket, string path, ObjectAttributes attributes, Preconditions? preconditions = null) =>
        Add(new TransactionOperation
        {
            Put = new PutObjectRequest { Bucket = bucket, Path = path, Attributes = attributes, Preconditions = preconditions },
        });

    /// <summary>Deletes an object (or, with <paramref name="version"/>, one noncurrent version).</summary>
    public StrataTransaction Delete(string bucket, string path, Preconditions? preconditions = null, ulong? version = null)
    {
        var delete = new DeleteObjectRequest { Bucket = bucket, Path = path, Preconditions = preconditions };
        if (version is ulong generation)
        {
            delete.Version = generation;
        }

        return Add(new TransactionOperation { Delete = delete });
    }

    /// <summary>Changes an object's metadata (the request is copied).</summary>
    public StrataTransaction Patch(PatchObjectRequest patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
        return Add(new TransactionOperation { Patch = patch.Clone() });
    }

    /// <summary>Creates a directory.</summary>
    public StrataTransaction MakeDirectory(string bucket, string path, Preconditions? preconditions = null) =>
        Add(new TransactionOperation { MakeDirectory = new MakeDirectoryRequest { Bucket = bucket, Path = path, Preconditions = preconditions } });

    /// <summary>Removes an empty directory.</summary>
    public StrataTransaction RemoveDirectory(string bucket, string path, Preconditions? preconditions = null) =>
        Add(new TransactionOperation { RemoveDirectory = new RemoveDirectoryRequest { Bucket = bucket, Path = path, Preconditions = preconditions } });

    /// <summary>Moves an entry; <paramref name="preconditions"/> apply to the source.</summary>
    public StrataTransaction Rename(string bucket, string source, string destination, Preconditions? preconditions = null, bool replaceDestination = false) =>
        Add(new TransactionOperation
        {
            Rename = new RenameRequest
            {
                Bucket = bucket,
                Source = source,
                Destination = destination,
                Preconditions = preconditions,
                ReplaceDestination = replaceDestination,
            },
        });

    /// <summary>Appends an operation built elsewhere (it is copied).</summary>
    public StrataTransaction Add(TransactionOperation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        _operations.Add(operation.Clone());
        return this;
    }
}
