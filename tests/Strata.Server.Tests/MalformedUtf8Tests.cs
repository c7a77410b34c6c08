using Google.Protobuf;
using Grpc.Core;
using Strata.Api.V1;

namespace Strata.Server.Tests;

/// <summary>
/// Strings on the wire that are not UTF-8. Google.Protobuf refuses them while parsing the request
/// (InvalidProtocolBufferException "String is invalid UTF-8."), before any service code runs; the client must
/// still get INVALID_ARGUMENT with a clear message. The generated client cannot send such bytes, so these tests
/// send hand-encoded requests through a byte-array marshaller.
/// </summary>
public sealed class MalformedUtf8Tests(ServerHarness harness) : IClassFixture<ServerHarness>
{
    private static readonly byte[] Invalid = [0x61, 0xC3, 0x28, 0x62]; // "a", a truncated 2-byte sequence, "(", "b"

    private static Method<byte[], TResponse> RawMethod<TResponse>(string name, MessageParser<TResponse> parser)
        where TResponse : class, IMessage<TResponse> => new(
        MethodType.Unary,
        "strata.v1.Strata",
        name,
        Marshallers.Create(bytes => bytes, bytes => bytes),
        Marshallers.Create(message => message.ToByteArray(), parser.ParseFrom));

    /// <summary>Encodes fields in order: a string value as given, a byte[] value as raw bytes of a length-delimited field.</summary>
    private static byte[] Encode(params (int Field, object Value)[] fields)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        foreach ((int field, object value) in fields)
        {
            output.WriteTag(field, WireFormat.WireType.LengthDelimited);
            switch (value)
            {
                case string text:
                    output.WriteString(text);
                    break;
                case byte[] raw:
                    output.WriteBytes(ByteString.CopyFrom(raw));
                    break;
                default:
                    throw new ArgumentException("unsupported value", nameof(fields));
            }
        }

        output.Flush();
        return buffer.ToArray();
    }

    private async Task<RpcException> CallRaw<TResponse>(string method, MessageParser<TResponse> parser, byte[] request)
        where TResponse : class, IMessage<TResponse>
    {
        AsyncUnaryCall<TResponse> call = harness.Channel.CreateCallInvoker()
            .AsyncUnaryCall(RawMethod(method, parser), null, new CallOptions(), request);
        return await Calls.Refused(call, StatusCode.InvalidArgument);
    }

    [Fact]
    public async Task Put_with_a_path_that_is_not_utf8_is_invalid_argument_and_creates_nothing()
    {
        string bucket = harness.UniqueBucketName("utf8");
        await harness.Client.CreateBucketAsync(bucket);

        // PutObjectRequest: bucket = 2, path = 3.
        RpcException e = await CallRaw("PutObject", EntryResponse.Parser, Encode((2, bucket), (3, Invalid)));

        Assert.Equal("field 'path' of strata.v1.PutObjectRequest is not valid UTF-8; protobuf strings must be UTF-8", e.Status.Detail);
        await AssertEmpty(bucket);
    }

    [Fact]
    public async Task A_user_metadata_value_that_is_not_utf8_is_named_by_its_field_path()
    {
        string bucket = harness.UniqueBucketName("utf8-meta");
        await harness.Client.CreateBucketAsync(bucket);

        // PutObjectRequest.attributes = 4 -> ObjectAttributes.user_metadata = 7 -> map entry (key = 1, value = 2).
        byte[] entry = Encode((1, "profile"), (2, Invalid));
        byte[] attributes = Encode((3, "video/mp4"), (7, entry));
        RpcException e = await CallRaw("PutObject", EntryResponse.Parser, Encode((2, bucket), (3, "o"), (4, attributes)));

        Assert.Equal("field 'attributes.user_metadata.value' of strata.v1.PutObjectRequest is not valid UTF-8; protobuf strings must be UTF-8",
            e.Status.Detail);
        await AssertEmpty(bucket);
    }

    [Fact]
    public async Task A_path_inside_a_transaction_that_is_not_utf8_refuses_the_whole_transaction()
    {
        string bucket = harness.UniqueBucketName("utf8-txn");
        await harness.Client.CreateBucketAsync(bucket);

        // CommitRequest.operations = 2 -> TransactionOperation.put = 1 -> PutObjectRequest.path = 3.
        byte[] good = Encode((1, Encode((2, bucket), (3, "fine"))));
        byte[] bad = Encode((1, Encode((2, bucket), (3, Invalid))));
        RpcException e = await CallRaw("Commit", CommitResponse.Parser, Encode((2, good), (2, bad)));

        Assert.Equal("field 'operations.put.path' of strata.v1.CommitRequest is not valid UTF-8; protobuf strings must be UTF-8", e.Status.Detail);
        await AssertEmpty(bucket);
    }

    [Fact]
    public async Task Queries_with_strings_that_are_not_utf8_are_invalid_argument()
    {
        // GetBucketRequest.name = 1; ListRequest.prefix = 2.
        RpcException bucket = await CallRaw("GetBucket", BucketResponse.Parser, Encode((1, Invalid)));
        Assert.Equal("field 'name' of strata.v1.GetBucketRequest is not valid UTF-8; protobuf strings must be UTF-8", bucket.Status.Detail);

        RpcException list = await CallRaw("List", ListResponse.Parser, Encode((1, "any-bucket"), (2, new byte[] { 0xFF, 0xFE })));
        Assert.Equal("field 'prefix' of strata.v1.ListRequest is not valid UTF-8; protobuf strings must be UTF-8", list.Status.Detail);

        // An encoded surrogate (U+D800 as ED A0 80) is not UTF-8 either.
        RpcException surrogate = await CallRaw("Stat", EntryResponse.Parser, Encode((1, "any-bucket"), (2, new byte[] { 0xED, 0xA0, 0x80 })));
        Assert.Equal("field 'path' of strata.v1.StatRequest is not valid UTF-8; protobuf strings must be UTF-8", surrogate.Status.Detail);
    }

    [Fact]
    public async Task A_request_that_is_not_protobuf_at_all_is_invalid_argument()
    {
        // A length-delimited field whose length runs past the end of the message.
        RpcException e = await CallRaw("GetBucket", BucketResponse.Parser, [0x0A, 0x10, 0x61]);
        Assert.StartsWith("the request is not a valid strata.v1.GetBucketRequest: ", e.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Valid_utf8_beyond_ascii_round_trips()
    {
        string bucket = harness.UniqueBucketName("utf8-ok");
        await harness.Client.CreateBucketAsync(bucket);
        string path = "récit/日本語/emoji-😀";

        Entry put = await harness.Client.PutAsync(bucket, path);

        Assert.Equal(path, put.Path);
        Assert.Equal(path, (await harness.Client.StatAsync(bucket, path)).Path);
    }

    private async Task AssertEmpty(string bucket)
    {
        ListResponse listing = await harness.Client.ListAsync(new ListRequest { Bucket = bucket, Delimiter = "" });
        Assert.Empty(listing.Entries);
    }
}
