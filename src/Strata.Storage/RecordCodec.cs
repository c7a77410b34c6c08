using System.Buffers;
using System.Buffers.Binary;

namespace Strata.Storage;

/// <summary>
/// Checksummed records: every value Strata stores is sealed with a format byte and a CRC-32C that covers the
/// record's <em>key</em> as well as its payload, so a flipped bit, a truncated value, or an intact value that ended up
/// under another key (a misdirected write, a bug in key encoding) is detected when the record is opened.
/// </summary>
/// <remarks>
/// <para>
/// Layout (<see cref="Overhead"/> = 5 bytes before the payload):
/// <c>[format 0x01][crc32c, 4 bytes little-endian][payload]</c>, where
/// <c>crc32c = CRC-32C(format ‖ u32-LE key length ‖ key ‖ payload)</c>. The key itself is not stored (the engine
/// has it), only bound. Including the key length keeps (key, payload) pairs unambiguous.
/// </para>
/// <para>
/// Hot paths can avoid copies: size a buffer with <see cref="SealedLength"/>, serialize the payload straight into
/// <see cref="PayloadOf(Span{byte})"/> and call <see cref="SealInPlace"/>; or seal into an
/// <see cref="IBufferWriter{T}"/>. Opening returns a slice of the record, never a copy. All members are pure and
/// thread-safe.
/// </para>
/// </remarks>
public static class RecordCodec
{
    /// <summary>The format byte of the current layout.</summary>
    public const byte FormatV1 = 0x01;

    /// <summary>Bytes a sealed record adds in front of its payload.</summary>
    public const int Overhead = 5;

    /// <summary>Length of the sealed record of a payload of <paramref name="payloadLength"/> bytes.</summary>
    public static int SealedLength(int payloadLength) => checked(Overhead + payloadLength);

    /// <summary>A new sealed record of <paramref name="payload"/>, bound to <paramref name="key"/>.</summary>
    public static byte[] Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload)
    {
        var record = new byte[SealedLength(payload.Length)];
        Seal(key, payload, record);
        return record;
    }

    /// <summary>Seals into <paramref name="destination"/>; returns the bytes written (<see cref="SealedLength"/>).</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small.</exception>
    public static int Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        var length = SealedLength(payload.Length);
        if (destination.Length < length)
        {
            throw new ArgumentException($"A sealed record of a {payload.Length}-byte payload needs {length} bytes; the destination has {destination.Length}.", nameof(destination));
        }

        payload.CopyTo(destination[Overhead..]);
        SealInPlace(key, destination[..length]);
        return length;
    }

    /// <summary>Seals into <paramref name="output"/> (one <c>GetSpan</c>, one <c>Advance</c>).</summary>
    public static void Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var length = SealedLength(payload.Length);
        Seal(key, payload, output.GetSpan(length));
        output.Advance(length);
    }

    /// <summary>The payload area of a record buffer (everything after the header).</summary>
    public static Span<byte> PayloadOf(Span<byte> record) => record[Overhead..];

    /// <summary>
    /// Writes the header of <paramref name="record"/>, whose payload is already in place at
    /// <see cref="PayloadOf(Span{byte})"/>: the whole span is the record.
    /// </summary>
    public static void SealInPlace(ReadOnlySpan<byte> key, Span<byte> record)
    {
        if (record.Length < Overhead)
        {
            throw new ArgumentException($"A record needs at least {Overhead} bytes.", nameof(record));
        }

        record[0] = FormatV1;
        BinaryPrimitives.WriteUInt32LittleEndian(record[1..], Checksum(FormatV1, key, record[Overhead..]));
    }

    /// <summary>The verified payload of <paramref name="record"/> (a slice of it).</summary>
    /// <exception cref="CorruptionException">The record is truncated, has an unknown format, or its checksum does not
    /// match (damaged bytes, or a value stored under another key). The message names the key and both checksums.</exception>
    public static ReadOnlySpan<byte> Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> record)
    {
        if (!TryOpen(key, record, out var payload))
        {
            throw new CorruptionException(Describe(key, record));
        }

        return payload;
    }

    /// <summary>Like <see cref="Open"/> but returns false instead of throwing.</summary>
    public static bool TryOpen(ReadOnlySpan<byte> key, ReadOnlySpan<byte> record, out ReadOnlySpan<byte> payload)
    {
        payload = default;
        if (record.Length < Overhead || record[0] != FormatV1)
        {
            return false;
        }

        var stored = BinaryPrimitives.ReadUInt32LittleEndian(record[1..]);
        if (stored != Checksum(record[0], key, record[Overhead..]))
        {
            return false;
        }

        payload = record[Overhead..];
        return true;
    }

    private static uint Checksum(byte format, ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload)
    {
        Span<byte> prefix = stackalloc byte[5];
        prefix[0] = format;
        BinaryPrimitives.WriteUInt32LittleEndian(prefix[1..], (uint)key.Length);
        var crc = Crc32C.Compute(prefix);
        crc = Crc32C.Append(crc, key);
        return Crc32C.Append(crc, payload);
    }

    /// <summary>Why <paramref name="record"/> does not open, for the exception message.</summary>
    private static string Describe(ReadOnlySpan<byte> key, ReadOnlySpan<byte> record)
    {
        var where = $"Corrupt record at key {KeyForMessage(key)}";
        if (record.Length < Overhead)
        {
            return $"{where}: truncated, {record.Length} bytes where a record needs at least {Overhead}.";
        }

        if (record[0] != FormatV1)
        {
            return $"{where}: unknown format byte 0x{record[0]:X2} (expected 0x{FormatV1:X2}); {record.Length} bytes.";
        }

        var stored = BinaryPrimitives.ReadUInt32LittleEndian(record[1..]);
        var computed = Checksum(record[0], key, record[Overhead..]);
        return $"{where}: checksum mismatch, stored 0x{stored:X8} but computed 0x{computed:X8} over {record.Length - Overhead} payload bytes (damaged value, or a value stored under another key).";
    }

    private static string KeyForMessage(ReadOnlySpan<byte> key)
    {
        const int Shown = 64;
        return key.Length <= Shown
            ? $"0x{Convert.ToHexString(key)}"
            : $"0x{Convert.ToHexString(key[..Shown])}... ({key.Length} bytes)";
    }
}
