using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;

namespace Strata.Transport;

/// <summary>Why an acceptor refused a dialer (the status byte of a <see cref="RecordKind.Welcome"/>).</summary>
internal enum HandshakeStatus : byte
{
    Accepted = 0,
    BadMagic = 1,
    UnsupportedVersion = 2,
    WrongCluster = 3,
    UnknownNode = 4,
    WrongNode = 5,
    WrongDirection = 6,
}

/// <summary>
/// The first two records of a connection. The dialer (the lower node id) sends <c>Hello</c>; the acceptor checks it
/// and answers <c>Welcome</c> with its own id and a status; a refusal carries a reason and the acceptor closes.
/// <code>
/// Hello payload:   u32 LE magic "STRT", u16 LE version, u64 LE dialer id, u64 LE expected acceptor id,
///                  u8 cluster id length, cluster id (UTF-8)
/// Welcome payload: u32 LE magic, u16 LE version, u64 LE acceptor id, u8 status, u8 reason length, reason (UTF-8)
/// </code>
/// </summary>
internal static class Handshake
{
    /// <summary>"STRT" read as a little-endian u32.</summary>
    public const uint Magic = 0x54525453;

    public const ushort Version = 1;

    public readonly record struct Hello(uint Magic, ushort Version, ulong Dialer, ulong Acceptor, string ClusterId);

    public readonly record struct Welcome(uint Magic, ushort Version, ulong Acceptor, HandshakeStatus Status, string Reason);

    public static byte[] EncodeHello(ulong dialer, ulong acceptor, string clusterId, uint magic = Magic, ushort version = Version)
    {
        var cluster = Encoding.UTF8.GetBytes(clusterId);
        var payload = new byte[4 + 2 + 8 + 8 + 1 + cluster.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, magic);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(4), version);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(6), dialer);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(14), acceptor);
        payload[22] = checked((byte)cluster.Length);
        cluster.CopyTo(payload, 23);
        return WireRecord.Encode(RecordKind.Hello, payload);
    }

    public static Hello DecodeHello(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 23 || payload.Length != 23 + payload[22])
        {
            throw new WireProtocolException($"malformed hello of {payload.Length} bytes", corrupt: true);
        }

        return new Hello(
            BinaryPrimitives.ReadUInt32LittleEndian(payload),
            BinaryPrimitives.ReadUInt16LittleEndian(payload[4..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[6..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[14..]),
            Encoding.UTF8.GetString(payload[23..]));
    }

    public static byte[] EncodeWelcome(ulong acceptor, HandshakeStatus status, string reason)
    {
        var text = Encoding.UTF8.GetBytes(reason);
        if (text.Length > 255)
        {
            text = text[..255];
        }

        var payload = new byte[4 + 2 + 8 + 1 + 1 + text.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(4), Version);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(6), acceptor);
        payload[14] = (byte)status;
        payload[15] = (byte)text.Length;
        text.CopyTo(payload, 16);
        return WireRecord.Encode(RecordKind.Welcome, payload);
    }

    public static Welcome DecodeWelcome(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 16 || payload.Length != 16 + payload[15])
        {
            throw new WireProtocolException($"malformed welcome of {payload.Length} bytes", corrupt: true);
        }

        return new Welcome(
            BinaryPrimitives.ReadUInt32LittleEndian(payload),
            BinaryPrimitives.ReadUInt16LittleEndian(payload[4..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[6..]),
            (HandshakeStatus)payload[14],
            Encoding.UTF8.GetString(payload[16..]));
    }

    /// <summary>Reads the next record, which must be of <paramref name="expected"/> kind; returns its payload.</summary>
    public static async Task<byte[]> ReadRecordAsync(PipeReader reader, RecordKind expected, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            byte[]? payload = null;
            RecordKind kind = default;
            try
            {
                // Handshake records are small: a peer announcing more is not speaking this protocol.
                if (WireRecord.TryRead(ref buffer, 1024, out kind, out var slice))
                {
                    payload = slice.ToArray();
                }
            }
            finally
            {
                // After a record, what follows is unexamined: the connection's read loop takes it from there.
                if (payload is null)
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                }
                else
                {
                    reader.AdvanceTo(buffer.Start);
                }
            }

            if (payload is not null)
            {
                return kind == expected
                    ? payload
                    : throw new WireProtocolException($"expected a {expected} record, got {kind}", corrupt: true);
            }

            if (result.IsCompleted)
            {
                throw new WireProtocolException($"connection closed before the {expected} record", corrupt: false);
            }
        }
    }
}
