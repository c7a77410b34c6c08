using Grpc.Core;
using Strata.Api.V1;

namespace Strata.Server;

public sealed partial class StrataService
{
    public override Task<BucketResponse> CreateBucket(CreateBucketRequest request, ServerCallContext context) =>
        MutateAsync(request.Id, command => command.CreateBucket = ApiMapping.ToCommand(request),
            result => new BucketResponse { Bucket = ApiMapping.ToApi(result.Bucket) }, context);

    public override Task<BucketResponse> DeleteBucket(DeleteBucketRequest request, ServerCallContext context) =>
        MutateAsync(request.Id, command => command.DeleteBucket = ApiMapping.ToCommand(request),
            result => new BucketResponse { Bucket = ApiMapping.ToApi(result.Bucket) }, context);

    public override Task<EntryResponse> PutObject(PutObjectRequest request, ServerCallContext context) =>
        MutateAsync(request.Id, command => command.Put = ApiMapping.ToCommand(request), EntryOf, context);

    public override Task<EntryResponse> DeleteObject(DeleteObjectRequest request, ServerCallContext context) =>
        MutateAsync(request.Id, command => command.Delete = ApiMapping.ToCommand(request), EntryOf, context);

    public override Task<EntryResponse> PatchObject(PatchObjectRequest request, ServerCallContext context) =>
        MutateAsync(request.Id, command => command.Patch = ApiMapping.ToCommand(request), EntryOf, context);

    public override Task<EntryResponse> MakeDirectory(MakeDirectoryRequest request, ServerCallContext context) =>
        MutateAsync(request.Id, command => command.MakeDirectory = ApiMapping.ToCommand(request), EntryOf, context);

    public override Task<EntryResponse> RemoveDirectory(RemoveDirectoryRequest request, ServerCallContext context) =>
        MutateAsync(request.Id, command => command.RemoveDirectory = ApiMapping.ToCommand(request), EntryOf, context);

    public override Task<EntryResponse> Rename(RenameRequest request, ServerCallContext context) =>
        MutateAsync(request.Id, command => command.Rename = ApiMapping.ToCommand(request), EntryOf, context);

    /// <summary>All operations in one command: they apply in order, or none does (the first refusal is the status).</summary>
    public override Task<CommitResponse> Commit(CommitRequest request, ServerCallContext context) =>
        MutateAsync(request.Id, command => command.Transaction = ApiMapping.ToCommand(request), result =>
        {
            var response = new CommitResponse();
            foreach (Namespace.Commands.CommandResult operation in result.Operations)
            {
                response.Entries.Add(ApiMapping.ToApi(operation.Entry));
            }

            return response;
        }, context);

    private static EntryResponse EntryOf(Namespace.Commands.CommandResult result) =>
        new() { Entry = ApiMapping.ToApi(result.Entry) };
}
