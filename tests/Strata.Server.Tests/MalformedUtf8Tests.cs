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

        Assert.Contains("UTF-8", e.Status.Detail, StringComparison.Ordinal);
        ListResponse listing = await harness.Client.ListAsync(new ListRequest { Bucket = bucket, Delimiter = "" });
        Assert.Empty(listing.Entries);
    }
}
