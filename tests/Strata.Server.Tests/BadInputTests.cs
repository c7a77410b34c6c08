using Google.Protobuf;
using Grpc.Core;
using Strata.Api;
using Strata.Api.V1;
using StrataClient = Strata.Api.V1.Strata.StrataClient;

namespace Strata.Server.Tests;

/// <summary>
/// Every kind of bad input gets its precise status and message, and changes nothing (checked with a read).
/// </summary>
public sealed class BadInputTests(ServerHarness harness) : IClassFixture<ServerHarness>
{
    private readonly StrataClient _client = harness.Client;
    private readonly ClientSession _session = new();

    private async Task<string> NewBucketAsync(string stem)
    {
        string bucket = harness.UniqueBucketName(stem);
        await _client.CreateBucketAsync(bucket, versioning: false, _session.Next());
        await _client.PutAsync(bucket, "existing/o", id: _session.Next());
        return bucket;
    }

    private async Task AssertOnlyTheSeedEntry(string bucket)
    {
        List<Entry> all = await _client.ListAllAsync(new ListRequest { Bucket = bucket, Delimiter = "" });
        Assert.Equal(["existing", "existing/o"], all.Paths());
    }

    /// <summary>A put of <paramref name="path"/> is refused with INVALID_ARGUMENT and <paramref name="message"/>, and creates nothing.</summary>
    private async Task AssertPutRefused(string path, string message)
    {
        string bucket = await NewBucketAsync("bad-put");
        RpcException e = await Calls.Refused(
            _client.PutObjectAsync(new PutObjectRequest { Id = _session.Next(), Bucket = bucket, Path = path }), StatusCode.InvalidArgument);
        Assert.Equal(message, e.Status.Detail);
        await AssertOnlyTheSeedEntry(bucket);
    }

    [Fact]
    public async Task A_path_component_longer_than_255_bytes()
    {
        string name = new string('n', 200) + new string('é', 28); // 200 + 56 = 256 bytes of UTF-8, 228 characters
        await AssertPutRefused("existing/" + name,
            $"path component '{new string('n', 32)}...' is 256 bytes long; the limit is 255 bytes");
    }

    [Fact]
    public async Task A_path_component_of_exactly_255_bytes_is_accepted()
    {
        string bucket = await NewBucketAsync("bad-put-255");
        string name = new string('n', 199) + new string('é', 28);
        Entry put = await _client.PutAsync(bucket, "existing/" + name, id: _session.Next());
        Assert.Equal("existing/" + name, put.Path);
    }

    [Fact]
    public async Task A_path_longer_than_1024_bytes()
    {
        string path = string.Join('/', Enumerable.Repeat(new string('p', 99), 11)); // 11 * 99 + 10 = 1099 bytes
        await AssertPutRefused(path, "path is 1099 bytes long; the limit is 1024 bytes");
    }

    [Fact]
    public async Task A_path_of_exactly_1024_bytes_is_accepted()
    {
        string bucket = await NewBucketAsync("bad-put-1024");
        string path = string.Join('/', Enumerable.Repeat(new string('p', 99), 10)) + "/" + new string('t', 24); // 999 + 25
        Assert.Equal(1024, path.Length);
        Entry put = await _client.PutAsync(bucket, path, id: _session.Next());
        Assert.Equal(path, put.Path);
    }

    [Fact]
    public async Task Empty_paths_and_empty_components()
    {
        await AssertPutRefused("", "path '' is empty: name an entry inside the bucket");
        await AssertPutRefused("/", "path '/' is empty: name an entry inside the bucket");
        await AssertPutRefused("existing//o2", "path 'existing//o2' has an empty component ('//')");
    }

    [Fact]
    public async Task Dot_and_dot_dot_components()
    {
        await AssertPutRefused("existing/./o", "path 'existing/./o' has a '.' component; relative components are not allowed");
        await AssertPutRefused("existing/../o", "path 'existing/../o' has a '..' component; relative components are not allowed");
        await AssertPutRefused("..", "path '..' has a '..' component; relative components are not allowed");
    }

