using System.Globalization;
using Grpc.Core;
using Strata.Api;
using Strata.Api.V1;
using StrataClient = Strata.Api.V1.Strata.StrataClient;

namespace Strata.Server.Tests;

/// <summary>The namespace as a user sees it through the API: hierarchy, listings, renames, versions.</summary>
public sealed class NamespaceScenarioTests(ServerHarness harness) : IClassFixture<ServerHarness>
{
    private readonly StrataClient _client = harness.Client;
    private readonly ClientSession _session = new();

    private async Task<string> NewBucketAsync(string stem, bool versioning = false)
    {
        string bucket = harness.UniqueBucketName(stem);
        await _client.CreateBucketAsync(bucket, versioning, _session.Next());
        return bucket;
    }

    private async Task PutAllAsync(string bucket, IEnumerable<string> paths)
    {
        var commit = new CommitRequest { Id = _session.Next() };
        foreach (string path in paths)
        {
            commit.Operations.Add(new TransactionOperation
            {
                Put = new PutObjectRequest { Bucket = bucket, Path = path, Attributes = new ObjectAttributes { Size = 1 } },
            });
        }

        await _client.CommitAsync(commit);
    }

    [Fact]
    public async Task Puts_create_parents_and_listings_show_one_level_or_the_whole_subtree()
    {
        string bucket = await NewBucketAsync("scenario-tree");
        foreach (string path in new[] { "photos/2024/b.jpg", "photos/2024/a.jpg", "photos/2023/x.jpg", "photos/readme", "photos-old", "top" })
        {
            await _client.PutAsync(bucket, path, id: _session.Next());
        }

        Entry photos = await _client.StatAsync(bucket, "photos");
        Assert.Equal(EntryKind.Directory, photos.Kind);
        Assert.Equal(EntryKind.Directory, (await _client.StatAsync(bucket, "photos/2024")).Kind);

        ListResponse root = await _client.ListAsync(new ListRequest { Bucket = bucket, Delimiter = "/" });
        Assert.Equal(["photos-old", "photos", "top"], root.Entries.Paths()); // "photos" orders as "photos/"
        Assert.Equal([EntryKind.Object, EntryKind.Directory, EntryKind.Object], root.Entries.Select(e => e.Kind));

        ListResponse level = await _client.ListAsync(new ListRequest { Bucket = bucket, Prefix = "photos/", Delimiter = "/" });
        Assert.Equal(["photos/2023", "photos/2024", "photos/readme"], level.Entries.Paths());

        ListResponse namePrefix = await _client.ListAsync(new ListRequest { Bucket = bucket, Prefix = "photos/202", Delimiter = "/" });
        Assert.Equal(["photos/2023", "photos/2024"], namePrefix.Entries.Paths());

        List<Entry> subtree = await _client.ListAllAsync(new ListRequest { Bucket = bucket, Prefix = "photos/", Delimiter = "" });
        Assert.Equal(["photos/2023", "photos/2023/x.jpg", "photos/2024", "photos/2024/a.jpg", "photos/2024/b.jpg", "photos/readme"], subtree.Paths());

        List<Entry> everything = await _client.ListAllAsync(new ListRequest { Bucket = bucket, Delimiter = "" });
        Assert.Equal(9, everything.Count); // six objects and three directories

        ListResponse startAfter = await _client.ListAsync(new ListRequest { Bucket = bucket, Delimiter = "", StartAfter = "photos/2024/a.jpg" });
        Assert.Equal(["photos/2024/b.jpg", "photos/readme", "top"], startAfter.Entries.Paths());
    }

    [Fact]
    public async Task Pagination_continues_exactly_across_concurrent_inserts_and_deletes()
    {
        string bucket = await NewBucketAsync("scenario-pages");
        await PutAllAsync(bucket, Enumerable.Range(0, 10).Select(i => $"d/n{i * 10:D3}"));
        var request = new ListRequest { Bucket = bucket, Prefix = "d/", Delimiter = "/", Limit = 3 };

        ListResponse first = await _client.ListAsync(request);
        Assert.Equal(["d/n000", "d/n010", "d/n020"], first.Entries.Paths());
        Assert.NotEqual("", first.NextContinuationToken);

        // Between pages: an insert before the cursor (never seen), an insert after it (seen), a delete of an
        // entry not reached yet (never seen), and a delete of an entry already returned (no effect on the rest).
        await _client.PutAsync(bucket, "d/n005", id: _session.Next());
        await _client.PutAsync(bucket, "d/n055", id: _session.Next());
        await _client.DeleteObjectAsync(new DeleteObjectRequest { Id = _session.Next(), Bucket = bucket, Path = "d/n070" });
        await _client.DeleteObjectAsync(new DeleteObjectRequest { Id = _session.Next(), Bucket = bucket, Path = "d/n010" });

        var seen = new List<string>(first.Entries.Paths());
        string token = first.NextContinuationToken;
        while (token.Length > 0)
        {
            ListResponse page = await _client.ListAsync(new ListRequest(request) { ContinuationToken = token });
            Assert.InRange(page.Entries.Count, 1, 3);
            seen.AddRange(page.Entries.Paths());
            token = page.NextContinuationToken;
        }

        Assert.Equal(["d/n000", "d/n010", "d/n020", "d/n030", "d/n040", "d/n050", "d/n055", "d/n060", "d/n080", "d/n090"], seen);
    }

