using Grpc.Core;
using Strata.Api.V1;
using Strata.Cluster.Meta;
using Strata.Namespace;
using NamespaceListRequest = Strata.Namespace.ListRequest;

namespace Strata.Server;

public sealed partial class StrataService
{
    public override Task<BucketResponse> GetBucket(GetBucketRequest request, ServerCallContext context) =>
        QueryAsync(request.Name, reader => new BucketResponse { Bucket = ApiMapping.ToApi(reader.GetBucket(request.Name)) }, context);

    /// <summary>Every shard holds some buckets: asks each (in parallel) for its first page and merges them by name.</summary>
    public override async Task<ListBucketsResponse> ListBuckets(ListBucketsRequest request, ServerCallContext context)
    {
        int limit = ListLimit(request.Limit);
        try
        {
            IReadOnlyList<RangeDescriptor> shards = node.Map.Shards;
            if (shards.Count == 0)
            {
                throw new Cluster.ShardUnavailableException(0, "the cluster is not bootstrapped yet (its meta shard has no shard map); retry shortly");
            }

            IReadOnlyList<Namespace.Commands.BucketInfo>[] pages = await Task.WhenAll(shards.Select(shard =>
                node.ReadAsync(shard.ShardId, reader => reader.ListBuckets(request.StartAfter, limit), context.CancellationToken)))
                .ConfigureAwait(false);
            var response = new ListBucketsResponse();
            foreach (Namespace.Commands.BucketInfo bucket in pages.SelectMany(p => p)
                .OrderBy(b => b.Name, StringComparer.Ordinal).Take(limit)) // bucket names are ASCII: the engine's byte order
            {
                response.Buckets.Add(ApiMapping.ToApi(bucket));
            }

            return response;
        }
        catch (Exception e) when (ApiErrors.TryTranslate(e, node.Map) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>The current entry, the entry as of <c>at</c>, or one version by <c>generation</c> (not both).</summary>
    public override Task<EntryResponse> Stat(StatRequest request, ServerCallContext context)
    {
        if (request.HasGeneration && request.HasAt)
        {
            throw ApiErrors.InvalidArgument("stat takes either a read timestamp (at) or a generation, not both");
        }

        ulong at = ReadTimestamp(request.HasAt, request.At);
        return QueryAsync(request.Bucket, (reader, applied) =>
        {
            RequireApplied(at, applied);
            return new EntryResponse
            {
                Entry = ApiMapping.ToApi(request.HasGeneration
                    ? reader.StatVersion(request.Bucket, request.Path, request.Generation)
                    : reader.Stat(request.Bucket, request.Path, at)),
            };
        }, context);
    }

    /// <summary>Delimiter "/" lists one level (directories as entries); "" lists the whole subtree.</summary>
    public override Task<ListResponse> List(Api.V1.ListRequest request, ServerCallContext context)
    {
        bool recursive = request.Delimiter switch
        {
            "/" => false,
            "" => true,
            _ => throw ApiErrors.InvalidArgument(
                $"delimiter must be \"/\" (one level) or \"\" (the whole subtree), not \"{NamespacePath.Printable(request.Delimiter)}\""),
        };
        ulong at = ReadTimestamp(request.HasAt, request.At);
        return QueryAsync(request.Bucket, (reader, applied) =>
        {
            RequireApplied(at, applied);
            ListPage page = reader.List(new NamespaceListRequest(
                request.Bucket,
                request.Prefix,
                recursive,
                request.StartAfter,
                ListLimit(request.Limit),
                ContinuationToken(request.ContinuationToken),
                at));
            return ApiMapping.ToApi(page.Entries, page.NextToken);
        }, context);
    }

    public override Task<ListResponse> ListByTime(ListByTimeRequest request, ServerCallContext context) =>
        QueryAsync(request.Bucket, reader =>
        {
            ListPage page = reader.ListByTime(request.Bucket, request.Directory, newestFirst: !request.OldestFirst,
                ListLimit(request.Limit), ContinuationToken(request.ContinuationToken));
            return ApiMapping.ToApi(page.Entries, page.NextToken);
        }, context);

    /// <summary>The current version first, then noncurrent versions newest first.</summary>
    public override Task<ListResponse> ListVersions(ListVersionsRequest request, ServerCallContext context) =>
        QueryAsync(request.Bucket, reader => ApiMapping.ToApi(reader.ListVersions(request.Bucket, request.Path), nextToken: null), context);
}
