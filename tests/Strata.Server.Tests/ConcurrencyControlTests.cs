using System.Globalization;
using Grpc.Core;
using Strata.Api;
using Strata.Api.V1;
using StrataClient = Strata.Api.V1.Strata.StrataClient;

namespace Strata.Server.Tests;

/// <summary>
/// Optimistic concurrency: every precondition kind, holding and failing. A failure is FAILED_PRECONDITION
/// naming the entry and its current generation (message and trailers) and changes nothing.
/// </summary>
public sealed class ConcurrencyControlTests(ServerHarness harness) : IClassFixture<ServerHarness>
{
    private readonly StrataClient _client = harness.Client;
    private readonly ClientSession _session = new();

    private async Task<(string Bucket, Entry Object)> ObjectAsync(string stem)
    {
        string bucket = harness.UniqueBucketName(stem);
        await _client.CreateBucketAsync(bucket, versioning: false, _session.Next());
        Entry entry = await _client.PutAsync(bucket, "dir/obj", etag: "etag-1", id: _session.Next());
        return (bucket, entry);
    }

    /// <summary>Asserts the refusal names the entry and its state, in the message and in the trailers.</summary>
    private static void AssertNamesEntry(RpcException e, string path, ulong generation, ulong metageneration, string requirement)
    {
        string state = generation == 0
            ? $"'{path}' does not exist"
            : $"'{path}' has generation {generation}, metageneration {metageneration}";
        Assert.Equal($"precondition failed: {state}; the request required {requirement}", e.Status.Detail);
        Assert.Equal(generation, Calls.GenerationTrailer(e));
        Assert.Equal(metageneration.ToString(CultureInfo.InvariantCulture), Calls.Trailer(e, StrataTrailers.CurrentMetageneration));
        Assert.Equal(path, Calls.Trailer(e, StrataTrailers.FailedPath));
    }

    private async Task AssertUnchanged(string bucket, Entry expected) =>
        Assert.Equal(expected, await _client.StatAsync(bucket, expected.Path));

    [Fact]
    public async Task If_generation_match_holds_and_fails()
    {
        (string bucket, Entry obj) = await ObjectAsync("occ-gen");

        RpcException e = await Calls.Refused(_client.PutObjectAsync(new PutObjectRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Path = obj.Path,
            Attributes = new ObjectAttributes { Etag = "etag-2" },
            Preconditions = When.Generation(obj.Generation + 1),
        }), StatusCode.FailedPrecondition);
        AssertNamesEntry(e, "dir/obj", obj.Generation, 1, $"generation {obj.Generation + 1}");
        await AssertUnchanged(bucket, obj);

