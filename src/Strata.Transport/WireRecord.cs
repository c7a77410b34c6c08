using System.Buffers;
using System.Buffers.Binary;
using Strata.Storage;

namespace Strata.Transport;

/// <summary>What a wire record carries.</summary>
internal enum RecordKind : byte
{
    /// <summary>Dialer to acceptor, first record of a connection (<see cref="Handshake"/>).</summary>
    Hello = 1,

    /// <summary>Acceptor to dialer: the answer to <see cref="Hello"/>, acceptance or refusal.</summary>
    Welcome = 2,

    /// <summary>One whole frame.</summary>
    Frame = 3,

    /// <summary>First chunk of a bulk frame: u32 LE total length, then the chunk's bytes.</summary>
    BulkBegin = 4,

    /// <summary>A following chunk of the bulk frame in progress.</summary>
    BulkPart = 5,

    /// <summary>Nothing but proof that the connection is alive (empty payload), written when the writer was idle.</summary>
    KeepAlive = 6,
}

/// <summary>
/// The record format of a transport connection. Every byte on the wire belongs to a record:
/// <code>
/// u32 LE   payload length
/// u8       kind (RecordKind)
/// bytes    payload
/// u32 LE   CRC-32C of the length, kind and payload
/// </code>
/// </summary>
/// <remarks>
/// <para>The reader checks the length against its limit as soon as the 5-byte header is in, before waiting for the
/// payload, so a garbage length costs nothing; then it verifies the checksum over the whole record before looking at
/// the payload. Any failure is a <see cref="WireProtocolException"/> and ends the connection.</para>
/// <para>Thread-safe (no state).</para>
/// </remarks>
internal static class WireRecord
{
    public const int HeaderSize = 5;
    public const int TrailerSize = 4;
    public const int Overhead = HeaderSize + TrailerSize;

    /// <summary>Largest payload a reader accepts: a bulk chunk of <see cref="TcpTransportOptions.MaxRecordData"/>
    /// with its 4-byte total length.</summary>
    public const int MaxPayload = TcpTransportOptions.MaxRecordData + 4;

    /// <summary>Writes one record whose payload is <paramref name="prefix"/> then <paramref name="body"/>.</summary>
    public static void Write(IBufferWriter<byte> output, RecordKind kind, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> body)
    {
        var payload = prefix.Length + body.Length;
        var size = Overhead + payload;
        var span = output.GetSpan(size)[..size];
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)payload);
        span[4] = (byte)kind;
        prefix.CopyTo(span[HeaderSize..]);
        body.CopyTo(span[(HeaderSize + prefix.Length)..]);
        var crc = Crc32C.Compute(span[..(HeaderSize + payload)]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(HeaderSize + payload)..], crc);
        output.Advance(size);
    }

    /// <summary>One record as a new array (handshakes and tests).</summary>
    public static byte[] Encode(RecordKind kind, ReadOnlySpan<byte> payload)
    {
        var buffer = new ArrayBufferWriter<byte>(Overhead + payload.Length);
        Write(buffer, kind, payload, []);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Takes the next complete record off the front of <paramref name="buffer"/>. Returns false (and leaves the
    /// buffer alone) when more bytes are needed.
    /// </summary>
    /// <exception cref="WireProtocolException">Oversize length, checksum mismatch or unknown kind.</exception>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, int maxPayload, out RecordKind kind, out ReadOnlySequence<byte> payload)
    {
        kind = default;
        payload = default;
        if (buffer.Length < HeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (length > (uint)maxPayload)
        {
            throw new WireProtocolException($"record of {length} bytes exceeds the limit of {maxPayload}", corrupt: true);
        }

        var total = Overhead + (long)length;
        if (buffer.Length < total)
        {
            return false;
        }

        var covered = buffer.Slice(0, HeaderSize + length);
        var crc = 0u;
        foreach (var segment in covered)
        {
            crc = Crc32C.Append(crc, segment.Span);
        }

        Span<byte> trailer = stackalloc byte[TrailerSize];
        buffer.Slice(covered.End, TrailerSize).CopyTo(trailer);
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        if (stored != crc)
        {
            throw new WireProtocolException($"record checksum mismatch: stored 0x{stored:X8}, computed 0x{crc:X8}", corrupt: true);
        }

        kind = (RecordKind)header[4];
        if (kind is < RecordKind.Hello or > RecordKind.KeepAlive)
        {
            throw new WireProtocolException($"unknown record kind {header[4]}", corrupt: true);
        }

        payload = buffer.Slice(HeaderSize, length);
        buffer = buffer.Slice(total);
        return true;
    }
}

/// <summary>The peer broke the wire protocol or the handshake refused the connection.</summary>
/// <param name="message">What was wrong, for the log and <see cref="PeerLinkStatus.LastError"/>.</param>
/// <param name="corrupt">True for damaged or malformed records (counted in
/// <see cref="PeerLinkStatus.CorruptRecords"/>), false for a refusal.</param>
internal sealed class WireProtocolException(string message, bool corrupt) : Exception(message)
{
    public bool IsCorruption { get; } = corrupt;
}