    [Fact]
    public async Task Recursive_pagination_with_a_page_boundary_inside_a_subdirectory()
    {
        string bucket = await NewBucketAsync("scenario-rpages");
        string[] paths = ["a/1", "a/2", "a/b/1", "a/b/2", "a/c", "z"];
        await PutAllAsync(bucket, paths);
        List<Entry> expected = (await _client.ListAsync(new ListRequest { Bucket = bucket, Delimiter = "" })).Entries.ToList();

        for (int limit = 1; limit <= expected.Count; limit++)
        {
            List<Entry> paged = await _client.ListAllAsync(new ListRequest { Bucket = bucket, Delimiter = "", Limit = limit });
            Assert.Equal(expected.Paths(), paged.Paths());
        }

        Assert.Equal(["a", "a/1", "a/2", "a/b", "a/b/1", "a/b/2", "a/c", "z"], expected.Paths());
    }

    [Fact]
    public async Task ListByTime_newest_and_oldest_first_with_pagination()
    {
        string bucket = await NewBucketAsync("scenario-time");
        string[] uploadOrder = ["m", "c", "x", "a", "q"];
        foreach (string name in uploadOrder)
        {
            await _client.PutAsync(bucket, "inbox/" + name, id: _session.Next());
        }

        await _client.PutAsync(bucket, "inbox/c", id: _session.Next()); // re-uploaded: now the newest
        string[] oldestFirst = ["inbox/m", "inbox/x", "inbox/a", "inbox/q", "inbox/c"];

        Assert.Equal(oldestFirst, await PagesByTime(bucket, oldest: true, limit: 2));
        Assert.Equal(oldestFirst.Reverse(), await PagesByTime(bucket, oldest: false, limit: 2));
        Assert.Equal(oldestFirst, await PagesByTime(bucket, oldest: true, limit: 0));
    }

    private async Task<List<string>> PagesByTime(string bucket, bool oldest, int limit)
    {
        var paths = new List<string>();
        var request = new ListByTimeRequest { Bucket = bucket, Directory = "inbox", OldestFirst = oldest, Limit = limit };
        while (true)
        {
            ListResponse page = await _client.ListByTimeAsync(request);
            Assert.True(limit == 0 || page.Entries.Count <= limit);
            paths.AddRange(page.Entries.Paths());
            if (page.NextContinuationToken.Length == 0)
            {
                return paths;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    [Fact]
    public async Task Renaming_a_directory_with_1000_children_moves_them_all()
    {
        string bucket = await NewBucketAsync("scenario-bigrename");
        string[] names = Enumerable.Range(0, 1000).Select(i => i.ToString("D4", CultureInfo.InvariantCulture)).ToArray();
        await PutAllAsync(bucket, names.Select(n => "big/" + n));
        Entry before = await _client.StatAsync(bucket, "big");

        Entry renamed = (await _client.RenameAsync(new RenameRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Source = "big",
            Destination = "archive/2024/big-moved",
        })).Entry;

        Assert.Equal("archive/2024/big-moved", renamed.Path);
        Assert.Equal(EntryKind.Directory, renamed.Kind);
        Assert.Equal(before.DirectoryId, renamed.DirectoryId);
        Assert.Equal(before.Generation, renamed.Generation);
        Assert.Equal(before.Metageneration + 1, renamed.Metageneration);

        List<Entry> children = await _client.ListAllAsync(new ListRequest { Bucket = bucket, Prefix = "archive/2024/big-moved/", Delimiter = "/", Limit = 300 });
        Assert.Equal(names.Select(n => "archive/2024/big-moved/" + n), children.Paths());
        Assert.Equal(1UL, (await _client.StatAsync(bucket, "archive/2024/big-moved/0999")).Attributes.Size);
        Assert.False(await _client.ExistsAsync(bucket, "big"));
        Assert.False(await _client.ExistsAsync(bucket, "big/0000"));
        await Calls.Refused(_client.ListAsync(new ListRequest { Bucket = bucket, Prefix = "big/", Delimiter = "/" }), StatusCode.NotFound);
        ListResponse root = await _client.ListAsync(new ListRequest { Bucket = bucket, Delimiter = "/" });
        Assert.Equal(["archive"], root.Entries.Paths());
    }

    [Fact]
    public async Task Renaming_a_directory_into_its_own_subtree_is_refused_and_changes_nothing()
    {
        string bucket = await NewBucketAsync("scenario-cycle");
        await _client.PutAsync(bucket, "a/b/c/o", id: _session.Next());
        List<Entry> before = await _client.ListAllAsync(new ListRequest { Bucket = bucket, Delimiter = "" });

        RpcException e = await Calls.Refused(_client.RenameAsync(new RenameRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Source = "a",
            Destination = "a/b/c/a",
        }), StatusCode.InvalidArgument);
        Assert.Equal("cannot move directory 'a' into its own subtree ('a/b/c/a')", e.Status.Detail);

        RpcException intoItself = await Calls.Refused(_client.RenameAsync(new RenameRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Source = "a/b",
            Destination = "a/b/new/deeper",
        }), StatusCode.InvalidArgument);
        Assert.Equal("cannot move directory 'a/b' into its own subtree ('a/b/new/deeper')", intoItself.Status.Detail);

        Assert.Equal(before, await _client.ListAllAsync(new ListRequest { Bucket = bucket, Delimiter = "" }));
    }

