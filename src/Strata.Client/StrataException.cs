using System.Globalization;
using System.Net.Sockets;
using Grpc.Core;
using Strata.Api;

namespace Strata.Client;

/// <summary>
/// A call to a Strata node failed: the node refused it (the status says why and nothing changed) or could
/// not be reached within the retry budget.
/// </summary>
/// <remarks>
/// For <see cref="StatusCode.FailedPrecondition"/> and <see cref="StatusCode.AlreadyExists"/> the node names
/// the entry that failed and its current generation (trailers <see cref="StrataTrailers"/>); transactions also
/// name the index of the failing operation.
/// </remarks>
public sealed class StrataException : Exception
{
    /// <summary>Creates the exception of a failed call from its last <see cref="RpcException"/>.</summary>
    public StrataException(RpcException failure, int attempts)
        : this(failure, attempts, redirects: 0, context: null)
    {
    }

    /// <summary>
    /// Creates the exception of a failed call from its last <see cref="RpcException"/>, after
    /// <paramref name="attempts"/> attempts and <paramref name="redirects"/> redirects followed;
    /// <paramref name="context"/>, when given, says why the client gave up and starts the message.
    /// </summary>
    public StrataException(RpcException failure, int attempts, int redirects, string? context)
        : base(Describe(context, failure?.StatusCode ?? StatusCode.Unknown, failure?.Status.Detail ?? string.Empty), failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        StatusCode = failure.StatusCode;
        Detail = failure.Status.Detail;
        Trailers = failure.Trailers;
        Attempts = attempts;
        Redirects = redirects;
        CurrentGeneration = ParseUInt64(failure.Trailers.GetValue(StrataTrailers.CurrentGeneration));
        CurrentMetageneration = ParseUInt64(failure.Trailers.GetValue(StrataTrailers.CurrentMetageneration));
        FailedPath = failure.Trailers.GetValue(StrataTrailers.FailedPath) is { } path ? StrataTrailers.DecodeText(path) : null;
        FailedOperation = ParseInt32(failure.Trailers.GetValue(StrataTrailers.FailedOperation));
        IsConnectionFailure = StatusCode == StatusCode.Unavailable && IsNetworkFailure(failure.Status.DebugException);
    }

    /// <summary>The gRPC status of the last attempt.</summary>
    public StatusCode StatusCode { get; }

    /// <summary>The node's message (or the transport's, when the node was not reached).</summary>
    public string Detail { get; }

    /// <summary>All trailers of the last attempt.</summary>
    public Metadata Trailers { get; }

    /// <summary>Attempts made before giving up (1 when the first answer was final).</summary>
    public int Attempts { get; }

    /// <summary>
    /// Redirects followed before giving up (cluster clients: a node without a replica of the shard named one that
    /// has; see <see cref="ClusterRoutingOptions.MaxRedirects"/>). Redirects are not attempts.
    /// </summary>
    public int Redirects { get; }

    /// <summary>The current generation of <see cref="FailedPath"/> when a precondition failed (0: it does not exist).</summary>
    public ulong? CurrentGeneration { get; }

    /// <summary>The current metageneration of <see cref="FailedPath"/> when a precondition failed.</summary>
    public ulong? CurrentMetageneration { get; }

    /// <summary>The path whose precondition or existence check failed.</summary>
    public string? FailedPath { get; }

    /// <summary>Transactions: the zero-based index of the operation that failed.</summary>
    public int? FailedOperation { get; }

    /// <summary>True when no connection to the node could be made (refused, unreachable, reset).</summary>
    public bool IsConnectionFailure { get; }

    private static string Describe(string? context, StatusCode status, string detail)
    {
        string last = detail.Length == 0 ? status.ToString() : $"{detail} ({status})";
        return context is null ? last : $"{context}: {last}";
    }

    private static ulong? ParseUInt64(string? text) =>
        ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value) ? value : null;

    private static int? ParseInt32(string? text) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) ? value : null;

    /// <summary>Whether <paramref name="exception"/> (a status's debug exception) is a transport failure: the
    /// connection was refused, reset, or ended before the node answered.</summary>
    internal static bool IsNetworkFailure(Exception? exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException or SocketException or IOException)
            {
                return true;
            }
        }

        return false;
    }
}
