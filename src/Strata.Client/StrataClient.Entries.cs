using Strata.Api.V1;

namespace Strata.Client;

public sealed partial class StrataClient
{
    /// <summary>Creates or replaces the object at <paramref name="path"/> (missing parent directories are created).</summary>
    public async Task<Entry> PutObjectAsync(
        string bucket,
        string path,
        ObjectAttributes attributes,
        Preconditions? preconditions = null,
        TimeSpan? deadline = null,
        CancellationToken cancellationToken = default)
    {
        var request = new PutObjectRequest
        {
            Bucket = bucket,
            Path = path,
            Attributes = attributes,
            Preconditions = preconditions,
        };
        EntryResponse response = await MutateAsync(request.Bucket, id => request.Id = id, (n, o) => n.Strata.PutObjectAsync(request, o), deadline, cancellationToken).ConfigureAwait(false);
        return response.Entry;
    }

    /// <summary>
    /// The entry at <paramref name="path"/>: the latest state, the state at HLC timestamp <paramref name="at"/>,
    /// or the version with generation <paramref name="generation"/>. NOT_FOUND when absent.
    /// </summary>
    public async Task<Entry> StatAsync(
        string bucket,
        string path,
        ulong? at = null,
        ulong? generation = null,
        TimeSpan? deadline = null,
        CancellationToken cancellationToken = default)
    {
        var request = new StatRequest { Bucket = bucket, Path = path };
        if (at is ulong timestamp)
        {
            request.At = timestamp;
        }

        if (generation is ulong version)
        {
            request.Generation = version;
        }

        EntryResponse response = await InvokeAsync(request.Bucket, (n, o) => n.Strata.StatAsync(request, o), deadline, cancellationToken).ConfigureAwait(false);
        return response.Entry;
    }

    /// <summary>
    /// Deletes the object at <paramref name="path"/> (in a versioned bucket it becomes noncurrent), or, with
    /// <paramref name="version"/>, permanently removes that noncurrent version. Returns the deleted entry.
    /// </summary>
    public async Task<Entry> DeleteObjectAsync(
        string bucket,
        string path,
        Preconditions? preconditions = null,
        ulong? version = null,
        TimeSpan? deadline = null,
        CancellationToken cancellationToken = default)
    {
        var request = new DeleteObjectRequest { Bucket = bucket, Path = path, Preconditions = preconditions };
        if (version is ulong generation)
        {
            request.Version = generation;
        }

        EntryResponse response = await MutateAsync(request.Bucket, id => request.Id = id, (n, o) => n.Strata.DeleteObjectAsync(request, o), deadline, cancellationToken).ConfigureAwait(false);
        return response.Entry;
    }

    /// <summary>Changes an object's metadata (content type, tier, lifecycle, locations, user metadata). The request is copied.</summary>
    public async Task<Entry> PatchObjectAsync(PatchObjectRequest request, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        PatchObjectRequest sent = request.Clone();
        EntryResponse response = await MutateAsync(sent.Bucket, id => sent.Id = id, (n, o) => n.Strata.PatchObjectAsync(sent, o), deadline, cancellationToken).ConfigureAwait(false);
        return response.Entry;
    }

    /// <summary>Creates a directory (and missing parents). ALREADY_EXISTS when an entry is at the path.</summary>
    public async Task<Entry> MakeDirectoryAsync(
        string bucket,
        string path,
        Preconditions? preconditions = null,
        TimeSpan? deadline = null,
        CancellationToken cancellationToken = default)
    {
        var request = new MakeDirectoryRequest { Bucket = bucket, Path = path, Preconditions = preconditions };
        EntryResponse response = await MutateAsync(request.Bucket, id => request.Id = id, (n, o) => n.Strata.MakeDirectoryAsync(request, o), deadline, cancellationToken).ConfigureAwait(false);
        return response.Entry;
    }

    /// <summary>Removes an empty directory. FAILED_PRECONDITION when it has children.</summary>
    public async Task<Entry> RemoveDirectoryAsync(
        string bucket,
        string path,
        Preconditions? preconditions = null,
        TimeSpan? deadline = null,
        CancellationToken cancellationToken = default)
    {
        var request = new RemoveDirectoryRequest { Bucket = bucket, Path = path, Preconditions = preconditions };
        EntryResponse response = await MutateAsync(request.Bucket, id => request.Id = id, (n, o) => n.Strata.RemoveDirectoryAsync(request, o), deadline, cancellationToken).ConfigureAwait(false);
        return response.Entry;
    }

    /// <summary>
    /// Moves the entry at <paramref name="source"/> to <paramref name="destination"/> atomically. A directory
    /// moves as one entry whatever it holds. <paramref name="preconditions"/> apply to the source;
    /// <paramref name="replaceDestination"/> lets an object replace an existing destination object.
    /// Returns the entry at its new path.
    /// </summary>
    public async Task<Entry> RenameAsync(
        string bucket,
        string source,
        string destination,
        Preconditions? preconditions = null,
        bool replaceDestination = false,
        TimeSpan? deadline = null,
        CancellationToken cancellationToken = default)
    {
        var request = new RenameRequest
        {
            Bucket = bucket,
            Source = source,
            Destination = destination,
            Preconditions = preconditions,
            ReplaceDestination = replaceDestination,
        };
        EntryResponse response = await MutateAsync(request.Bucket, id => request.Id = id, (n, o) => n.Strata.RenameAsync(request, o), deadline, cancellationToken).ConfigureAwait(false);
        return response.Entry;
    }
}
