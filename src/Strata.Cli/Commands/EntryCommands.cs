using System.CommandLine;
using Strata.Api.V1;
using Strata.Cli.Output;

namespace Strata.Cli.Commands;

/// <summary><c>strata put|stat|mv|rm</c>: single entries.</summary>
internal static class EntryCommands
{
    public static IEnumerable<Command> Create(NodeCommand node) => [Put(node), Stat(node), Move(node), Remove(node)];

    internal static Argument<string> BucketArgument() => new Argument<string>("BUCKET") { Description = "The bucket" }.RejectingOptions();

    internal static Argument<string> PathArgument(string name = "PATH", string description = "A path inside the bucket, e.g. videos/intro/seg-00001.ts") =>
        new Argument<string>(name) { Description = description }.RejectingOptions();

    private static Option<ulong?> IfGenerationMatch(string of) => new("--if-generation-match")
    {
        Description = $"Only if {of} is at this generation (0: only if it does not exist)",
        HelpName = "G",
    };

    private static Command Put(NodeCommand node)
    {
        Argument<string> bucket = BucketArgument(), path = PathArgument();
        var size = new Option<ulong>("--size") { Description = "Size in bytes", HelpName = "N" };
        var etag = new Option<string>("--etag") { Description = "The object's ETag (checksum)", HelpName = "E" };
        var contentType = new Option<string>("--content-type") { Description = "MIME type, e.g. video/mp2t", HelpName = "T" };
        var tier = new Option<string>("--tier") { Description = "Storage tier: " + string.Join("|", CommandValues.TierNames), HelpName = "TIER" };
        var meta = new Option<string[]>("--meta")
        {
            Description = "User metadata key=value (repeatable)",
            HelpName = "K=V",
            AllowMultipleArgumentsPerToken = false,
        };
        var ifGeneration = IfGenerationMatch("the object");
        var ifNoneMatch = new Option<bool>("--if-none-match") { Description = "Only if nothing exists at the path" };
        return node.Create("put", "Create or replace an object's metadata entry (missing directories are created)",
            [bucket, path, size, etag, contentType, tier, meta, ifGeneration, ifNoneMatch], async request =>
            {
                var attributes = new ObjectAttributes
                {
                    Size = request.Value(size),
                    Etag = request.Parse.GetValue(etag) ?? "",
                    ContentType = request.Parse.GetValue(contentType) ?? "",
                    Tier = request.Parse.GetValue(tier) is { } tierName ? CommandValues.ParseTier(tierName) : Tier.Unspecified,
                };
                foreach (string pair in request.Parse.GetValue(meta) ?? [])
                {
                    (string key, string value) = CommandValues.ParseMetadata(pair);
                    attributes.UserMetadata[key] = value;
                }

                Entry entry = await request.Client.PutObjectAsync(request.Value(bucket), request.Value(path), attributes,
                    CommandValues.Preconditions(request.Value(ifGeneration), request.Value(ifNoneMatch)),
                    cancellationToken: request.CancellationToken).ConfigureAwait(false);
                return request.Report(entry, $"put {entry.Bucket}/{entry.Path}: generation {entry.Generation}");
            });
    }

    private static Command Stat(NodeCommand node)
    {
        Argument<string> bucket = BucketArgument(), path = PathArgument();
        var at = new Option<string>("--at")
        {
            Description = "Read as of this time: an HLC timestamp (as printed by --json) or an ISO 8601 UTC time, " +
                "within the node's MVCC retention window and not after its last change",
            HelpName = "TS",
        };
        var generation = new Option<ulong?>("--generation") { Description = "Show this version (also a noncurrent one)", HelpName = "G" };
        return node.Create("stat", "Show one entry", [bucket, path, at, generation], async request =>
        {
            ulong? timestamp = request.Parse.GetValue(at) is { } text ? CommandValues.ParseTimestamp(text) : null;
            Entry entry = await request.Client.StatAsync(request.Value(bucket), request.Value(path), timestamp, request.Value(generation),
                cancellationToken: request.CancellationToken).ConfigureAwait(false);
            return request.Show(entry, EntryView.Entry(entry));
        });
    }

    private static Command Move(NodeCommand node)
    {
        Argument<string> bucket = BucketArgument(), source = PathArgument("SRC", "The entry to move"), destination = PathArgument("DST", "Its new path");
        var ifGeneration = IfGenerationMatch("the source");
        var replace = new Option<bool>("--replace") { Description = "Replace an existing destination object" };
        return node.Create("mv", "Rename an object or a directory atomically (a directory moves as one entry, whatever it holds)",
            [bucket, source, destination, ifGeneration, replace], async request =>
            {
                Entry moved = await request.Client.RenameAsync(request.Value(bucket), request.Value(source), request.Value(destination),
                    CommandValues.Preconditions(request.Value(ifGeneration)), request.Value(replace),
                    cancellationToken: request.CancellationToken).ConfigureAwait(false);
                return request.Report(moved, $"moved {moved.Bucket}/{request.Value(source)} -> {moved.Path}: generation {moved.Generation}");
            });
    }

    private static Command Remove(NodeCommand node)
    {
        Argument<string> bucket = BucketArgument(), path = PathArgument();
        var ifGeneration = IfGenerationMatch("the object");
        var version = new Option<ulong?>("--version") { Description = "Permanently remove this noncurrent version", HelpName = "V" };
        return node.Create("rm", "Delete an object (in a versioned bucket it becomes noncurrent)", [bucket, path, ifGeneration, version], async request =>
        {
            Entry removed = await request.Client.DeleteObjectAsync(request.Value(bucket), request.Value(path),
                CommandValues.Preconditions(request.Value(ifGeneration)), request.Value(version),
                cancellationToken: request.CancellationToken).ConfigureAwait(false);
            return request.Report(removed, $"removed {removed.Bucket}/{removed.Path} (generation {removed.Generation})");
        });
    }
}
