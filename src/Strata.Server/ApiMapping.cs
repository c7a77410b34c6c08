using Google.Protobuf.Collections;
using V1 = Strata.Api.V1;
using Ns = Strata.Namespace.Commands;

namespace Strata.Server;

/// <summary>
/// Translates between the public wire contract (<c>strata.v1</c>) and the namespace state machine's commands
/// and results (<c>strata.namespace</c>): one function per message type, used by every RPC and by every
/// transaction operation alike, so a field is copied in exactly one place.
/// </summary>
/// <remarks>
/// The two contracts evolve separately on purpose (the API is public and stable, the commands are replicated
/// and versioned with the log), so they are copied field by field rather than reinterpreted on the wire. Enum
/// values are passed through unchanged, including values this build does not know: the state machine
/// validates them and refuses unknown ones with a precise INVALID_ARGUMENT. Pure functions, thread-safe.
/// </remarks>
internal static class ApiMapping
{
    /// <summary>Length of a client id in a <see cref="V1.MutationId"/>.</summary>
    public const int ClientIdLength = 16;

    /// <summary>
    /// A command carrying the request's mutation id (empty when the request has none: accepted, but then a
    /// retry may apply twice). Throws <see cref="Namespace.CommandRejectedException"/> on a malformed id.
    /// </summary>
    public static Ns.Command Command(V1.MutationId? id)
    {
        var command = new Ns.Command();
        if (id is null)
        {
            return command;
        }

        if (id.ClientId.Length != ClientIdLength)
        {
            throw Namespace.CommandRejectedException.Invalid(
                $"mutation id: client_id must be {ClientIdLength} bytes, not {id.ClientId.Length}");
        }

        if (id.Sequence == 0)
        {
            throw Namespace.CommandRejectedException.Invalid("mutation id: sequence must start at 1, not 0");
        }

        command.ClientId = id.ClientId;
        command.Sequence = id.Sequence;
        return command;
    }

    public static Ns.CreateBucket ToCommand(V1.CreateBucketRequest request) => new()
    {
        Name = request.Name,
        Versioning = request.Versioning,
    };

    public static Ns.DeleteBucket ToCommand(V1.DeleteBucketRequest request) => new() { Name = request.Name };

    public static Ns.PutObject ToCommand(V1.PutObjectRequest request) => new()
    {
        Bucket = request.Bucket,
        Path = request.Path,
        Attributes = request.Attributes is null ? null : ToCommand(request.Attributes),
        Preconditions = ToCommand(request.Preconditions),
    };

    public static Ns.DeleteObject ToCommand(V1.DeleteObjectRequest request)
    {
        var delete = new Ns.DeleteObject
        {
            Bucket = request.Bucket,
            Path = request.Path,
            Preconditions = ToCommand(request.Preconditions),
        };
        if (request.HasVersion)
        {
            delete.Version = request.Version;
        }

        return delete;
    }

    public static Ns.PatchObject ToCommand(V1.PatchObjectRequest request)
    {
        var patch = new Ns.PatchObject
        {
            Bucket = request.Bucket,
            Path = request.Path,
            ReplaceLocations = request.ReplaceLocations,
            Preconditions = ToCommand(request.Preconditions),
        };
        if (request.HasContentType)
        {
            patch.ContentType = request.ContentType;
        }

        if (request.HasTier)
        {
            patch.Tier = ToCommand(request.Tier);
        }

        if (request.HasLifecycle)
        {
            patch.Lifecycle = ToCommand(request.Lifecycle);
        }

        AddLocations(patch.Locations, request.Locations);
        patch.SetMetadata.Add(request.SetMetadata);
        patch.RemoveMetadata.Add(request.RemoveMetadata);
        return patch;
    }

    public static Ns.MakeDirectory ToCommand(V1.MakeDirectoryRequest request) => new()
    {
        Bucket = request.Bucket,
        Path = request.Path,
        Preconditions = ToCommand(request.Preconditions),
    };

    public static Ns.RemoveDirectory ToCommand(V1.RemoveDirectoryRequest request) => new()
    {
        Bucket = request.Bucket,
        Path = request.Path,
        Preconditions = ToCommand(request.Preconditions),
    };

    public static Ns.Rename ToCommand(V1.RenameRequest request) => new()
    {
        Bucket = request.Bucket,
        Source = request.Source,
        Destination = request.Destination,
        Preconditions = ToCommand(request.Preconditions),
        ReplaceDestination = request.ReplaceDestination,
    };

    public static Ns.Guard ToCommand(V1.Guard guard) => new()
    {
        Bucket = guard.Bucket,
        Path = guard.Path,
        Preconditions = ToCommand(guard.Preconditions),
    };

    /// <summary>The operations of a transaction; the mutation ids of the inner requests are ignored.</summary>
    public static Ns.Transaction ToCommand(V1.CommitRequest request)
    {
        var transaction = new Ns.Transaction();
        foreach (V1.TransactionOperation operation in request.Operations)
        {
            transaction.Operations.Add(ToCommand(operation));
        }

        return transaction;
    }

