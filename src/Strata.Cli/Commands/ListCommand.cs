using System.CommandLine;
using Strata.Api.V1;
using Strata.Cli.Output;
using Strata.Namespace;
using ListRequest = Strata.Api.V1.ListRequest;

namespace Strata.Cli.Commands;

/// <summary><c>strata ls</c>: a directory level, a subtree, or a directory by upload time; one page or all of them.</summary>
internal static class ListCommand
{
    public static Command Create(NodeCommand node)
    {
        Argument<string> bucket = EntryCommands.BucketArgument();
        var prefix = new Argument<string>("PREFIX")
        {
            Description = "A directory (\"videos/intro/\") or a name prefix inside one (\"videos/in\"); with --by-time, a directory",
            Arity = ArgumentArity.ZeroOrOne,
            DefaultValueFactory = _ => "",
        }.RejectingOptions();
        var recursive = new Option<bool>("--recursive", "-r") { Description = "List the whole subtree, not one level" };
        var byTime = new Option<bool>("--by-time") { Description = "List a directory by upload time, newest first" };
        var oldestFirst = new Option<bool>("--oldest-first") { Description = "With --by-time: oldest first" };
        var limit = new Option<int>("--limit")
        {
            Description = $"Entries per page (1 to {NamespaceLimits.MaxListLimit})",
            HelpName = "N",
            DefaultValueFactory = _ => 1000,
        };
        var all = new Option<bool>("--all") { Description = "Fetch every page, not only the first" };
        return node.Create("ls", "List entries", [bucket, prefix, recursive, byTime, oldestFirst, limit, all], async request =>
        {
            int pageSize = request.Value(limit);
            if (pageSize is < 1 or > NamespaceLimits.MaxListLimit)
            {
                throw new UsageException($"--limit {pageSize} is outside 1..{NamespaceLimits.MaxListLimit}");
            }

            bool timeOrder = request.Value(byTime);
            if (timeOrder && request.Value(recursive))
            {
                throw new UsageException("--by-time lists one directory; it cannot be combined with --recursive");
            }

            if (!timeOrder && request.Value(oldestFirst))
            {
                throw new UsageException("--oldest-first needs --by-time");
            }

            Func<string, Task<ListResponse>> fetch = timeOrder
                ? token => request.Client.ListByTimeAsync(new ListByTimeRequest
                {
                    Bucket = request.Value(bucket),
                    Directory = request.Value(prefix),
                    OldestFirst = request.Value(oldestFirst),
                    Limit = pageSize,
                    ContinuationToken = token,
                }, cancellationToken: request.CancellationToken)
                : token => request.Client.ListAsync(new ListRequest
                {
                    Bucket = request.Value(bucket),
                    Prefix = request.Value(prefix),
                    Delimiter = request.Value(recursive) ? "" : "/",
                    Limit = pageSize,
                    ContinuationToken = token,
                }, cancellationToken: request.CancellationToken);

            ListResponse listing = await fetch("").ConfigureAwait(false);
            while (request.Value(all) && listing.NextContinuationToken.Length > 0)
            {
                ListResponse next = await fetch(listing.NextContinuationToken).ConfigureAwait(false);
                listing.Entries.AddRange(next.Entries);
                listing.NextContinuationToken = next.NextContinuationToken;
            }

            string caption = listing.NextContinuationToken.Length > 0
                ? $"{listing.Entries.Count} entries shown; more follow (use --all)"
                : $"{listing.Entries.Count} entries";
            return request.Show(listing, EntryView.Entries(listing.Entries,
                timeOrder ? EntryView.TimeColumn.Uploaded : EntryView.TimeColumn.Modified, caption));
        });
    }
}
