using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Strata.Api;
using Strata.Api.V1;

namespace Strata.Client.Tests;

public sealed class ErrorAndTransactionTests
{
    private static StrataClient Create(ScriptedInvoker invoker) =>
        new(invoker, new StrataClientOptions { Time = new ManualTime(), JitterSeed = 1 });

    [Fact]
    public async Task A_refusal_carries_status_message_and_parsed_trailers()
    {
        var trailers = new Metadata
        {
            { StrataTrailers.CurrentGeneration, "17" },
            { StrataTrailers.CurrentMetageneration, "3" },
            { StrataTrailers.FailedPath, "media/caf%C3%A9 100%25.ts" },
            { StrataTrailers.FailedOperation, "2" },
        };
        var invoker = new ScriptedInvoker().ThenFail(StatusCode.FailedPrecondition, "generation of media/a.ts is 17, not 3", trailers);
        using StrataClient client = Create(invoker);

        var failure = await Assert.ThrowsAsync<StrataException>(() => client.CommitAsync(new StrataTransaction()));

        Assert.Equal(StatusCode.FailedPrecondition, failure.StatusCode);
        Assert.Equal("generation of media/a.ts is 17, not 3", failure.Detail);
        Assert.Equal(17UL, failure.CurrentGeneration);
        Assert.Equal(3UL, failure.CurrentMetageneration);
        Assert.Equal("media/café 100%.ts", failure.FailedPath);
        Assert.Equal(2, failure.FailedOperation);
        Assert.False(failure.IsConnectionFailure);
        Assert.Contains("FailedPrecondition", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("plain/path", "plain/path")]
    [InlineData("%E2%82%AC", "€")]
    [InlineData("bad%G1escape%", "bad%G1escape%")]
    [InlineData("tail%4", "tail%4")]
    public void Trailer_text_decodes_percent_escapes_of_utf8(string encoded, string expected) =>
        Assert.Equal(expected, StrataTrailers.DecodeText(encoded));

    [Fact]
    public async Task A_refusal_without_trailers_leaves_them_unset()
    {
        var invoker = new ScriptedInvoker().ThenFail(StatusCode.NotFound, "no bucket b");
        using StrataClient client = Create(invoker);

        var failure = await Assert.ThrowsAsync<StrataException>(() => client.GetBucketAsync("b"));

        Assert.Null(failure.CurrentGeneration);
        Assert.Null(failure.FailedPath);
        Assert.Null(failure.FailedOperation);
    }

    [Fact]
    public async Task A_refused_connection_is_reported_as_a_connection_failure()
    {
        // A bound port that never listens refuses connections; the client gives up after its attempts.
        using var closed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        closed.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using StrataClient client = StrataClient.Connect(new Uri($"http://{closed.LocalEndPoint}"), new StrataClientOptions
        {
            Retry = new RetryPolicy { MaxAttempts = 2, InitialBackoff = TimeSpan.Zero, MaxBackoff = TimeSpan.Zero },
        });

        var failure = await Assert.ThrowsAsync<StrataException>(() => client.ListBucketsAsync());

        Assert.Equal(StatusCode.Unavailable, failure.StatusCode);
        Assert.True(failure.IsConnectionFailure);
        Assert.Equal(2, failure.Attempts);
    }

    [Fact]
    public async Task The_transaction_builder_sends_operations_in_order_with_their_preconditions()
    {
        var invoker = new ScriptedInvoker().Then(new CommitResponse());
        using StrataClient client = Create(invoker);
        var txn = new StrataTransaction()
            .Guard("b", "manifest.m3u8", new Preconditions { IfGenerationMatch = 4 })
            .Put("b", "seg-1.ts", new ObjectAttributes { Size = 10, ContentType = "video/mp2t" }, new Preconditions { IfGenerationMatch = 0 })
            .Rename("b", "draft", "final", replaceDestination: true)
            .Delete("b", "old.ts", version: 9)
            .MakeDirectory("b", "d")
            .RemoveDirectory("b", "e")
            .Patch(new PatchObjectRequest { Bucket = "b", Path = "seg-1.ts", Tier = Tier.Hdd });

        await client.CommitAsync(txn);

        var sent = (CommitRequest)invoker.Calls.Single().Request;
        Assert.Equal(
            [
                TransactionOperation.BodyOneofCase.Guard, TransactionOperation.BodyOneofCase.Put, TransactionOperation.BodyOneofCase.Rename,
                TransactionOperation.BodyOneofCase.Delete, TransactionOperation.BodyOneofCase.MakeDirectory,
                TransactionOperation.BodyOneofCase.RemoveDirectory, TransactionOperation.BodyOneofCase.Patch,
            ],
            sent.Operations.Select(o => o.BodyCase));
        Assert.Equal(4UL, sent.Operations[0].Guard.Preconditions.IfGenerationMatch);
        Assert.Equal(0UL, sent.Operations[1].Put.Preconditions.IfGenerationMatch);
        Assert.True(sent.Operations[1].Put.Preconditions.HasIfGenerationMatch);
        Assert.True(sent.Operations[2].Rename.ReplaceDestination);
        Assert.Equal(9UL, sent.Operations[3].Delete.Version);
        Assert.Equal(Tier.Hdd, sent.Operations[6].Patch.Tier);
        Assert.Equal(1UL, sent.Id.Sequence);
    }

    [Fact]
    public async Task List_all_follows_continuation_tokens_to_the_last_page()
    {
        var page1 = new ListResponse { NextContinuationToken = "t1" };
        page1.Entries.Add(new Entry { Path = "a" });
        var page2 = new ListResponse();
        page2.Entries.Add(new Entry { Path = "b" });
        var invoker = new ScriptedInvoker().Then(page1).Then(page2);
        using StrataClient client = Create(invoker);

        var paths = new List<string>();
        await foreach (Entry e in client.ListAllAsync(new ListRequest { Bucket = "b", Limit = 1 }))
        {
            paths.Add(e.Path);
        }

        Assert.Equal(["a", "b"], paths);
        Assert.Equal("", ((ListRequest)invoker.Calls[0].Request).ContinuationToken);
        Assert.Equal("t1", ((ListRequest)invoker.Calls[1].Request).ContinuationToken);
    }
}