        Entry replaced = await _client.PutAsync(bucket, obj.Path, etag: "etag-2", preconditions: When.Generation(obj.Generation), id: _session.Next());
        Assert.True(replaced.Generation > obj.Generation);
    }

    [Fact]
    public async Task If_generation_match_zero_means_must_not_exist()
    {
        (string bucket, Entry obj) = await ObjectAsync("occ-gen0");

        RpcException e = await Calls.Refused(_client.PutObjectAsync(new PutObjectRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Path = obj.Path,
            Preconditions = When.Generation(0),
        }), StatusCode.FailedPrecondition);
        AssertNamesEntry(e, "dir/obj", obj.Generation, 1, "that it does not exist (if-generation-match 0)");
        await AssertUnchanged(bucket, obj);

        Entry created = await _client.PutAsync(bucket, "dir/new", preconditions: When.Generation(0), id: _session.Next());
        Assert.Equal("dir/new", created.Path);
    }

    [Fact]
    public async Task If_generation_match_on_a_missing_entry_reports_generation_zero()
    {
        (string bucket, _) = await ObjectAsync("occ-missing");

        RpcException e = await Calls.Refused(_client.PutObjectAsync(new PutObjectRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Path = "dir/absent",
            Preconditions = When.Generation(42),
        }), StatusCode.FailedPrecondition);
        AssertNamesEntry(e, "dir/absent", 0, 0, "generation 42");
        Assert.False(await _client.ExistsAsync(bucket, "dir/absent"));
    }

    [Fact]
    public async Task If_metageneration_match_holds_and_fails()
    {
        (string bucket, Entry obj) = await ObjectAsync("occ-meta");

        RpcException e = await Calls.Refused(_client.PatchObjectAsync(new PatchObjectRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Path = obj.Path,
            ContentType = "text/plain",
            Preconditions = When.Metageneration(2),
        }), StatusCode.FailedPrecondition);
        AssertNamesEntry(e, "dir/obj", obj.Generation, 1, "metageneration 2");
        await AssertUnchanged(bucket, obj);

        Entry patched = (await _client.PatchObjectAsync(new PatchObjectRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Path = obj.Path,
            ContentType = "text/plain",
            Preconditions = When.Metageneration(1),
        })).Entry;
        Assert.Equal(2UL, patched.Metageneration);
        Assert.Equal("text/plain", patched.Attributes.ContentType);
    }

    [Fact]
    public async Task If_none_match_holds_and_fails()
    {
        (string bucket, Entry obj) = await ObjectAsync("occ-none");

        RpcException e = await Calls.Refused(_client.PutObjectAsync(new PutObjectRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Path = obj.Path,
            Preconditions = When.Absent(),
        }), StatusCode.FailedPrecondition);
        AssertNamesEntry(e, "dir/obj", obj.Generation, 1, "that it does not exist (if-none-match)");
        await AssertUnchanged(bucket, obj);

        RpcException directory = await Calls.Refused(_client.MakeDirectoryAsync(new MakeDirectoryRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Path = "dir",
            Preconditions = When.Absent(),
        }), StatusCode.FailedPrecondition);
        Entry dir = await _client.StatAsync(bucket, "dir");
        AssertNamesEntry(directory, "dir", dir.Generation, dir.Metageneration, "that it does not exist (if-none-match)");

        Entry created = await _client.PutAsync(bucket, "dir/other", preconditions: When.Absent(), id: _session.Next());
        Assert.Equal(1UL, created.Metageneration);
    }

    [Fact]
    public async Task If_match_etag_holds_and_fails()
    {
        (string bucket, Entry obj) = await ObjectAsync("occ-etag");

        RpcException e = await Calls.Refused(_client.DeleteObjectAsync(new DeleteObjectRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Path = obj.Path,
            Preconditions = When.Etag("etag-0"),
        }), StatusCode.FailedPrecondition);
        AssertNamesEntry(e, "dir/obj", obj.Generation, 1, "ETag \"etag-0\" (current ETag \"etag-1\")");
        await AssertUnchanged(bucket, obj);

        await _client.DeleteObjectAsync(new DeleteObjectRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Path = obj.Path,
            Preconditions = When.Etag("etag-1"),
        });
        Assert.False(await _client.ExistsAsync(bucket, obj.Path));
    }

    [Fact]
    public async Task Preconditions_guard_renames_and_directory_removal()
    {
        (string bucket, Entry obj) = await ObjectAsync("occ-rename");

        RpcException rename = await Calls.Refused(_client.RenameAsync(new RenameRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Source = obj.Path,
            Destination = "moved",
            Preconditions = When.Metageneration(5),
        }), StatusCode.FailedPrecondition);
        AssertNamesEntry(rename, "dir/obj", obj.Generation, 1, "metageneration 5");
        await AssertUnchanged(bucket, obj);
        Assert.False(await _client.ExistsAsync(bucket, "moved"));

        Entry empty = (await _client.MakeDirectoryAsync(new MakeDirectoryRequest { Id = _session.Next(), Bucket = bucket, Path = "empty" })).Entry;
        RpcException remove = await Calls.Refused(_client.RemoveDirectoryAsync(new RemoveDirectoryRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Path = "empty",
            Preconditions = When.Generation(empty.Generation - 1),
        }), StatusCode.FailedPrecondition);
        AssertNamesEntry(remove, "empty", empty.Generation, 1, $"generation {empty.Generation - 1}");
        await AssertUnchanged(bucket, empty);

        await _client.RemoveDirectoryAsync(new RemoveDirectoryRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Path = "empty",
            Preconditions = When.Generation(empty.Generation),
        });
        Assert.False(await _client.ExistsAsync(bucket, "empty"));
    }

    [Fact]
    public async Task A_transaction_whose_guard_fails_in_the_middle_leaves_no_trace()
    {
        (string bucket, Entry obj) = await ObjectAsync("occ-txn");
        List<Entry> before = await _client.ListAllAsync(new ListRequest { Bucket = bucket, Delimiter = "" });

        RpcException e = await Calls.Refused(_client.CommitAsync(new CommitRequest
        {
            Id = _session.Next(),
            Operations =
            {
                new TransactionOperation { Put = new PutObjectRequest { Bucket = bucket, Path = "new/a" } },
                new TransactionOperation { Patch = new PatchObjectRequest { Bucket = bucket, Path = obj.Path, ContentType = "x/y" } },
                new TransactionOperation { Rename = new RenameRequest { Bucket = bucket, Source = obj.Path, Destination = "new/renamed" } },
                new TransactionOperation { Guard = new Guard { Bucket = bucket, Path = "new/renamed", Preconditions = When.Metageneration(7) } },
                new TransactionOperation { Put = new PutObjectRequest { Bucket = bucket, Path = "new/b" } },
            },
        }), StatusCode.FailedPrecondition);

        Assert.StartsWith("operation 3 of the transaction: precondition failed: 'new/renamed' has generation", e.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("3", Calls.Trailer(e, StrataTrailers.FailedOperation));
        Assert.Equal("new/renamed", Calls.Trailer(e, StrataTrailers.FailedPath));
        Assert.Equal(obj.Generation, Calls.GenerationTrailer(e));

        Assert.Equal(before, await _client.ListAllAsync(new ListRequest { Bucket = bucket, Delimiter = "" }));
        await AssertUnchanged(bucket, obj);
    }

    [Fact]
    public async Task A_transaction_refused_by_a_missing_entry_reports_the_operation_and_leaves_no_trace()
    {
        (string bucket, Entry obj) = await ObjectAsync("occ-txn-missing");

        RpcException e = await Calls.Refused(_client.CommitAsync(new CommitRequest
        {
            Id = _session.Next(),
            Operations =
            {
                new TransactionOperation { Delete = new DeleteObjectRequest { Bucket = bucket, Path = obj.Path } },
                new TransactionOperation { Delete = new DeleteObjectRequest { Bucket = bucket, Path = "dir/absent" } },
            },
        }), StatusCode.NotFound);

        Assert.Equal("operation 1 of the transaction: object 'dir/absent' does not exist", e.Status.Detail);
        Assert.Equal("1", Calls.Trailer(e, StrataTrailers.FailedOperation));
        await AssertUnchanged(bucket, obj);
    }

    [Fact]
    public async Task Concurrent_conditional_puts_on_one_object_are_reflected_exactly()
    {
        string bucket = harness.UniqueBucketName("occ-race-put");
        await _client.CreateBucketAsync(bucket, versioning: true, _session.Next());
        Entry initial = await _client.PutAsync(bucket, "hot", id: _session.Next());

        const int Writers = 8;
        const int AttemptsEach = 20;
        var successes = new System.Collections.Concurrent.ConcurrentBag<(ulong Expected, ulong Written)>();
        int conflicts = 0;
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(async writer =>
        {
            var session = new ClientSession();
            for (int attempt = 0; attempt < AttemptsEach; attempt++)
            {
                ulong seen = (await _client.StatAsync(bucket, "hot")).Generation;
                try
                {
                    Entry written = await _client.PutAsync(bucket, "hot", etag: $"{writer}-{attempt}",
                        preconditions: When.Generation(seen), id: session.Next());
                    successes.Add((seen, written.Generation));
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
                {
                    Assert.NotEqual(seen, Calls.GenerationTrailer(e));
                    Interlocked.Increment(ref conflicts);
                }
            }
        }));

        Assert.Equal(Writers * AttemptsEach, successes.Count + conflicts);
        Assert.NotEmpty(successes);

        // The successes form one chain from the initial generation: each replaced exactly the one before it.
        List<(ulong Expected, ulong Written)> chain = successes.OrderBy(s => s.Written).ToList();
        ulong previous = initial.Generation;
        foreach ((ulong expected, ulong written) in chain)
        {
            Assert.Equal(previous, expected);
            previous = written;
        }

        Assert.Equal(previous, (await _client.StatAsync(bucket, "hot")).Generation);
        ListResponse versions = await _client.ListVersionsAsync(new ListVersionsRequest { Bucket = bucket, Path = "hot" });
        Assert.Equal(successes.Count + 1, versions.Entries.Count);
    }

    [Fact]
    public async Task Concurrent_conditional_patches_count_exactly_in_the_metageneration()
    {
        (string bucket, Entry obj) = await ObjectAsync("occ-race-patch");

        const int Writers = 8;
        const int AttemptsEach = 20;
        int successes = 0;
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(async writer =>
        {
            var session = new ClientSession();
            for (int attempt = 0; attempt < AttemptsEach; attempt++)
            {
                Entry seen = await _client.StatAsync(bucket, obj.Path);
                try
                {
                    await _client.PatchObjectAsync(new PatchObjectRequest
                    {
                        Id = session.Next(),
                        Bucket = bucket,
                        Path = obj.Path,
                        SetMetadata = { ["counter"] = (int.Parse(seen.Attributes.UserMetadata.GetValueOrDefault("counter", "0"), CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture) },
                        Preconditions = When.Metageneration(seen.Metageneration),
                    });
                    Interlocked.Increment(ref successes);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
                {
                }
            }
        }));

        Entry final = await _client.StatAsync(bucket, obj.Path);
        Assert.Equal((ulong)successes + 1, final.Metageneration);
        Assert.Equal(successes.ToString(CultureInfo.InvariantCulture), final.Attributes.UserMetadata["counter"]); // no lost update
        Assert.Equal(obj.Generation, final.Generation);
    }
}
