using Google.Protobuf;
using Strata.Storage;

namespace Strata.Namespace;

/// <summary>
/// Stored values are protobuf records sealed with a checksum bound to their key
/// (<see cref="RecordCodec"/>): corruption, truncation or a value under the wrong key is an error, never data.
/// </summary>
public static class Records
{
    public static byte[] Seal(ReadOnlySpan<byte> key, IMessage record) => RecordCodec.Seal(key, record.ToByteArray());

    /// <summary>Opens a sealed record; throws <see cref="CorruptionException"/> when it does not verify.</summary>
    public static T Open<T>(ReadOnlySpan<byte> key, ReadOnlySpan<byte> sealedRecord, MessageParser<T> parser)
        where T : IMessage<T>
    {
        ReadOnlySpan<byte> payload = RecordCodec.Open(key, sealedRecord);
        try
        {
            return parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new CorruptionException($"record at key {Convert.ToHexString(key)} verified but does not decode: {e.Message}");
        }
    }
}
