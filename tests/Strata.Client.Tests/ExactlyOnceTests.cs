using Google.Protobuf;
using Grpc.Core;
using Strata.Api.V1;

namespace Strata.Client.Tests;

public sealed class ExactlyOnceTests
{
    private static StrataClient Create(ScriptedInvoker invoker) => new(invoker, new StrataClientOptions
    {
        Time = new ManualTime(),
        JitterSeed = 7,
        Retry = new RetryPolicy { MaxAttempts = 6 },
    });

    private static MutationId IdOf(RecordedCall call) =>
        (MutationId)call.Request.Descriptor.FindFieldByName("id").Accessor.GetValue(call.Request);

    [Fact]
    public async Task Retries_of_a_mutation_resend_the_same_mutation_id()
    {
        var invoker = new ScriptedInvoker()
            .ThenFail(StatusCode.DeadlineExceeded).ThenFail(StatusCode.Unavailable).ThenFail(StatusCode.ResourceExhausted)
            .Then(new EntryResponse { Entry = new Entry { Path = "dst" } });
        using StrataClient client = Create(invoker);

        await client.RenameAsync("b", "src", "dst");

        MutationId[] ids = [.. invoker.Calls.Select(IdOf)];
        Assert.Equal(4, ids.Length);
        Assert.All(ids, id => Assert.Equal(ids[0], id));
        Assert.Equal(16, ids[0].ClientId.Length);
        Assert.Equal(client.ClientId.ToArray(), ids[0].ClientId.ToByteArray());
        Assert.Equal(1UL, ids[0].Sequence);
    }

    [Fact]
    public async Task Every_mutation_rpc_takes_the_next_sequence_and_reads_take_none()
    {
        var invoker = new ScriptedInvoker
        {
            Otherwise = () => new EntryResponse(),
        };
        var buckets = new ScriptedInvoker { Otherwise = () => new BucketResponse() };
        var commits = new ScriptedInvoker { Otherwise = () => new CommitResponse() };
        using StrataClient client = Create(invoker);

        await client.PutObjectAsync("b", "o", new ObjectAttributes());
        await client.StatAsync("b", "o");
        await client.DeleteObjectAsync("b", "o");
        await client.PatchObjectAsync(new PatchObjectRequest { Bucket = "b", Path = "o" });
        await client.MakeDirectoryAsync("b", "d");
        await client.RemoveDirectoryAsync("b", "d");
        await client.RenameAsync("b", "x", "y");

        ulong[] sequences = [.. invoker.Calls.Where(c => c.Method != "Stat").Select(c => IdOf(c).Sequence)];
        Assert.Equal([1UL, 2, 3, 4, 5, 6], sequences);
        Assert.Null(invoker.Calls.Single(c => c.Method == "Stat").Request.Descriptor.FindFieldByName("id"));
    }

    [Fact]
    public async Task Bucket_and_commit_mutations_carry_ids_too()
    {
        var invoker = new ScriptedInvoker()
            .Then(new BucketResponse()).Then(new BucketResponse()).Then(new CommitResponse());
        using StrataClient client = Create(invoker);

        await client.CreateBucketAsync("b", versioning: true);
        await client.DeleteBucketAsync("b");
        await client.CommitAsync(new StrataTransaction().MakeDirectory("b", "d"));

        Assert.Equal([1UL, 2, 3], invoker.Calls.Select(c => IdOf(c).Sequence));
        Assert.True(((CreateBucketRequest)invoker.Calls[0].Request).Versioning);
    }

    [Fact]
    public async Task Concurrent_mutations_get_distinct_sequences()
    {
        var invoker = new ScriptedInvoker { Otherwise = () => new EntryResponse() };
        using StrataClient client = Create(invoker);

        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => client.MakeDirectoryAsync("b", $"d{i}")));

        ulong[] sequences = [.. invoker.Calls.Select(c => IdOf(c).Sequence).Order()];
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (ulong)i), sequences);
    }

    [Fact]
    public void Two_clients_have_different_ids()
    {
        using StrataClient a = Create(new ScriptedInvoker());
        using StrataClient b = Create(new ScriptedInvoker());

        Assert.Equal(16, a.ClientId.Length);
        Assert.False(a.ClientId.Span.SequenceEqual(b.ClientId.Span));
    }

    [Fact]
    public async Task Patch_does_not_modify_the_callers_request()
    {
        var invoker = new ScriptedInvoker { Otherwise = () => new EntryResponse() };
        using StrataClient client = Create(invoker);
        var patch = new PatchObjectRequest { Bucket = "b", Path = "o", ContentType = "video/mp2t" };

        await client.PatchObjectAsync(patch);

        Assert.Null(patch.Id);
        Assert.Equal("video/mp2t", ((PatchObjectRequest)invoker.Calls[0].Request).ContentType);
        Assert.Equal(ByteString.CopyFrom(client.ClientId.Span), IdOf(invoker.Calls[0]).ClientId);
    }
}
