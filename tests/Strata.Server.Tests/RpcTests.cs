using Grpc.Core;
using Strata.Api.V1;
using StrataClient = Strata.Api.V1.Strata.StrataClient;

namespace Strata.Server.Tests;

/// <summary>The happy path of every RPC of strata.v1.Strata, over a real socket.</summary>
public sealed class RpcTests(ServerHarness harness) : IClassFixture<ServerHarness>
{
    private readonly StrataClient _client = harness.Client;
    private readonly ClientSession _session = new();

    [Fact]
    public async Task CreateBucket_GetBucket_ListBuckets_DeleteBucket()
    {
        string name = harness.UniqueBucketName("rpc-bucket");
        Bucket created = (await _client.CreateBucketAsync(new CreateBucketRequest { Id = _session.Next(), Name = name, Versioning = true })).Bucket;
        Assert.Equal(name, created.Name);
        Assert.True(created.Versioning);
        Assert.NotEqual(0UL, created.Created);

        Bucket fetched = (await _client.GetBucketAsync(new GetBucketRequest { Name = name })).Bucket;
        Assert.Equal(created, fetched);

        ListBucketsResponse listed = await _client.ListBucketsAsync(new ListBucketsRequest());
        Assert.Contains(listed.Buckets, b => b.Name == name);

        Bucket deleted = (await _client.DeleteBucketAsync(new DeleteBucketRequest { Id = _session.Next(), Name = name })).Bucket;
        Assert.Equal(name, deleted.Name);
        RpcException gone = await Calls.Refused(_client.GetBucketAsync(new GetBucketRequest { Name = name }), StatusCode.NotFound);
        Assert.Equal($"bucket '{name}' does not exist", gone.Status.Detail);
    }

    [Fact]
    public async Task ListBuckets_pages_with_start_after_and_limit()
    {
        string prefix = harness.UniqueBucketName("rpc-page");
        string[] names = [$"{prefix}-a", $"{prefix}-b", $"{prefix}-c"];
        foreach (string name in names)
        {
            await _client.CreateBucketAsync(name, id: _session.Next());
        }

        ListBucketsResponse page = await _client.ListBucketsAsync(new ListBucketsRequest { StartAfter = names[0], Limit = 2 });
        Assert.Equal([names[1], names[2]], page.Buckets.Select(b => b.Name));
    }

    [Fact]
    public async Task PutObject_returns_the_entry_with_all_attributes_and_Stat_reads_it_back()
    {
        string bucket = harness.UniqueBucketName("rpc-put");
        await _client.CreateBucketAsync(bucket, id: _session.Next());
        var attributes = new ObjectAttributes
        {
            Size = 1234,
            Etag = "\"abc\"",
            ContentType = "video/mp4",
            Tier = Tier.Hdd,
            Lifecycle = LifecycleState.LifecycleHot,
            Locations = { new Location { Tier = Tier.Hdd, BlobId = "blob-1" }, new Location { Tier = Tier.Tape, BlobId = "tape-7" } },
            UserMetadata = { ["profile"] = "hls-1080p", ["drm-key"] = "kms://key/42" },
        };

        Entry put = (await _client.PutObjectAsync(new PutObjectRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Path = "videos/2024/clip.mp4",
            Attributes = attributes,
        })).Entry;

        Assert.Equal(bucket, put.Bucket);
        Assert.Equal("videos/2024/clip.mp4", put.Path);
        Assert.Equal(EntryKind.Object, put.Kind);
        Assert.Equal(attributes, put.Attributes);
        Assert.Equal(1UL, put.Metageneration);
        Assert.NotEqual(0UL, put.Generation);
        Assert.True(put.IsCurrent);
        Assert.Equal(put.Created, put.Modified);