    /// <summary>One transaction operation; an empty one stays empty and is refused by the state machine.</summary>
    public static Ns.Operation ToCommand(V1.TransactionOperation operation) => operation.BodyCase switch
    {
        V1.TransactionOperation.BodyOneofCase.Put => new Ns.Operation { Put = ToCommand(operation.Put) },
        V1.TransactionOperation.BodyOneofCase.Delete => new Ns.Operation { Delete = ToCommand(operation.Delete) },
        V1.TransactionOperation.BodyOneofCase.Patch => new Ns.Operation { Patch = ToCommand(operation.Patch) },
        V1.TransactionOperation.BodyOneofCase.MakeDirectory => new Ns.Operation { MakeDirectory = ToCommand(operation.MakeDirectory) },
        V1.TransactionOperation.BodyOneofCase.RemoveDirectory => new Ns.Operation { RemoveDirectory = ToCommand(operation.RemoveDirectory) },
        V1.TransactionOperation.BodyOneofCase.Rename => new Ns.Operation { Rename = ToCommand(operation.Rename) },
        V1.TransactionOperation.BodyOneofCase.Guard => new Ns.Operation { Guard = ToCommand(operation.Guard) },
        _ => new Ns.Operation(),
    };

    public static Ns.Preconditions? ToCommand(V1.Preconditions? preconditions)
    {
        if (preconditions is null)
        {
            return null;
        }

        var converted = new Ns.Preconditions { IfNoneMatch = preconditions.IfNoneMatch };
        if (preconditions.HasIfGenerationMatch)
        {
            converted.IfGenerationMatch = preconditions.IfGenerationMatch;
        }

        if (preconditions.HasIfMetagenerationMatch)
        {
            converted.IfMetagenerationMatch = preconditions.IfMetagenerationMatch;
        }

        if (preconditions.HasIfMatch)
        {
            converted.IfMatch = preconditions.IfMatch;
        }

        return converted;
    }

    public static Ns.ObjectAttributes ToCommand(V1.ObjectAttributes attributes)
    {
        var converted = new Ns.ObjectAttributes
        {
            Size = attributes.Size,
            Etag = attributes.Etag,
            ContentType = attributes.ContentType,
            Tier = ToCommand(attributes.Tier),
            Lifecycle = ToCommand(attributes.Lifecycle),
        };
        AddLocations(converted.Locations, attributes.Locations);
        converted.UserMetadata.Add(attributes.UserMetadata);
        return converted;
    }

    public static Ns.Location ToCommand(V1.Location location) => new()
    {
        Tier = ToCommand(location.Tier),
        BlobId = location.BlobId,
    };

    public static Ns.Tier ToCommand(V1.Tier tier) => (Ns.Tier)(int)tier;

    public static Ns.LifecycleState ToCommand(V1.LifecycleState state) => (Ns.LifecycleState)(int)state;

    private static void AddLocations(RepeatedField<Ns.Location> destination, RepeatedField<V1.Location> source)
    {
        foreach (V1.Location location in source)
        {
            destination.Add(ToCommand(location));
        }
    }

    public static V1.Bucket ToApi(Ns.BucketInfo bucket) => new()
    {
        Name = bucket.Name,
        Versioning = bucket.Versioning,
        Created = bucket.Created,
    };

    /// <summary>The API form of an entry; null (no entry) becomes an empty <see cref="V1.Entry"/> where one is required.</summary>
    public static V1.Entry ToApi(Ns.EntryInfo? entry) => entry is null
        ? new V1.Entry()
        : new V1.Entry
        {
            Bucket = entry.Bucket,
            Path = entry.Path,
            Kind = (V1.EntryKind)(int)entry.Kind,
            Generation = entry.Generation,
            Metageneration = entry.Metageneration,
            Created = entry.Created,
            Modified = entry.Modified,
            Attributes = entry.Attributes is null ? null : ToApi(entry.Attributes),
            DirectoryId = entry.DirectoryId,
            IsCurrent = entry.IsCurrent,
        };

    public static V1.ObjectAttributes ToApi(Ns.ObjectAttributes attributes)
    {
        var converted = new V1.ObjectAttributes
        {
            Size = attributes.Size,
            Etag = attributes.Etag,
            ContentType = attributes.ContentType,
            Tier = (V1.Tier)(int)attributes.Tier,
            Lifecycle = (V1.LifecycleState)(int)attributes.Lifecycle,
        };
        foreach (Ns.Location location in attributes.Locations)
        {
            converted.Locations.Add(ToApi(location));
        }

        converted.UserMetadata.Add(attributes.UserMetadata);
        return converted;
    }

    public static V1.Location ToApi(Ns.Location location) => new()
    {
        Tier = (V1.Tier)(int)location.Tier,
        BlobId = location.BlobId,
    };

    /// <summary>A listing page in the API form; the last page has an empty token.</summary>
    public static V1.ListResponse ToApi(IEnumerable<Ns.EntryInfo> entries, string? nextToken)
    {
        var response = new V1.ListResponse { NextContinuationToken = nextToken ?? "" };
        foreach (Ns.EntryInfo entry in entries)
        {
            response.Entries.Add(ToApi(entry));
        }

        return response;
    }
}
