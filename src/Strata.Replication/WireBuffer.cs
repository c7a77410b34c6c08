using System.Buffers.Binary;

namespace Strata.Replication;

/// <summary>
/// A growable, reusable byte buffer with the primitive encodings shared by the frame codec and the log records:
/// unsigned LEB128 varints, fixed little-endian integers, length-prefixed byte strings. Deterministic: the same values
/// always give the same bytes.
/// </summary>
/// <remarks>Not thread-safe. <see cref="Clear"/> keeps the capacity so a steady state allocates nothing.</remarks>
internal sealed class WireBuffer(int initialCapacity = 256)
{
    private byte[] _buffer = new byte[Math.Max(16, initialCapacity)];

    /// <summary>Bytes written so far.</summary>
    public int Length { get; private set; }

    /// <summary>The bytes written so far (valid until the next write or <see cref="Clear"/>).</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    /// <summary>Writable view of the bytes written so far (to patch a length or checksum in place).</summary>
    public Span<byte> WrittenMutable => _buffer.AsSpan(0, Length);

    /// <summary>Forgets the content, keeps the capacity.</summary>
    public void Clear() => Length = 0;

    /// <summary>A copy of the bytes written.</summary>
    public byte[] ToArray() => Written.ToArray();

    public void WriteByte(byte value) => Reserve(1)[0] = value;

    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Reserve(4), value);

    public void WriteUInt64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Reserve(8), value);

    /// <summary>Unsigned LEB128: 7 bits per byte, high bit set on every byte but the last (1 to 10 bytes).</summary>
    public void WriteVarint(ulong value)
    {
        var span = Reserve(10);
        var n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[n++] = (byte)value;
        Length -= 10 - n;
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Reserve(bytes.Length));

    /// <summary>A varint length, then the bytes.</summary>
    public void WriteLengthPrefixed(ReadOnlySpan<byte> bytes)
    {
        WriteVarint((ulong)bytes.Length);
        WriteBytes(bytes);
    }

    /// <summary>Reserves <paramref name="count"/> bytes at the end and returns them for writing.</summary>
    public Span<byte> Reserve(int count)
    {
        if (Length + count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + count));
        }

        var span = _buffer.AsSpan(Length, count);
        Length += count;
        return span;
    }
}

/// <summary>Reads what <see cref="WireBuffer"/> writes; any malformation throws <see cref="FormatException"/>.</summary>
internal ref struct WireReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    public readonly int Remaining => _data.Length - _position;

    /// <summary>Offset of the next byte to read.</summary>
    public readonly int Position => _position;

    public byte ReadByte()
    {
        Need(1);
        return _data[_position++];
    }

    public uint ReadUInt32()
    {
        Need(4);
        var v = BinaryPrimitives.ReadUInt32LittleEndian(_data[_position..]);
        _position += 4;
        return v;
    }

    public ulong ReadUInt64()
    {
        Need(8);
        var v = BinaryPrimitives.ReadUInt64LittleEndian(_data[_position..]);
        _position += 8;
        return v;
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            var b = ReadByte();
            if (shift == 63 && b > 1)
            {
                throw new FormatException("varint overflows 64 bits");
            }

            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new FormatException("varint longer than 10 bytes");
    }

    /// <summary>A count that must fit in what is left, given at least <paramref name="minBytesEach"/> bytes per item.</summary>
    public int ReadCount(int minBytesEach)
    {
        var count = ReadVarint();
        if (count > (ulong)Remaining / (ulong)Math.Max(1, minBytesEach))
        {
            throw new FormatException($"count {count} exceeds the remaining {Remaining} bytes");
        }

        return (int)count;
    }

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        Need(count);
        var span = _data.Slice(_position, count);
        _position += count;
        return span;
    }

    public ReadOnlySpan<byte> ReadLengthPrefixed() => ReadBytes(ReadCount(1));

    public readonly void ExpectEnd()
    {
        if (_position != _data.Length)
        {
            throw new FormatException($"{_data.Length - _position} unexpected trailing bytes");
        }
    }

    private readonly void Need(int count)
    {
        if (count < 0 || _data.Length - _position < count)
        {
            throw new FormatException($"truncated: need {count} bytes at offset {_position}, have {_data.Length - _position}");
        }
    }
}
