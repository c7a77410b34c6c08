using System.Runtime.CompilerServices;
using Strata.Api.V1;

namespace Strata.Client;

public sealed partial class StrataClient
{
    /// <summary>One page of entries in path order (see <see cref="ListRequest"/>: delimiter "/" lists one level).</summary>
    public Task<ListResponse> ListAsync(ListRequest request, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ListRequest sent = request.Clone();
        return InvokeAsync(sent.Bucket, (n, o) => n.Strata.ListAsync(sent, o), deadline, cancellationToken);
    }

    /// <summary>
    /// Every entry of a listing, fetching pages of <see cref="ListRequest.Limit"/> as the caller enumerates.
    /// Each page is one call (with its own retries and deadline); pages continue from the last path returned.
    /// </summary>
    public IAsyncEnumerable<Entry> ListAllAsync(
        ListRequest request,
        TimeSpan? deadline = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ListRequest page = request.Clone();
        return AllPages(
            token =>
            {
                page.ContinuationToken = token;
                return ListAsync(page, deadline, cancellationToken);
            },
            page.ContinuationToken,
            cancellationToken);
    }

    /// <summary>One page of a directory's entries by upload time, newest first unless <see cref="ListByTimeRequest.OldestFirst"/>.</summary>
    public Task<ListResponse> ListByTimeAsync(ListByTimeRequest request, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ListByTimeRequest sent = request.Clone();
        return InvokeAsync(sent.Bucket, (n, o) => n.Strata.ListByTimeAsync(sent, o), deadline, cancellationToken);
    }

    /// <summary>Every entry of a by-time listing, page by page as the caller enumerates.</summary>
    public IAsyncEnumerable<Entry> ListAllByTimeAsync(
        ListByTimeRequest request,
        TimeSpan? deadline = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ListByTimeRequest page = request.Clone();
        return AllPages(
            token =>
            {
                page.ContinuationToken = token;
                return ListByTimeAsync(page, deadline, cancellationToken);
            },
            page.ContinuationToken,
            cancellationToken);
    }

    /// <summary>Follows continuation tokens from <paramref name="firstToken"/> until a page has none.</summary>
    private static async IAsyncEnumerable<Entry> AllPages(
        Func<string, Task<ListResponse>> fetch,
        string firstToken,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string token = firstToken;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ListResponse response = await fetch(token).ConfigureAwait(false);
            foreach (Entry entry in response.Entries)
            {
                yield return entry;
            }

            if (response.NextContinuationToken.Length == 0)
            {
                yield break;
            }

            token = response.NextContinuationToken;
        }
    }

    /// <summary>The versions of the object at <paramref name="path"/>, the current one and noncurrent ones.</summary>
    public Task<ListResponse> ListVersionsAsync(string bucket, string path, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        var request = new ListVersionsRequest { Bucket = bucket, Path = path };
        return InvokeAsync(request.Bucket, (n, o) => n.Strata.ListVersionsAsync(request, o), deadline, cancellationToken);
    }
}
