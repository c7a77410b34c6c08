using Strata.Api.V1;

namespace Strata.Client;

public sealed partial class StrataClient
{
    /// <summary>Creates a bucket. ALREADY_EXISTS when the name is taken.</summary>
    public async Task<Bucket> CreateBucketAsync(string name, bool versioning = false, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        var request = new CreateBucketRequest { Name = name, Versioning = versioning };
        BucketResponse response = await MutateAsync(request.Name, id => request.Id = id, (n, o) => n.Strata.CreateBucketAsync(request, o), deadline, cancellationToken).ConfigureAwait(false);
        return response.Bucket;
    }

    /// <summary>A bucket by name. NOT_FOUND when it does not exist.</summary>
    public async Task<Bucket> GetBucketAsync(string name, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        var request = new GetBucketRequest { Name = name };
        BucketResponse response = await InvokeAsync(request.Name, (n, o) => n.Strata.GetBucketAsync(request, o), deadline, cancellationToken).ConfigureAwait(false);
        return response.Bucket;
    }

    /// <summary>One page of buckets in name order after <paramref name="startAfter"/> (limit 0: the node's default, 1000).</summary>
    public Task<ListBucketsResponse> ListBucketsAsync(string startAfter = "", int limit = 0, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        var request = new ListBucketsRequest { StartAfter = startAfter, Limit = limit };
        return InvokeAsync(null, (n, o) => n.Strata.ListBucketsAsync(request, o), deadline, cancellationToken);
    }

    /// <summary>Deletes an empty bucket and returns it. FAILED_PRECONDITION when it is not empty.</summary>
    public async Task<Bucket> DeleteBucketAsync(string name, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        var request = new DeleteBucketRequest { Name = name };
        BucketResponse response = await MutateAsync(request.Name, id => request.Id = id, (n, o) => n.Strata.DeleteBucketAsync(request, o), deadline, cancellationToken).ConfigureAwait(false);
        return response.Bucket;
    }
}