        Entry stat = await _client.StatAsync(bucket, "videos/2024/clip.mp4");
        Assert.Equal(put, stat);
    }

    [Fact]
    public async Task PatchObject_changes_only_what_it_names_and_bumps_the_metageneration()
    {
        string bucket = harness.UniqueBucketName("rpc-patch");
        await _client.CreateBucketAsync(bucket, id: _session.Next());
        Entry put = await _client.PutAsync(bucket, "o", size: 10, etag: "e1", id: _session.Next(),
            metadata: new Dictionary<string, string> { ["keep"] = "1", ["drop"] = "2" });

        Entry patched = (await _client.PatchObjectAsync(new PatchObjectRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Path = "o",
            Tier = Tier.Tape,
            Lifecycle = LifecycleState.LifecycleCold,
            ReplaceLocations = true,
            Locations = { new Location { Tier = Tier.Tape, BlobId = "t-1" } },
            SetMetadata = { ["added"] = "3" },
            RemoveMetadata = { "drop" },
        })).Entry;

        Assert.Equal(put.Generation, patched.Generation);
        Assert.Equal(2UL, patched.Metageneration);
        Assert.Equal(Tier.Tape, patched.Attributes.Tier);
        Assert.Equal(LifecycleState.LifecycleCold, patched.Attributes.Lifecycle);
        Assert.Equal("application/octet-stream", patched.Attributes.ContentType);
        Assert.Equal("e1", patched.Attributes.Etag);
        Assert.Equal(10UL, patched.Attributes.Size);
        Assert.Equal([new Location { Tier = Tier.Tape, BlobId = "t-1" }], patched.Attributes.Locations);
        Assert.Equal(new Dictionary<string, string> { ["keep"] = "1", ["added"] = "3" }, patched.Attributes.UserMetadata);
        Assert.True(patched.Modified > put.Modified);
        Assert.Equal(patched, await _client.StatAsync(bucket, "o"));
    }

    [Fact]
    public async Task DeleteObject_returns_the_deleted_entry()
    {
        string bucket = harness.UniqueBucketName("rpc-delete");
        await _client.CreateBucketAsync(bucket, id: _session.Next());
        Entry put = await _client.PutAsync(bucket, "d/o", id: _session.Next());

        Entry deleted = (await _client.DeleteObjectAsync(new DeleteObjectRequest { Id = _session.Next(), Bucket = bucket, Path = "d/o" })).Entry;

        Assert.Equal(put.Generation, deleted.Generation);
        Assert.Equal("d/o", deleted.Path);
        Assert.False(await _client.ExistsAsync(bucket, "d/o"));
        Assert.True(await _client.ExistsAsync(bucket, "d"));
    }

    [Fact]
    public async Task MakeDirectory_and_RemoveDirectory()
    {
        string bucket = harness.UniqueBucketName("rpc-dir");
        await _client.CreateBucketAsync(bucket, id: _session.Next());

        Entry made = (await _client.MakeDirectoryAsync(new MakeDirectoryRequest { Id = _session.Next(), Bucket = bucket, Path = "a/b" })).Entry;
        Assert.Equal(EntryKind.Directory, made.Kind);
        Assert.Equal("a/b", made.Path);
        Assert.NotEqual(0UL, made.DirectoryId);
        Assert.Null(made.Attributes);
        Assert.Equal(EntryKind.Directory, (await _client.StatAsync(bucket, "a")).Kind);

        Entry removed = (await _client.RemoveDirectoryAsync(new RemoveDirectoryRequest { Id = _session.Next(), Bucket = bucket, Path = "a/b" })).Entry;
        Assert.Equal(made.DirectoryId, removed.DirectoryId);
        Assert.False(await _client.ExistsAsync(bucket, "a/b"));
    }

    [Fact]
    public async Task Rename_moves_an_object()
    {
        string bucket = harness.UniqueBucketName("rpc-rename");
        await _client.CreateBucketAsync(bucket, id: _session.Next());
        Entry put = await _client.PutAsync(bucket, "from/o", etag: "x", id: _session.Next());

        Entry moved = (await _client.RenameAsync(new RenameRequest { Id = _session.Next(), Bucket = bucket, Source = "from/o", Destination = "to/o2" })).Entry;

        Assert.Equal("to/o2", moved.Path);
        Assert.Equal(put.Generation, moved.Generation);
        Assert.Equal(put.Metageneration + 1, moved.Metageneration);
        Assert.Equal("x", moved.Attributes.Etag);
        Assert.False(await _client.ExistsAsync(bucket, "from/o"));
        Assert.Equal(moved, await _client.StatAsync(bucket, "to/o2"));
    }

    [Fact]
    public async Task List_ListByTime_ListVersions()
    {
        string bucket = harness.UniqueBucketName("rpc-list");
        await _client.CreateBucketAsync(bucket, versioning: true, id: _session.Next());
        await _client.PutAsync(bucket, "b", id: _session.Next());
        await _client.PutAsync(bucket, "a", id: _session.Next());
        await _client.PutAsync(bucket, "a", id: _session.Next());

        ListResponse byName = await _client.ListAsync(new ListRequest { Bucket = bucket, Delimiter = "/" });
        Assert.Equal(["a", "b"], byName.Entries.Paths());
        Assert.Equal("", byName.NextContinuationToken);

        ListResponse byTime = await _client.ListByTimeAsync(new ListByTimeRequest { Bucket = bucket });
        Assert.Equal(["a", "b"], byTime.Entries.Paths()); // newest first: "a" was overwritten last

        ListResponse versions = await _client.ListVersionsAsync(new ListVersionsRequest { Bucket = bucket, Path = "a" });
        Assert.Equal(2, versions.Entries.Count);
        Assert.True(versions.Entries[0].IsCurrent);
        Assert.False(versions.Entries[1].IsCurrent);
    }

    [Fact]
    public async Task Commit_applies_every_operation_and_answers_one_entry_per_operation()
    {
        string bucket = harness.UniqueBucketName("rpc-commit");
        await _client.CreateBucketAsync(bucket, id: _session.Next());
        Entry existing = await _client.PutAsync(bucket, "old", id: _session.Next());

        CommitResponse response = await _client.CommitAsync(new CommitRequest
        {
            Id = _session.Next(),
            Operations =
            {
                new TransactionOperation { Guard = new Guard { Bucket = bucket, Path = "old", Preconditions = When.Generation(existing.Generation) } },
                new TransactionOperation { Guard = new Guard { Bucket = bucket, Path = "missing", Preconditions = When.Generation(0) } },
                new TransactionOperation { MakeDirectory = new MakeDirectoryRequest { Bucket = bucket, Path = "dir" } },
                new TransactionOperation { Put = new PutObjectRequest { Bucket = bucket, Path = "dir/new", Attributes = new ObjectAttributes { Size = 5 } } },
                new TransactionOperation { Patch = new PatchObjectRequest { Bucket = bucket, Path = "dir/new", ContentType = "text/plain" } },
                new TransactionOperation { Rename = new RenameRequest { Bucket = bucket, Source = "old", Destination = "dir/renamed" } },
                new TransactionOperation { Delete = new DeleteObjectRequest { Bucket = bucket, Path = "dir/renamed" } },
                new TransactionOperation { MakeDirectory = new MakeDirectoryRequest { Bucket = bucket, Path = "tmp" } },
                new TransactionOperation { RemoveDirectory = new RemoveDirectoryRequest { Bucket = bucket, Path = "tmp" } },
            },
        });

        Assert.Equal(9, response.Entries.Count);
        Assert.Equal("old", response.Entries[0].Path);
        Assert.Equal(new Entry(), response.Entries[1]); // a guard on an absent entry has no entry
        Assert.Equal(EntryKind.Directory, response.Entries[2].Kind);
        Assert.Equal("text/plain", response.Entries[4].Attributes.ContentType);
        Assert.Equal("dir/renamed", response.Entries[5].Path);

        List<Entry> all = await _client.ListAllAsync(new ListRequest { Bucket = bucket, Delimiter = "" });
        Assert.Equal(["dir", "dir/new"], all.Paths());
        Entry created = await _client.StatAsync(bucket, "dir/new");
        Assert.Equal("text/plain", created.Attributes.ContentType);
        Assert.Equal(5UL, created.Attributes.Size);
    }

    [Fact]
    public async Task Mutations_without_a_mutation_id_are_accepted()
    {
        string bucket = harness.UniqueBucketName("rpc-noid");
        await _client.CreateBucketAsync(bucket);
        Entry put = await _client.PutAsync(bucket, "o");
        Assert.Equal(put, await _client.StatAsync(bucket, "o"));
    }

    [Fact]
    public async Task Stat_at_a_timestamp_reads_the_past()
    {
        string bucket = harness.UniqueBucketName("rpc-at");
        await _client.CreateBucketAsync(bucket, id: _session.Next());
        Entry first = await _client.PutAsync(bucket, "o", etag: "v1", id: _session.Next());
        Entry second = await _client.PutAsync(bucket, "o", etag: "v2", id: _session.Next());
        await _client.DeleteObjectAsync(new DeleteObjectRequest { Id = _session.Next(), Bucket = bucket, Path = "o" });

        Entry atFirst = (await _client.StatAsync(new StatRequest { Bucket = bucket, Path = "o", At = first.Modified })).Entry;
        Entry atSecond = (await _client.StatAsync(new StatRequest { Bucket = bucket, Path = "o", At = second.Modified })).Entry;

        Assert.Equal("v1", atFirst.Attributes.Etag);
        Assert.Equal("v2", atSecond.Attributes.Etag);
        await Calls.Refused(_client.StatAsync(new StatRequest { Bucket = bucket, Path = "o" }), StatusCode.NotFound);
        await Calls.Refused(_client.StatAsync(new StatRequest { Bucket = bucket, Path = "o", At = first.Modified - 1 }), StatusCode.NotFound);

        ListResponse pastListing = await _client.ListAsync(new ListRequest { Bucket = bucket, Delimiter = "/", At = second.Modified });
        Assert.Equal("v2", Assert.Single(pastListing.Entries).Attributes.Etag);
    }
}
