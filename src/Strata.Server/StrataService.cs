using System.Globalization;
using Grpc.Core;
using Strata.Api;
using Strata.Cluster;
using Strata.Cluster.Meta;
using Strata.Namespace;
using Strata.Namespace.Commands;

namespace Strata.Server;

/// <summary>
/// The gRPC service <c>strata.v1.Strata</c> over one <see cref="ClusterNode"/>: each call is routed to the shard that
/// owns its bucket (<see cref="ShardRouting"/>); mutations become commands proposed to that shard's Raft group
/// (applied once, durable on a majority before the reply), queries read the shard's state linearizably (the lease
/// on the leader, ReadIndex elsewhere).
/// </summary>
/// <remarks>
/// <para>Every mutation carries its request's <c>MutationId</c> into the command as (client id, sequence), so a
/// retry returns the first outcome and never applies twice; a mutation without an id is accepted without that
/// guarantee. Malformed ids are refused before proposal.</para>
/// <para>Errors follow the contract in strata.proto and cluster.proto, through <see cref="ApiErrors"/>: refusals keep
/// the namespace layer's message verbatim; corruption is DATA_LOSS; routing trouble (no replica here, no leader,
/// unknown outcome), a storage failure and a node shutting down are UNAVAILABLE. Shard-scoped responses carry the
/// <see cref="StrataTrailers.Shard"/> and <see cref="StrataTrailers.Leader"/> trailers.</para>
/// <para>Stateless apart from the node: one instance serves all calls concurrently.</para>
/// </remarks>
public sealed partial class StrataService(ClusterNode node) : Api.V1.Strata.StrataBase
{
    /// <summary>Page size of a listing whose request leaves the limit at 0.</summary>
    public const int DefaultListLimit = 1000;

    /// <summary>
    /// Builds the command (validating the mutation id), proposes it to the shard of <paramref name="bucket"/>, and
    /// turns a refusal into the contract's status; <paramref name="respond"/> sees only successful results.
    /// </summary>
    private async Task<TResponse> MutateAsync<TResponse>(string bucket, Api.V1.MutationId? id, Action<Command> setBody,
        Func<CommandResult, TResponse> respond, ServerCallContext context)
    {
        try
        {
            Command command = ApiMapping.Command(id);
            setBody(command);
            ulong shard = ShardOf(bucket);
            CommandResult result = await node.ProposeAsync(shard, command, context.CancellationToken).ConfigureAwait(false);
            AddRoutingTrailers(context, shard);
            return result.Code == ResultCode.ResultOk ? respond(result) : throw ApiErrors.FromResult(result);
        }
        catch (Exception e) when (ApiErrors.TryTranslate(e, node.Map) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>
    /// Runs a query over one snapshot of the latest state of <paramref name="bucket"/>'s shard (linearizable: it
    /// reflects every write acknowledged before the call), translating refusals and failures.
    /// </summary>
    private Task<TResponse> QueryAsync<TResponse>(string bucket, Func<NamespaceReader, TResponse> query, ServerCallContext context) =>
        QueryAsync(bucket, (reader, _) => query(reader), context);

    /// <summary>Like the other overload; the query also gets the MVCC version of the last command in its snapshot.</summary>
    private async Task<TResponse> QueryAsync<TResponse>(string bucket, Func<NamespaceReader, ulong, TResponse> query,
        ServerCallContext context)
    {
        try
        {
            ulong shard = ShardOf(bucket);
            TResponse response = await node.ReadAsync(shard, query, context.CancellationToken).ConfigureAwait(false);
            AddRoutingTrailers(context, shard);
            return response;
        }
        catch (Exception e) when (ApiErrors.TryTranslate(e, node.Map) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>The shard that owns <paramref name="bucket"/> in this node's shard map.</summary>
    private ulong ShardOf(string bucket)
    {
        ShardMap map = node.Map;
        RangeDescriptor shard = map.FindByRoutingKey(ShardRouting.RoutingKey(bucket))
            ?? throw new ShardUnavailableException(0, "the cluster is not bootstrapped yet (its meta shard has no shard map); retry shortly");
        return shard.ShardId;
    }

    private void AddRoutingTrailers(ServerCallContext context, ulong shard)
    {
        context.ResponseTrailers.Add(StrataTrailers.Shard, shard.ToString(CultureInfo.InvariantCulture));
        ulong leader = node.LeaderOf(shard);
        if (leader != 0)
        {
            context.ResponseTrailers.Add(StrataTrailers.Leader, leader.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static int ListLimit(int requested) => requested == 0 ? DefaultListLimit : requested;

    private static string? ContinuationToken(string token) => token.Length == 0 ? null : token;

    /// <summary>
    /// The timestamp of a read "at" a point in time. Refused when older than the MVCC retention window (versions
    /// it needs may be collected); the check that it is not newer than the shard's last applied change runs inside
    /// the query (<see cref="RequireApplied"/>), against the state the query reads.
    /// </summary>
    private ulong ReadTimestamp(bool hasAt, ulong at)
    {
        if (!hasAt)
        {
            return NamespaceReader.Latest;
        }

        DateTimeOffset now = HybridClock.ToDateTime(node.Clock.Now());
        ulong oldest = HybridClock.FromMilliseconds((now - node.Options.MvccRetention).ToUnixTimeMilliseconds());
        return at >= oldest
            ? at
            : throw ApiErrors.InvalidArgument(
                $"read timestamp {at} is older than the MVCC retention window ({node.Options.MvccRetention}); the oldest readable timestamp is {oldest}");
    }

    /// <summary>
    /// Refuses a read "at" a timestamp newer than the last change applied in the snapshot being read: commands in
    /// flight may still get versions at or below it, so two reads at it could disagree.
    /// </summary>
    private static void RequireApplied(ulong at, ulong applied)
    {
        if (at != NamespaceReader.Latest && at > applied)
        {
            throw ApiErrors.InvalidArgument(
                $"read timestamp {at} is newer than the last applied change ({applied}); read the latest state, or at a timestamp the service returned");
        }
    }
}
