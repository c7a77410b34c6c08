using System.CommandLine;
using Strata.Api.V1;

namespace Strata.Cli.Commands;

/// <summary><c>strata mkdir|rmdir</c>.</summary>
internal static class DirectoryCommands
{
    public static IEnumerable<Command> Create(NodeCommand node) => [MakeDirectory(node), RemoveDirectory(node)];

    private static Command MakeDirectory(NodeCommand node)
    {
        Argument<string> bucket = EntryCommands.BucketArgument(), path = EntryCommands.PathArgument("PATH", "The directory to create (missing parents are created)");
        return node.Create("mkdir", "Create a directory", [bucket, path], async request =>
        {
            Entry created = await request.Client.MakeDirectoryAsync(request.Value(bucket), request.Value(path),
                cancellationToken: request.CancellationToken).ConfigureAwait(false);
            return request.Report(created, $"created directory {created.Bucket}/{created.Path}/");
        });
    }

    private static Command RemoveDirectory(NodeCommand node)
    {
        Argument<string> bucket = EntryCommands.BucketArgument(), path = EntryCommands.PathArgument("PATH", "The directory to remove (it must be empty)");
        return node.Create("rmdir", "Remove an empty directory", [bucket, path], async request =>
        {
            Entry removed = await request.Client.RemoveDirectoryAsync(request.Value(bucket), request.Value(path),
                cancellationToken: request.CancellationToken).ConfigureAwait(false);
            return request.Report(removed, $"removed directory {removed.Bucket}/{removed.Path}/");
        });
    }
}
