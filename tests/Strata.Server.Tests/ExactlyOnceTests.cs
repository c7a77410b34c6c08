using Grpc.Core;
using Strata.Api.V1;
using StrataClient = Strata.Api.V1.Strata.StrataClient;

namespace Strata.Server.Tests;

/// <summary>
/// A mutation sent again with the same MutationId (a retry after a timeout) returns the first outcome and is
/// applied once.
/// </summary>
public sealed class ExactlyOnceTests(ServerHarness harness) : IClassFixture<ServerHarness>
{
    private readonly StrataClient _client = harness.Client;
    private readonly ClientSession _session = new();

    private async Task<string> NewBucketAsync(string stem, bool versioning = false)
    {
        string bucket = harness.UniqueBucketName(stem);
        await _client.CreateBucketAsync(bucket, versioning, _session.Next());
        return bucket;
    }

    [Fact]
    public async Task A_retried_put_returns_the_first_entry_and_creates_no_second_generation()
    {
        string bucket = await NewBucketAsync("once-put", versioning: true);
        var request = new PutObjectRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Path = "o",
            Attributes = new ObjectAttributes { Etag = "first" },
        };

        Entry first = (await _client.PutObjectAsync(request)).Entry;
        Entry retried = (await _client.PutObjectAsync(request)).Entry;

        Assert.Equal(first, retried);
        ListResponse versions = await _client.ListVersionsAsync(new ListVersionsRequest { Bucket = bucket, Path = "o" });
        Assert.Equal(first, Assert.Single(versions.Entries));
    }

    [Fact]
    public async Task A_retried_delete_returns_the_first_outcome_instead_of_not_found()
    {
        string bucket = await NewBucketAsync("once-delete");
        Entry put = await _client.PutAsync(bucket, "o", id: _session.Next());
        var delete = new DeleteObjectRequest { Id = _session.Next(), Bucket = bucket, Path = "o" };

        Entry first = (await _client.DeleteObjectAsync(delete)).Entry;
        Entry retried = (await _client.DeleteObjectAsync(delete)).Entry;

        Assert.Equal(put.Generation, first.Generation);
        Assert.Equal(first, retried);

        // A new request (new id) sees the real state.
        await Calls.Refused(_client.DeleteObjectAsync(new DeleteObjectRequest(delete) { Id = _session.Next() }), StatusCode.NotFound);
    }

    [Fact]
    public async Task A_retried_create_bucket_returns_the_bucket_instead_of_already_exists()
    {
        string name = harness.UniqueBucketName("once-bucket");
        var create = new CreateBucketRequest { Id = _session.Next(), Name = name };

        Bucket first = (await _client.CreateBucketAsync(create)).Bucket;
        Bucket retried = (await _client.CreateBucketAsync(create)).Bucket;

        Assert.Equal(first, retried);
        RpcException again = await Calls.Refused(
            _client.CreateBucketAsync(new CreateBucketRequest(create) { Id = _session.Next() }), StatusCode.AlreadyExists);
        Assert.Equal($"bucket '{name}' already exists", again.Status.Detail);
    }

    [Fact]
    public async Task A_retried_refusal_stays_refused_even_when_it_would_now_succeed()
    {
        string bucket = await NewBucketAsync("once-refusal");
        var conditional = new PutObjectRequest { Id = _session.Next(), Bucket = bucket, Path = "o", Preconditions = When.Generation(1) };
        RpcException first = await Calls.Refused(_client.PutObjectAsync(conditional), StatusCode.FailedPrecondition);

        await _client.PutAsync(bucket, "o", id: _session.Next()); // now "o" exists, but not with generation 1 either
        Entry current = await _client.StatAsync(bucket, "o");
        conditional.Preconditions = When.Generation(current.Generation); // a retry must not be re-evaluated

        RpcException retried = await Calls.Refused(_client.PutObjectAsync(conditional), StatusCode.FailedPrecondition);
        Assert.Equal(first.Status.Detail, retried.Status.Detail);
        Assert.Equal(current, await _client.StatAsync(bucket, "o"));
    }

    [Fact]
    public async Task A_retried_rename_and_transaction_apply_once()
    {
        string bucket = await NewBucketAsync("once-rename");
        await _client.PutAsync(bucket, "a", id: _session.Next());
        var rename = new RenameRequest { Id = _session.Next(), Bucket = bucket, Source = "a", Destination = "b" };
        Entry first = (await _client.RenameAsync(rename)).Entry;
        Assert.Equal(first, (await _client.RenameAsync(rename)).Entry);

        var commit = new CommitRequest
        {
            Id = _session.Next(),
            Operations =
            {
                new TransactionOperation { Rename = new RenameRequest { Bucket = bucket, Source = "b", Destination = "c" } },
                new TransactionOperation { Put = new PutObjectRequest { Bucket = bucket, Path = "b" } },
            },
        };
        CommitResponse committed = await _client.CommitAsync(commit);
        Assert.Equal(committed, await _client.CommitAsync(commit));

        List<Entry> all = await _client.ListAllAsync(new ListRequest { Bucket = bucket, Delimiter = "" });
        Assert.Equal(["b", "c"], all.Paths());
        Assert.Equal(committed.Entries[1].Generation, all[0].Generation);
    }

    [Fact]
    public async Task The_same_mutation_sent_concurrently_applies_once()
    {
        string bucket = await NewBucketAsync("once-concurrent", versioning: true);
        var request = new PutObjectRequest { Id = _session.Next(), Bucket = bucket, Path = "o" };

        EntryResponse[] responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _client.PutObjectAsync(request).ResponseAsync));

        Assert.All(responses, r => Assert.Equal(responses[0].Entry, r.Entry));
        ListResponse versions = await _client.ListVersionsAsync(new ListVersionsRequest { Bucket = bucket, Path = "o" });
        Assert.Single(versions.Entries);
    }

    [Fact]
    public async Task A_sequence_older_than_the_retry_window_is_aborted()
    {
        string bucket = await NewBucketAsync("once-window");
        var session = new ClientSession();
        MutationId old = session.Next();
        var late = new MutationId { ClientId = old.ClientId, Sequence = 5000 };
        await _client.PutAsync(bucket, "late", id: late);

        RpcException e = await Calls.Refused(
            _client.PutObjectAsync(new PutObjectRequest { Id = old, Bucket = bucket, Path = "early" }), StatusCode.Aborted);

        Assert.Equal("sequence 1 is older than this client's retry window (highest 5000, window 1024); its outcome is no longer known",
            e.Status.Detail);
        Assert.False(await _client.ExistsAsync(bucket, "early"));
    }
}