    [Fact]
    public async Task Versioned_bucket_keeps_noncurrent_versions()
    {
        string bucket = await NewBucketAsync("scenario-versions", versioning: true);
        Entry v1 = await _client.PutAsync(bucket, "doc", etag: "v1", id: _session.Next());
        Entry v2 = await _client.PutAsync(bucket, "doc", etag: "v2", id: _session.Next());
        Entry v3 = await _client.PutAsync(bucket, "doc", etag: "v3", id: _session.Next());
        Assert.True(v1.Generation < v2.Generation && v2.Generation < v3.Generation);

        ListResponse versions = await _client.ListVersionsAsync(new ListVersionsRequest { Bucket = bucket, Path = "doc" });
        Assert.Equal([v3.Generation, v2.Generation, v1.Generation], versions.Entries.Select(e => e.Generation));
        Assert.Equal([true, false, false], versions.Entries.Select(e => e.IsCurrent));
        Assert.Equal(["v3", "v2", "v1"], versions.Entries.Select(e => e.Attributes.Etag));

        Entry old = (await _client.StatAsync(new StatRequest { Bucket = bucket, Path = "doc", Generation = v1.Generation })).Entry;
        Assert.Equal("v1", old.Attributes.Etag);
        Assert.False(old.IsCurrent);
        Entry current = (await _client.StatAsync(new StatRequest { Bucket = bucket, Path = "doc", Generation = v3.Generation })).Entry;
        Assert.True(current.IsCurrent);

        Entry removed = (await _client.DeleteObjectAsync(new DeleteObjectRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Path = "doc",
            Version = v1.Generation,
        })).Entry;
        Assert.Equal(v1.Generation, removed.Generation);
        Assert.False(removed.IsCurrent);

        ListResponse after = await _client.ListVersionsAsync(new ListVersionsRequest { Bucket = bucket, Path = "doc" });
        Assert.Equal([v3.Generation, v2.Generation], after.Entries.Select(e => e.Generation));
        RpcException gone = await Calls.Refused(
            _client.StatAsync(new StatRequest { Bucket = bucket, Path = "doc", Generation = v1.Generation }), StatusCode.NotFound);
        Assert.Equal($"'doc' has no version {v1.Generation}", gone.Status.Detail);
        Assert.Equal("v3", (await _client.StatAsync(bucket, "doc")).Attributes.Etag);

        // Deleting the current object keeps it as a noncurrent version too.
        await _client.DeleteObjectAsync(new DeleteObjectRequest { Id = _session.Next(), Bucket = bucket, Path = "doc" });
        Assert.False(await _client.ExistsAsync(bucket, "doc"));
        ListResponse deleted = await _client.ListVersionsAsync(new ListVersionsRequest { Bucket = bucket, Path = "doc" });
        Assert.Equal([v3.Generation, v2.Generation], deleted.Entries.Select(e => e.Generation));
        Assert.All(deleted.Entries, e => Assert.False(e.IsCurrent));
    }

    [Fact]
    public async Task Non_empty_directories_and_buckets_refuse_removal()
    {
        string bucket = await NewBucketAsync("scenario-nonempty");
        await _client.PutAsync(bucket, "dir/o", id: _session.Next());

        RpcException dir = await Calls.Refused(
            _client.RemoveDirectoryAsync(new RemoveDirectoryRequest { Id = _session.Next(), Bucket = bucket, Path = "dir" }),
            StatusCode.FailedPrecondition);
        Assert.Equal("directory 'dir' is not empty: it has entries", dir.Status.Detail);
        Assert.Equal("dir", Calls.Trailer(dir, StrataTrailers.FailedPath));

        RpcException bucketRefusal = await Calls.Refused(
            _client.DeleteBucketAsync(new DeleteBucketRequest { Id = _session.Next(), Name = bucket }), StatusCode.FailedPrecondition);
        Assert.Equal($"bucket '{bucket}' is not empty: it has entries", bucketRefusal.Status.Detail);
        Assert.True(await _client.ExistsAsync(bucket, "dir/o"));
    }
}
