using Grpc.Core;
using Strata.Api;
using Strata.Api.V1;
using Strata.Cluster;
using Strata.Namespace;

namespace Strata.Server;

public sealed partial class StrataService
{
    public override Task<BucketResponse> CreateBucket(CreateBucketRequest request, ServerCallContext context) =>
        MutateAsync(request.Name, request.Id, command => command.CreateBucket = ApiMapping.ToCommand(request),
            result => new BucketResponse { Bucket = ApiMapping.ToApi(result.Bucket) }, context);

    public override Task<BucketResponse> DeleteBucket(DeleteBucketRequest request, ServerCallContext context) =>
        MutateAsync(request.Name, request.Id, command => command.DeleteBucket = ApiMapping.ToCommand(request),
            result => new BucketResponse { Bucket = ApiMapping.ToApi(result.Bucket) }, context);

    public override Task<EntryResponse> PutObject(PutObjectRequest request, ServerCallContext context) =>
        MutateAsync(request.Bucket, request.Id, command => command.Put = ApiMapping.ToCommand(request), EntryOf, context);

    public override Task<EntryResponse> DeleteObject(DeleteObjectRequest request, ServerCallContext context) =>
        MutateAsync(request.Bucket, request.Id, command => command.Delete = ApiMapping.ToCommand(request), EntryOf, context);

    public override Task<EntryResponse> PatchObject(PatchObjectRequest request, ServerCallContext context) =>
        MutateAsync(request.Bucket, request.Id, command => command.Patch = ApiMapping.ToCommand(request), EntryOf, context);

    public override Task<EntryResponse> MakeDirectory(MakeDirectoryRequest request, ServerCallContext context) =>
        MutateAsync(request.Bucket, request.Id, command => command.MakeDirectory = ApiMapping.ToCommand(request), EntryOf, context);

    public override Task<EntryResponse> RemoveDirectory(RemoveDirectoryRequest request, ServerCallContext context) =>
        MutateAsync(request.Bucket, request.Id, command => command.RemoveDirectory = ApiMapping.ToCommand(request), EntryOf, context);

    public override Task<EntryResponse> Rename(RenameRequest request, ServerCallContext context) =>
        MutateAsync(request.Bucket, request.Id, command => command.Rename = ApiMapping.ToCommand(request), EntryOf, context);

    /// <summary>All operations in one command: they apply in order, or none does (the first refusal is the status).</summary>
    public override Task<CommitResponse> Commit(CommitRequest request, ServerCallContext context) =>
        MutateAsync(TransactionBucket(request), request.Id, command => command.Transaction = ApiMapping.ToCommand(request), result =>
        {
            var response = new CommitResponse();
            foreach (Namespace.Commands.CommandResult operation in result.Operations)
            {
                response.Entries.Add(ApiMapping.ToApi(operation.Entry));
            }

            return response;
        }, context);

    /// <summary>
    /// The bucket that routes a transaction: its operations' buckets must all live on one shard (one Raft entry
    /// applies them all or none); otherwise it is refused as UNIMPLEMENTED before anything is proposed.
    /// </summary>
    private string TransactionBucket(CommitRequest request)
    {
        // Operations that name no bucket (empty ones) route nowhere; the state machine refuses them with its message.
        string[] buckets = [.. request.Operations.Select(BucketOf).Where(b => b.Length > 0).Distinct(StringComparer.Ordinal)];
        if (buckets.Length == 0)
        {
            return string.Empty;
        }

        // Before bootstrap there is no map to compare by: the first bucket routes, and MutateAsync refuses the call with
        // the contract's UNAVAILABLE like any other.
        ShardMap map = node.Map;
        if (!map.IsBootstrapped)
        {
            return buckets[0];
        }

        ulong[] shards = [.. buckets.Select(b => map.FindByRoutingKey(ShardRouting.RoutingKey(b))!.ShardId).Distinct()];
        return shards.Length == 1
            ? buckets[0]
            : throw new RpcException(new Status(StatusCode.Unimplemented,
                $"the transaction touches buckets on {shards.Length} shards ({string.Join(", ", buckets.Select(b => $"'{NamespacePath.Printable(b)}'"))}); cross-shard transactions are not supported yet, nothing was applied"));
    }

    private static string BucketOf(TransactionOperation operation) => operation.BodyCase switch
    {
        TransactionOperation.BodyOneofCase.Put => operation.Put.Bucket,
        TransactionOperation.BodyOneofCase.Delete => operation.Delete.Bucket,
        TransactionOperation.BodyOneofCase.Patch => operation.Patch.Bucket,
        TransactionOperation.BodyOneofCase.MakeDirectory => operation.MakeDirectory.Bucket,
        TransactionOperation.BodyOneofCase.RemoveDirectory => operation.RemoveDirectory.Bucket,
        TransactionOperation.BodyOneofCase.Rename => operation.Rename.Bucket,
        TransactionOperation.BodyOneofCase.Guard => operation.Guard.Bucket,
        _ => string.Empty,
    };

    private static EntryResponse EntryOf(Namespace.Commands.CommandResult result) =>
        new() { Entry = ApiMapping.ToApi(result.Entry) };
}
