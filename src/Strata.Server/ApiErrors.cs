using System.Globalization;
using Grpc.Core;
using Strata.Api;
using Strata.Cluster;
using Strata.Namespace;
using Strata.Namespace.Commands;
using Strata.Storage;

namespace Strata.Server;

/// <summary>
/// The error contract of <c>strata.v1</c> (see the header of strata.proto): how a refused command, a refused
/// query or a storage failure becomes a gRPC status with its message and trailers.
/// </summary>
/// <remarks>
/// Status messages are the namespace layer's messages, verbatim. Trailers carry what a client acts on without
/// parsing text: <see cref="StrataTrailers.CurrentGeneration"/> and <see cref="StrataTrailers.CurrentMetageneration"/> (decimal),
/// <see cref="StrataTrailers.FailedPath"/> (the path, percent-encoded like <c>grpc-message</c>: bytes outside printable
/// ASCII and '%' become %XX of their UTF-8) and <see cref="StrataTrailers.FailedOperation"/> (index of the refused
/// transaction operation). Pure functions, thread-safe.
/// </remarks>
public static class ApiErrors
{
    /// <summary>The gRPC status code of a namespace result code.</summary>
    public static StatusCode StatusCodeOf(ResultCode code) => code switch
    {
        ResultCode.ResultOk => StatusCode.OK,
        ResultCode.ResultInvalidArgument => StatusCode.InvalidArgument,
        ResultCode.ResultNotFound => StatusCode.NotFound,
        ResultCode.ResultAlreadyExists => StatusCode.AlreadyExists,
        ResultCode.ResultFailedPrecondition or ResultCode.ResultNotEmpty => StatusCode.FailedPrecondition,
        ResultCode.ResultSessionExpired => StatusCode.Aborted,
        _ => StatusCode.Internal,
    };

    /// <summary>The exception that reports a refused command (its <see cref="CommandResult.Code"/> is not OK).</summary>
    public static RpcException FromResult(CommandResult result)
    {
        var trailers = new Metadata();
        if (result.FailedPath.Length > 0)
        {
            trailers.Add(StrataTrailers.FailedPath, StrataTrailers.EncodeText(result.FailedPath));
        }

        // A generation of 0 is meaningful after a failed precondition ("the entry does not exist"); elsewhere
        // (a bucket that already exists, a refusal that names no entry) there is no generation to report.
        bool namesEntryState = result.CurrentGeneration != 0 ||
            (result.Code == ResultCode.ResultFailedPrecondition && result.FailedPath.Length > 0);
        if (namesEntryState)
        {
            trailers.Add(StrataTrailers.CurrentGeneration, result.CurrentGeneration.ToString(CultureInfo.InvariantCulture));
            trailers.Add(StrataTrailers.CurrentMetageneration, result.CurrentMetageneration.ToString(CultureInfo.InvariantCulture));
        }

        if (result.FailedOperation >= 0)
        {
            trailers.Add(StrataTrailers.FailedOperation, result.FailedOperation.ToString(CultureInfo.InvariantCulture));
        }

        return new RpcException(new Status(StatusCodeOf(result.Code), result.Message), trailers, result.Message);
    }

    /// <summary>A refusal raised by a query or by request validation before proposal.</summary>
    public static RpcException FromRejection(CommandRejectedException rejected) => FromResult(rejected.ToResult());

    public static RpcException InvalidArgument(string message) =>
        new(new Status(StatusCode.InvalidArgument, message), message);

    /// <summary>UNAVAILABLE: retry (a mutation with the same id).</summary>
    public static RpcException Unavailable(string message) => new(new Status(StatusCode.Unavailable, message), message);

    /// <summary>UNAVAILABLE with the trailers that name a node hosting the shard (see cluster.proto).</summary>
    private static RpcException NotLeader(NotLeaderException notLeader, ShardMap? map)
    {
        var trailers = new Metadata { { StrataTrailers.Shard, notLeader.ShardId.ToString(CultureInfo.InvariantCulture) } };
        if (notLeader.LeaderHint != 0)
        {
            trailers.Add(StrataTrailers.Leader, notLeader.LeaderHint.ToString(CultureInfo.InvariantCulture));
            if (map?.FindNode(notLeader.LeaderHint) is { } hinted)
            {
                trailers.Add(StrataTrailers.LeaderAddress, hinted.ApiAddress);
            }
        }

        return new RpcException(new Status(StatusCode.Unavailable, notLeader.Message), trailers, notLeader.Message);
    }

    /// <summary>
    /// Translates the exceptions the node and its reader are documented to throw into the status the contract
    /// promises; returns null for anything else (an <see cref="RpcException"/> passes through as it is; any
    /// other exception is a bug, left to gRPC: UNKNOWN, logged).
    /// </summary>
    public static RpcException? TryTranslate(Exception exception, ShardMap? map = null) => exception switch
    {
        NotLeaderException notLeader => NotLeader(notLeader, map),
        ShardUnavailableException unavailable => Unavailable(unavailable.Message),
        OutcomeUnknownException unknown => Unavailable(unknown.Message),
        CommandRejectedException rejected => FromRejection(rejected),
        CorruptionException corruption => new RpcException(
            new Status(StatusCode.DataLoss, $"stored data failed verification: {corruption.Message}"), corruption.Message),
        StorageFailureException failure => new RpcException(
            new Status(StatusCode.Unavailable, $"the node stopped after a storage failure: {failure.Message}"), failure.Message),
        ObjectDisposedException => new RpcException(
            new Status(StatusCode.Unavailable, "the node is shutting down"), "the node is shutting down"),
        _ => null,
    };
}
