using Strata.Api.V1;
using Strata.Client;

namespace Strata.Cli.Chaos;

internal sealed partial class NamespaceWorkload
{
    /// <summary>Entries per page of the final listings: small, so that continuation tokens are exercised.</summary>
    public const int FinalPageSize = 25;

    // A bound on the walk, far above what a run makes: a server that listed a cycle must not keep the walk going forever.
    private const int MaxFinalEntries = 1_000_000;

    /// <summary>
    /// Reads the final state through <paramref name="leader"/> (a cluster client: it sends every call to the shard's
    /// leader): the recursive listing of <c>tree/</c> in pages of <see cref="FinalPageSize"/>, a walk of one-level
    /// listings from <c>tree</c> into every directory returned, and a stat of every path either returned. Call after the
    /// cluster was healed and serves. Throws <see cref="CommandFailedException"/> (exit 3) when a call gets no answer.
    /// </summary>
    public async Task<NamespaceFinalState> ReadFinalStateAsync(StrataClient leader, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(leader);
        try
        {
            (List<NamespaceEntry> listing, int pages) = await ListPagesAsync(leader, RootName + "/", recursive: true, cancellationToken).ConfigureAwait(false);
            var walk = new List<NamespaceEntry>();
            var queue = new Queue<string>([RootName]);
            var visited = new HashSet<string>(StringComparer.Ordinal) { RootName };
            while (queue.TryDequeue(out string? directory) && walk.Count < MaxFinalEntries)
            {
                (List<NamespaceEntry> level, _) = await ListPagesAsync(leader, directory + "/", recursive: false, cancellationToken).ConfigureAwait(false);
                walk.AddRange(level);
                foreach (NamespaceEntry child in level.Where(e => e.IsDirectory && visited.Add(e.Path)))
                {
                    queue.Enqueue(child.Path);
                }
            }

            var stats = new Dictionary<string, NamespaceEntry?>(StringComparer.Ordinal);
            foreach (string path in listing.Concat(walk).Select(e => e.Path).Distinct(StringComparer.Ordinal))
            {
                try
                {
                    stats[path] = ToEntry(await leader.StatAsync(_bucket, path, cancellationToken: cancellationToken).ConfigureAwait(false));
                }
                catch (StrataException e) when (e.StatusCode == Grpc.Core.StatusCode.NotFound)
                {
                    stats[path] = null;
                }
            }

            return new NamespaceFinalState { Listing = listing, ListingPages = pages, Walk = walk, Stats = stats };
        }
        catch (StrataException e)
        {
            throw new CommandFailedException($"the final state of the namespace could not be read through the leader: {e.StatusCode}: {e.Detail}", ExitCodes.Unreachable);
        }
    }

    private async Task<(List<NamespaceEntry> Entries, int Pages)> ListPagesAsync(StrataClient client, string prefix, bool recursive, CancellationToken cancellationToken)
    {
        var entries = new List<NamespaceEntry>();
        var request = new ListRequest { Bucket = _bucket, Prefix = prefix, Delimiter = recursive ? "" : "/", Limit = FinalPageSize };
        int pages = 0;
        do
        {
            ListResponse page = await client.ListAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
            pages++;
            entries.AddRange(page.Entries.Select(ToEntry));
            request.ContinuationToken = page.NextContinuationToken;
        }
        while (request.ContinuationToken.Length > 0 && entries.Count < MaxFinalEntries);

        return (entries, pages);
    }

    /// <summary>The parts of <paramref name="entry"/> the invariants compare.</summary>
    internal static NamespaceEntry ToEntry(Entry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        bool directory = entry.Kind == EntryKind.Directory;
        ObjectAttributes? a = entry.Attributes;
        return new NamespaceEntry(
            entry.Path.TrimEnd('/'),
            directory,
            entry.Generation,
            entry.Metageneration,
            directory ? entry.DirectoryId : 0,
            a?.Size ?? 0,
            a?.Etag ?? "",
            a?.UserMetadata.TryGetValue("op", out string? op) == true ? op : null,
            a?.UserMetadata.TryGetValue("dir", out string? dir) == true ? dir : null);
    }
}