    [Fact]
    public async Task Nul_and_control_characters()
    {
        await AssertPutRefused("existing/a\0b", "path 'existing/a\\u0000b' contains a NUL character");
        await AssertPutRefused("existing/a\u0001b", "path 'existing/a\\u0001b' contains the control character U+0001");
        await AssertPutRefused("existing/tab\there", "path 'existing/tab\\u0009here' contains the control character U+0009");
        await AssertPutRefused("existing/del\u007F", "path 'existing/del\\u007F' contains the control character U+007F");
    }

    [Fact]
    public async Task User_metadata_over_2_KiB()
    {
        string bucket = await NewBucketAsync("bad-meta");
        var request = new PutObjectRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Path = "existing/o2",
            Attributes = new ObjectAttributes { UserMetadata = { ["k1"] = new string('v', 1000), ["k2"] = new string('w', 1045) } },
        };

        RpcException e = await Calls.Refused(_client.PutObjectAsync(request), StatusCode.InvalidArgument);
        Assert.Equal("user metadata is 2049 bytes; the limit is 2048 bytes (keys and values together)", e.Status.Detail);
        await AssertOnlyTheSeedEntry(bucket);

        // A patch that would push an object over the limit changes nothing either.
        RpcException patch = await Calls.Refused(_client.PatchObjectAsync(new PatchObjectRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Path = "existing/o",
            SetMetadata = { ["big"] = new string('x', 2046) },
        }), StatusCode.InvalidArgument);
        Assert.Equal("user metadata is 2049 bytes; the limit is 2048 bytes (keys and values together)", patch.Status.Detail);
        Entry unchanged = await _client.StatAsync(bucket, "existing/o");
        Assert.Equal(1UL, unchanged.Metageneration);
        Assert.Empty(unchanged.Attributes.UserMetadata);
    }

    [Fact]
    public async Task Unknown_bucket()
    {
        RpcException put = await Calls.Refused(
            _client.PutObjectAsync(new PutObjectRequest { Id = _session.Next(), Bucket = "no-such-bucket", Path = "o" }), StatusCode.NotFound);
        Assert.Equal("bucket 'no-such-bucket' does not exist", put.Status.Detail);

        RpcException list = await Calls.Refused(_client.ListAsync(new ListRequest { Bucket = "no-such-bucket" }), StatusCode.NotFound);
        Assert.Equal("bucket 'no-such-bucket' does not exist", list.Status.Detail);
        RpcException stat = await Calls.Refused(_client.StatAsync(new StatRequest { Bucket = "no-such-bucket", Path = "o" }), StatusCode.NotFound);
        Assert.Equal("bucket 'no-such-bucket' does not exist", stat.Status.Detail);
        await Calls.Refused(_client.GetBucketAsync(new GetBucketRequest { Name = "no-such-bucket" }), StatusCode.NotFound);
        await Calls.Refused(_client.DeleteBucketAsync(new DeleteBucketRequest { Id = _session.Next(), Name = "no-such-bucket" }), StatusCode.NotFound);
    }

    [Theory]
    [InlineData("ab", "bucket name 'ab' must be 3 to 63 characters long, not 2")]
    [InlineData("Upper-Case", "bucket name 'Upper-Case' may contain only a-z, 0-9, '.' and '-'")]
    [InlineData("under_score", "bucket name 'under_score' may contain only a-z, 0-9, '.' and '-'")]
    [InlineData("-leading", "bucket name '-leading' must start and end with a letter or a digit")]
    [InlineData("trailing.", "bucket name 'trailing.' must start and end with a letter or a digit")]
    [InlineData("sp ace", "bucket name 'sp ace' may contain only a-z, 0-9, '.' and '-'")]
    [InlineData("", "bucket name '' must be 3 to 63 characters long, not 0")]
    public async Task Bad_bucket_names(string name, string message)
    {
        RpcException e = await Calls.Refused(
            _client.CreateBucketAsync(new CreateBucketRequest { Id = _session.Next(), Name = name }), StatusCode.InvalidArgument);
        Assert.Equal(message, e.Status.Detail);
        await Calls.Refused(_client.GetBucketAsync(new GetBucketRequest { Name = name }), StatusCode.NotFound);
    }

    [Fact]
    public async Task A_bucket_name_longer_than_63_characters()
    {
        string name = new('b', 64);
        RpcException e = await Calls.Refused(
            _client.CreateBucketAsync(new CreateBucketRequest { Id = _session.Next(), Name = name }), StatusCode.InvalidArgument);
        Assert.Equal($"bucket name '{name}' must be 3 to 63 characters long, not 64", e.Status.Detail);
        ListBucketsResponse buckets = await _client.ListBucketsAsync(new ListBucketsRequest { StartAfter = new string('b', 63) });
        Assert.DoesNotContain(buckets.Buckets, b => b.Name == name);
    }

    [Fact]
    public async Task Malformed_continuation_tokens()
    {
        string bucket = await NewBucketAsync("bad-token");
        RpcException notBase64 = await Calls.Refused(
            _client.ListAsync(new ListRequest { Bucket = bucket, Delimiter = "/", ContinuationToken = "not a token!" }), StatusCode.InvalidArgument);
        Assert.Equal("continuation token is malformed (not base64url)", notBase64.Status.Detail);

        RpcException garbage = await Calls.Refused(
            _client.ListAsync(new ListRequest { Bucket = bucket, Delimiter = "/", ContinuationToken = "AAAAAAAAAAAA" }), StatusCode.InvalidArgument);
        Assert.Equal("continuation token is malformed or belongs to another listing", garbage.Status.Detail);

        RpcException byTime = await Calls.Refused(
            _client.ListByTimeAsync(new ListByTimeRequest { Bucket = bucket, ContinuationToken = "%%%" }), StatusCode.InvalidArgument);
        Assert.Equal("continuation token is malformed (not base64url)", byTime.Status.Detail);
    }

    [Fact]
    public async Task A_continuation_token_from_another_listing()
    {
        string bucket = await NewBucketAsync("bad-token-other");
        await _client.PutAsync(bucket, "existing/p", id: _session.Next());
        await _client.PutAsync(bucket, "other/a", id: _session.Next());
        ListResponse first = await _client.ListAsync(new ListRequest { Bucket = bucket, Prefix = "existing/", Delimiter = "/", Limit = 1 });
        Assert.NotEqual("", first.NextContinuationToken);

        const string Message = "continuation token is malformed or belongs to another listing";
        RpcException otherPrefix = await Calls.Refused(_client.ListAsync(new ListRequest
        {
            Bucket = bucket,
            Prefix = "other/",
            Delimiter = "/",
            ContinuationToken = first.NextContinuationToken,
        }), StatusCode.InvalidArgument);
        Assert.Equal(Message, otherPrefix.Status.Detail);

        RpcException otherMode = await Calls.Refused(_client.ListAsync(new ListRequest
        {
            Bucket = bucket,
            Prefix = "existing/",
            Delimiter = "",
            ContinuationToken = first.NextContinuationToken,
        }), StatusCode.InvalidArgument);
        Assert.Equal(Message, otherMode.Status.Detail);

        RpcException byTime = await Calls.Refused(_client.ListByTimeAsync(new ListByTimeRequest
        {
            Bucket = bucket,
            Directory = "existing",
            ContinuationToken = first.NextContinuationToken,
        }), StatusCode.InvalidArgument);
        Assert.Equal(Message, byTime.Status.Detail);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(10_001)]
    [InlineData(int.MinValue)]
    public async Task Limits_out_of_range(int limit)
    {
        string bucket = await NewBucketAsync("bad-limit");
        string message = $"limit must be between 1 and 10000, not {limit}";
        Assert.Equal(message, (await Calls.Refused(
            _client.ListAsync(new ListRequest { Bucket = bucket, Delimiter = "/", Limit = limit }), StatusCode.InvalidArgument)).Status.Detail);
        Assert.Equal(message, (await Calls.Refused(
            _client.ListByTimeAsync(new ListByTimeRequest { Bucket = bucket, Limit = limit }), StatusCode.InvalidArgument)).Status.Detail);
        Assert.Equal(message, (await Calls.Refused(
            _client.ListBucketsAsync(new ListBucketsRequest { Limit = limit }), StatusCode.InvalidArgument)).Status.Detail);
    }

    [Fact]
    public async Task A_delimiter_other_than_slash_or_empty()
    {
        string bucket = await NewBucketAsync("bad-delimiter");
        RpcException e = await Calls.Refused(
            _client.ListAsync(new ListRequest { Bucket = bucket, Delimiter = "|" }), StatusCode.InvalidArgument);
        Assert.Equal("delimiter must be \"/\" (one level) or \"\" (the whole subtree), not \"|\"", e.Status.Detail);
    }

    [Fact]
    public async Task Malformed_mutation_ids_are_refused_before_anything_applies()
    {
        string bucket = await NewBucketAsync("bad-id");
        var shortId = new MutationId { ClientId = ByteString.CopyFrom(new byte[15]), Sequence = 1 };
        RpcException e = await Calls.Refused(
            _client.PutObjectAsync(new PutObjectRequest { Id = shortId, Bucket = bucket, Path = "existing/x" }), StatusCode.InvalidArgument);
        Assert.Equal("mutation id: client_id must be 16 bytes, not 15", e.Status.Detail);

        var emptyId = new MutationId();
        RpcException empty = await Calls.Refused(
            _client.PutObjectAsync(new PutObjectRequest { Id = emptyId, Bucket = bucket, Path = "existing/x" }), StatusCode.InvalidArgument);
        Assert.Equal("mutation id: client_id must be 16 bytes, not 0", empty.Status.Detail);

        var zeroSequence = new MutationId { ClientId = _session.Next().ClientId, Sequence = 0 };
        RpcException zero = await Calls.Refused(
            _client.PutObjectAsync(new PutObjectRequest { Id = zeroSequence, Bucket = bucket, Path = "existing/x" }), StatusCode.InvalidArgument);
        Assert.Equal("mutation id: sequence must start at 1, not 0", zero.Status.Detail);

        await AssertOnlyTheSeedEntry(bucket);
    }

    [Fact]
    public async Task Stat_with_both_a_timestamp_and_a_generation_or_a_timestamp_outside_the_readable_window()
    {
        string bucket = await NewBucketAsync("bad-stat");
        Entry o = await _client.StatAsync(bucket, "existing/o");
        RpcException both = await Calls.Refused(
            _client.StatAsync(new StatRequest { Bucket = bucket, Path = "existing/o", At = o.Modified, Generation = o.Generation }),
            StatusCode.InvalidArgument);
        Assert.Equal("stat takes either a read timestamp (at) or a generation, not both", both.Status.Detail);

        ulong shard = harness.Server.Node.Map.FindByRoutingKey(Api.ShardRouting.RoutingKey(bucket))!.ShardId;
        ulong future = harness.Server.Node.AppliedTimestamp(shard) + 1; // commands not applied yet could still get it
        RpcException ahead = await Calls.Refused(
            _client.StatAsync(new StatRequest { Bucket = bucket, Path = "existing/o", At = future }), StatusCode.InvalidArgument);
        Assert.StartsWith($"read timestamp {future} is newer than the last applied change (", ahead.Status.Detail, StringComparison.Ordinal);
        await Calls.Refused(_client.ListAsync(new ListRequest { Bucket = bucket, At = future }), StatusCode.InvalidArgument);

        ulong ancient = Namespace.HybridClock.FromMilliseconds(
            Namespace.HybridClock.ToDateTime(o.Modified).AddHours(-2).ToUnixTimeMilliseconds()); // retention is 1 hour
        RpcException old = await Calls.Refused(
            _client.StatAsync(new StatRequest { Bucket = bucket, Path = "existing/o", At = ancient }), StatusCode.InvalidArgument);
        Assert.StartsWith($"read timestamp {ancient} is older than the MVCC retention window (01:00:00)", old.Status.Detail, StringComparison.Ordinal);
        await Calls.Refused(_client.ListAsync(new ListRequest { Bucket = bucket, At = ancient }), StatusCode.InvalidArgument);
    }

    [Fact]
    public async Task Empty_and_unknown_operations()
    {
        string bucket = await NewBucketAsync("bad-ops");
        RpcException none = await Calls.Refused(_client.CommitAsync(new CommitRequest { Id = _session.Next() }), StatusCode.InvalidArgument);
        Assert.Equal("a transaction needs at least one operation", none.Status.Detail);

        RpcException empty = await Calls.Refused(_client.CommitAsync(new CommitRequest
        {
            Id = _session.Next(),
            Operations = { new TransactionOperation { Put = new PutObjectRequest { Bucket = bucket, Path = "existing/y" } }, new TransactionOperation() },
        }), StatusCode.InvalidArgument);
        Assert.Equal("operation 1 of the transaction: the operation is empty", empty.Status.Detail);
        Assert.Equal("1", Calls.Trailer(empty, StrataTrailers.FailedOperation));

        RpcException tier = await Calls.Refused(_client.PutObjectAsync(new PutObjectRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Path = "existing/z",
            Attributes = new ObjectAttributes { Tier = (Tier)99 },
        }), StatusCode.InvalidArgument);
        Assert.Equal("unknown storage tier 99", tier.Status.Detail);
        await AssertOnlyTheSeedEntry(bucket);
    }

    [Fact]
    public async Task Objects_and_directories_in_each_others_way()
    {
        string bucket = await NewBucketAsync("bad-kind");
        RpcException underObject = await Calls.Refused(
            _client.PutObjectAsync(new PutObjectRequest { Id = _session.Next(), Bucket = bucket, Path = "existing/o/child" }),
            StatusCode.FailedPrecondition);
        Assert.Equal("'existing/o' is an object, not a directory: it cannot hold 'existing/o/child'", underObject.Status.Detail);
        Assert.Equal("existing/o", Calls.Trailer(underObject, StrataTrailers.FailedPath));

        RpcException overDirectory = await Calls.Refused(
            _client.PutObjectAsync(new PutObjectRequest { Id = _session.Next(), Bucket = bucket, Path = "existing" }),
            StatusCode.AlreadyExists);
        Assert.Equal("'existing' is a directory; an object cannot replace it", overDirectory.Status.Detail);
        Entry directory = await _client.StatAsync(bucket, "existing");
        Assert.Equal(directory.Generation, Calls.GenerationTrailer(overDirectory));
        await AssertOnlyTheSeedEntry(bucket);
    }

    [Fact]
    public async Task Non_ascii_failed_paths_are_percent_encoded_in_the_trailer()
    {
        string bucket = await NewBucketAsync("bad-trailer");
        await _client.PutAsync(bucket, "existing/naïve 100%", id: _session.Next());
        RpcException e = await Calls.Refused(_client.PutObjectAsync(new PutObjectRequest
        {
            Id = _session.Next(),
            Bucket = bucket,
            Path = "existing/naïve 100%",
            Preconditions = When.Absent(),
        }), StatusCode.FailedPrecondition);

        string? encoded = Calls.Trailer(e, StrataTrailers.FailedPath);
        Assert.Equal("existing/na%C3%AFve 100%25", encoded);
        Assert.Equal("existing/naïve 100%", StrataTrailers.DecodeText(encoded!));
        Assert.Contains("'existing/naïve 100%'", e.Status.Detail, StringComparison.Ordinal);
    }
}
