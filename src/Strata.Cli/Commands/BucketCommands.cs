using System.CommandLine;
using Strata.Api.V1;
using Strata.Cli.Output;

namespace Strata.Cli.Commands;

/// <summary><c>strata bucket create|ls|rm</c>.</summary>
internal static class BucketCommands
{
    public static Command Create(NodeCommand node)
    {
        var bucket = new Command("bucket", "Create, list and remove buckets");
        bucket.Add(CreateBucket(node));
        bucket.Add(ListBuckets(node));
        bucket.Add(RemoveBucket(node));
        return bucket;
    }

    private static Command CreateBucket(NodeCommand node)
    {
        var name = new Argument<string>("NAME") { Description = "The bucket's name" };
        var versioning = new Option<bool>("--versioning") { Description = "Keep noncurrent versions of overwritten and deleted objects" };
        return node.Create("create", "Create a bucket", [name, versioning], async request =>
        {
            Bucket created = await request.Client.CreateBucketAsync(request.Value(name), request.Value(versioning),
                cancellationToken: request.CancellationToken).ConfigureAwait(false);
            return request.Report(created, $"created bucket {created.Name} (versioning {(created.Versioning ? "on" : "off")})");
        });
    }

    private static Command ListBuckets(NodeCommand node) =>
        node.Create("ls", "List buckets", [], async request =>
        {
            var all = new ListBucketsResponse();
            string after = "";
            while (true)
            {
                ListBucketsResponse page = await request.Client.ListBucketsAsync(after, cancellationToken: request.CancellationToken).ConfigureAwait(false);
                all.Buckets.AddRange(page.Buckets);
                if (page.Buckets.Count == 0)
                {
                    break;
                }

                after = page.Buckets[^1].Name;
            }

            return request.Show(all, EntryView.Buckets(all.Buckets));
        });

    private static Command RemoveBucket(NodeCommand node)
    {
        var name = new Argument<string>("NAME") { Description = "The bucket's name (it must be empty)" };
        return node.Create("rm", "Remove an empty bucket", [name], async request =>
        {
            Bucket removed = await request.Client.DeleteBucketAsync(request.Value(name), cancellationToken: request.CancellationToken).ConfigureAwait(false);
            return request.Report(removed, $"removed bucket {removed.Name}");
        });
    }
}
