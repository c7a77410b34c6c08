using Grpc.Core;
using Google.Protobuf;
using Strata.Api.V1;
using StrataClient = Strata.Api.V1.Strata.StrataClient;

namespace Strata.Server.Tests;

/// <summary>
/// Regression tests for bugs found in the namespace layer through the API: a far sequence jump stalled the node
/// (results were forgotten one sequence number at a time), deleting the current version by its generation kept
/// it as noncurrent, and an if-none-match guard failed when the parent directory was missing.
/// </summary>
public sealed class NamespaceRegressionTests(ServerHarness harness) : IClassFixture<ServerHarness>
{
    private readonly StrataClient _client = harness.Client;

    [Fact]
    public async Task A_sequence_jump_does_not_stall_the_node()
    {
        string bucket = harness.UniqueBucketName("bug-window");
        await _client.CreateBucketAsync(bucket);
        var id = new MutationId { ClientId = ByteString.CopyFrom(new byte[16]), Sequence = 1UL << 62 };

        // A hang guard, not a timing assertion: with the bug this put never completes.
        Entry put = await _client.PutAsync(bucket, "o", id: id).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal("o", put.Path);
    }

    [Fact]
    public async Task Deleting_the_current_version_by_version_removes_it_permanently()
    {
        string bucket = harness.UniqueBucketName("bug-version");
        await _client.CreateBucketAsync(bucket, versioning: true);
        Entry v1 = await _client.PutAsync(bucket, "o");
        Entry v2 = await _client.PutAsync(bucket, "o");

        await _client.DeleteObjectAsync(new DeleteObjectRequest { Bucket = bucket, Path = "o", Version = v2.Generation });

        ListResponse versions = await _client.ListVersionsAsync(new ListVersionsRequest { Bucket = bucket, Path = "o" });
        Assert.Equal([v1.Generation], versions.Entries.Select(e => e.Generation));
        await _client.DeleteObjectAsync(new DeleteObjectRequest { Bucket = bucket, Path = "o", Version = v1.Generation });
        RpcException gone = await Assert.ThrowsAsync<RpcException>(
            () => _client.ListVersionsAsync(new ListVersionsRequest { Bucket = bucket, Path = "o" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task An_if_none_match_guard_holds_when_the_parent_is_missing()
    {
        string bucket = harness.UniqueBucketName("bug-guard");
        await _client.CreateBucketAsync(bucket);

        CommitResponse committed = await _client.CommitAsync(new CommitRequest
        {
            Operations =
            {
                new TransactionOperation { Guard = new Guard { Bucket = bucket, Path = "missing/x", Preconditions = When.Absent() } },
                new TransactionOperation { Put = new PutObjectRequest { Bucket = bucket, Path = "missing/x" } },
            },
        });

        Assert.Equal("missing/x", committed.Entries[1].Path);
    }
}
