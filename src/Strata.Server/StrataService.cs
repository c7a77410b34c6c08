using Grpc.Core;
using Strata.Namespace;
using Strata.Namespace.Commands;

namespace Strata.Server;

/// <summary>
/// The gRPC service <c>strata.v1.Strata</c> over one <see cref="NamespaceNode"/>: mutations become commands
/// proposed to the node (applied once, durable before the reply), queries read the node's applied state.
/// </summary>
/// <remarks>
/// <para>Every mutation carries its request's <c>MutationId</c> into the command as (client id, sequence), so a
/// retry returns the first outcome and never applies twice; a mutation without an id is accepted without that
/// guarantee. Malformed ids are refused before proposal.</para>
/// <para>Errors follow the contract in strata.proto, through <see cref="ApiErrors"/>: refusals keep the namespace
/// layer's message verbatim; corruption is DATA_LOSS; a storage failure (after which the node is dead) and a
/// node that is shutting down are UNAVAILABLE.</para>
/// <para>Stateless apart from the node: one instance serves all calls concurrently.</para>
/// </remarks>
public sealed partial class StrataService(NamespaceNode node) : Api.V1.Strata.StrataBase
{
    /// <summary>Page size of a listing whose request leaves the limit at 0.</summary>
    public const int DefaultListLimit = 1000;

    /// <summary>
    /// Builds the command (validating the mutation id), proposes it, and turns a refusal into the contract's
    /// status; <paramref name="respond"/> sees only successful results.
    /// </summary>
    private async Task<TResponse> MutateAsync<TResponse>(Api.V1.MutationId? id, Action<Command> setBody,
        Func<CommandResult, TResponse> respond, ServerCallContext context)
    {
        try
        {
            Command command = ApiMapping.Command(id);
            setBody(command);
            CommandResult result = await node.ProposeAsync(command, context.CancellationToken).ConfigureAwait(false);
            return result.Code == ResultCode.ResultOk ? respond(result) : throw ApiErrors.FromResult(result);
        }
        catch (Exception e) when (ApiErrors.TryTranslate(e) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>
    /// Runs a query over one snapshot of the node's latest applied state (so a query that reads several keys
    /// sees one state), translating refusals and failures.
    /// </summary>
    private Task<TResponse> Query<TResponse>(Func<NamespaceReader, TResponse> query)
    {
        try
        {
            return Task.FromResult(node.Read(query));
        }
        catch (Exception e) when (ApiErrors.TryTranslate(e) is { } translated)
        {
            throw translated;
        }
    }

    private static int ListLimit(int requested) => requested == 0 ? DefaultListLimit : requested;

    private static string? ContinuationToken(string token) => token.Length == 0 ? null : token;

    /// <summary>
    /// The timestamp of a read "at" a point in time, checked before the query takes its snapshot. Refused when it
    /// is newer than the last applied command (commands in flight may still get versions at or below it, so two
    /// reads at it could disagree) or older than the MVCC retention window (versions it needs may be collected).
    /// </summary>
    private ulong ReadTimestamp(bool hasAt, ulong at)
    {
        if (!hasAt)
        {
            return NamespaceReader.Latest;
        }

        ulong applied = node.AppliedTimestamp;
        if (at > applied)
        {
            throw ApiErrors.InvalidArgument(
                $"read timestamp {at} is newer than the last applied change ({applied}); read the latest state, or at a timestamp the service returned");
        }

        DateTimeOffset now = HybridClock.ToDateTime(node.Clock.Now());
        ulong oldest = HybridClock.FromMilliseconds((now - node.Options.MvccRetention).ToUnixTimeMilliseconds());
        return at >= oldest
            ? at
            : throw ApiErrors.InvalidArgument(
                $"read timestamp {at} is older than the MVCC retention window ({node.Options.MvccRetention}); the oldest readable timestamp is {oldest}");
    }
}
