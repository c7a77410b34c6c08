using Grpc.Core;
using Strata.Api.V1;
using Strata.Namespace;
using NamespaceListRequest = Strata.Namespace.ListRequest;

namespace Strata.Server;

public sealed partial class StrataService
{
    public override Task<BucketResponse> GetBucket(GetBucketRequest request, ServerCallContext context) =>
        Query(reader => new BucketResponse { Bucket = ApiMapping.ToApi(reader.GetBucket(request.Name)) });

    public override Task<ListBucketsResponse> ListBuckets(ListBucketsRequest request, ServerCallContext context) =>
        Query(reader =>
        {
            var response = new ListBucketsResponse();
            foreach (Namespace.Commands.BucketInfo bucket in reader.ListBuckets(request.StartAfter, ListLimit(request.Limit)))
            {
                response.Buckets.Add(ApiMapping.ToApi(bucket));
            }

            return response;
        });

    /// <summary>The current entry, the entry as of <c>at</c>, or one version by <c>generation</c> (not both).</summary>
    public override Task<EntryResponse> Stat(StatRequest request, ServerCallContext context)
    {
        if (request.HasGeneration && request.HasAt)
        {
            throw ApiErrors.InvalidArgument("stat takes either a read timestamp (at) or a generation, not both");
        }

        ulong at = ReadTimestamp(request.HasAt, request.At);
        return Query(reader => new EntryResponse
        {
            Entry = ApiMapping.ToApi(request.HasGeneration
                ? reader.StatVersion(request.Bucket, request.Path, request.Generation)
                : reader.Stat(request.Bucket, request.Path, at)),
        });
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
        return Query(reader =>
        {
            ListPage page = reader.List(new NamespaceListRequest(
                request.Bucket,
                request.Prefix,
                recursive,
                request.StartAfter,
                ListLimit(request.Limit),
                ContinuationToken(request.ContinuationToken),
                at));
            return ApiMapping.ToApi(page.Entries, page.NextToken);
        });
    }

    public override Task<ListResponse> ListByTime(ListByTimeRequest request, ServerCallContext context) =>
        Query(reader =>
        {
            ListPage page = reader.ListByTime(request.Bucket, request.Directory, newestFirst: !request.OldestFirst,
                ListLimit(request.Limit), ContinuationToken(request.ContinuationToken));
            return ApiMapping.ToApi(page.Entries, page.NextToken);
        });

    /// <summary>The current version first, then noncurrent versions newest first.</summary>
    public override Task<ListResponse> ListVersions(ListVersionsRequest request, ServerCallContext context) =>
        Query(reader => ApiMapping.ToApi(reader.ListVersions(request.Bucket, request.Path), nextToken: null));
}
