using Grpc.Core;
using Grpc.Net.Client;
using Strata.Api.V1;
using Strata.Server;

namespace Strata.Client.Tests;

/// <summary>
/// Against a real node: replies are lost on the way back (the node applied the mutation, the client saw a
/// timeout), the client retries with the same MutationId, and the node answers with the first outcome instead
/// of applying twice. Each mutation is chosen so that a second application would be refused, so a duplicate
/// would show up as a failure.
/// </summary>
public sealed class ExactlyOnceEndToEndTests : IAsyncLifetime
{
    private StrataServer _server = null!;
    private GrpcChannel _channel = null!;

    public async Task InitializeAsync()
    {
        _server = await StrataServer.StartAsync(new StrataServerOptions { InMemory = true, Port = 0 });
        _channel = GrpcChannel.ForAddress(_server.Address);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    private StrataClient ClientLosing(int replies, out LosingReplies invoker)
    {
        invoker = new LosingReplies(_channel.CreateCallInvoker(), replies);

        // No per-attempt deadline: the manual clock is not the transport's clock. Backoff waits take no real time.
        return new StrataClient(invoker, new StrataClientOptions { DefaultDeadline = null, Time = new ManualTime(), JitterSeed = 3 });
    }

    [Fact]
    public async Task A_create_only_put_whose_replies_were_lost_applies_once()
    {
        using StrataClient setup = StrataClient.Connect(_server.Address);
        await setup.CreateBucketAsync("eo-put", versioning: true);
        using StrataClient client = ClientLosing(2, out LosingReplies invoker);

        Entry entry = await client.PutObjectAsync("eo-put", "seg-1.ts", new ObjectAttributes { Size = 5 }, new Preconditions { IfGenerationMatch = 0 });

        Assert.Equal(3, invoker.Attempts);
        ListResponse versions = await setup.ListVersionsAsync("eo-put", "seg-1.ts");
        Assert.Equal([entry.Generation], versions.Entries.Select(e => e.Generation));

        // Control: the same put from another client is a new mutation, and the precondition refuses it.
        var duplicate = await Assert.ThrowsAsync<StrataException>(() =>
            setup.PutObjectAsync("eo-put", "seg-1.ts", new ObjectAttributes { Size = 5 }, new Preconditions { IfGenerationMatch = 0 }));
        Assert.Equal(StatusCode.FailedPrecondition, duplicate.StatusCode);
        Assert.Equal(entry.Generation, duplicate.CurrentGeneration);
        Assert.Equal("seg-1.ts", duplicate.FailedPath);
    }

    [Fact]
    public async Task A_bucket_creation_whose_reply_was_lost_is_not_reported_as_already_existing()
    {
        using StrataClient client = ClientLosing(1, out LosingReplies invoker);

        Bucket bucket = await client.CreateBucketAsync("eo-bucket");

        Assert.Equal("eo-bucket", bucket.Name);
        Assert.Equal(2, invoker.Attempts);
    }

    [Fact]
    public async Task A_transaction_whose_reply_was_lost_commits_once_and_returns_the_first_outcome()
    {
        using StrataClient setup = StrataClient.Connect(_server.Address);
        await setup.CreateBucketAsync("eo-txn");
        await setup.PutObjectAsync("eo-txn", "draft/a.ts", new ObjectAttributes());
        using StrataClient client = ClientLosing(1, out LosingReplies invoker);

        CommitResponse response = await client.CommitAsync(new StrataTransaction()
            .Rename("eo-txn", "draft", "published")
            .Put("eo-txn", "published/b.ts", new ObjectAttributes(), new Preconditions { IfNoneMatch = true }));

        Assert.Equal(2, invoker.Attempts);
        Assert.Equal("published", response.Entries[0].Path);
        Assert.Equal("published/b.ts", response.Entries[1].Path);
        Entry moved = await setup.StatAsync("eo-txn", "published/a.ts");
        Assert.Equal("published/a.ts", moved.Path);
    }

    [Fact]
    public async Task Reads_over_a_real_channel_retry_the_same_way()
    {
        using StrataClient setup = StrataClient.Connect(_server.Address);
        await setup.CreateBucketAsync("eo-read");
        using StrataClient client = ClientLosing(2, out LosingReplies invoker);

        Bucket bucket = await client.GetBucketAsync("eo-read");

        Assert.Equal("eo-read", bucket.Name);
        Assert.Equal(3, invoker.Attempts);
    }

    /// <summary>Delivers every call to the node; the first <c>lose</c> replies never reach the caller (DEADLINE_EXCEEDED instead).</summary>
    private sealed class LosingReplies(CallInvoker node, int lose) : CallInvoker
    {
        private int _attempts;

        public int Attempts => Volatile.Read(ref _attempts);

        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
        {
            AsyncUnaryCall<TResponse> call = node.AsyncUnaryCall(method, host, options, request);
            if (Interlocked.Increment(ref _attempts) > lose)
            {
                return call;
            }

            return new AsyncUnaryCall<TResponse>(LoseAsync(call.ResponseAsync), call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
        }

        private static async Task<TResponse> LoseAsync<TResponse>(Task<TResponse> reply)
        {
            await reply; // the node applied it and answered...
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, "the reply was lost")); // ...but the answer never arrived
        }

        public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
            throw new NotSupportedException();

        public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) => throw new NotSupportedException();

        public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException();

        public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException();
    }
}
