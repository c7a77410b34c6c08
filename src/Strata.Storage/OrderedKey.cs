using System.Buffers;
using System.Buffers.Binary;

namespace Strata.Storage;

/// <summary>
/// Order-preserving key encoding: a key built from components with <see cref="OrderedKeyWriter"/> sorts, as
/// unsigned bytes (<see cref="KeyOrder"/>), exactly as the tuple of its components sorts. Read it back with
/// <see cref="OrderedKeyReader"/>.
/// </summary>
/// <remarks>
/// Encodings (each component's order survives whatever follows it):
/// <list type="bullet">
/// <item>unsigned 64/32-bit: big-endian, fixed width;</item>
/// <item>descending unsigned 64-bit: the bitwise complement, big-endian (for "newest first" MVCC suffixes);</item>
/// <item>signed 64-bit: sign bit flipped, big-endian;</item>
/// <item>single byte and raw bytes: as is (raw bytes are only order-safe as the last component or at a fixed
/// length, since nothing marks where they end);</item>
/// <item>escaped bytes: 0x00 becomes 0x00 0xFF and the component ends with 0x00 0x01, so a shorter string sorts
/// before any extension of it, whatever the next component is.</item>
/// </list>
/// </remarks>
public static class OrderedKey
{
    /// <summary>The terminator of an escaped component (first byte).</summary>
    public const byte Escape = 0x00;

    /// <summary>Follows <see cref="Escape"/> for a literal 0x00 byte.</summary>
    public const byte EscapedZero = 0xFF;

    /// <summary>Follows <see cref="Escape"/> at the end of an escaped component.</summary>
    public const byte Terminator = 0x01;

    /// <summary>
    /// The smallest key greater than every key that starts with <paramref name="prefix"/>: the exclusive upper bound
    /// of a prefix scan. Empty when no such key exists (the prefix is empty or all 0xFF), which <see cref="IKvReader.Scan"/>
    /// reads as "no upper bound" — exactly right for a prefix scan.
    /// </summary>
    public static byte[] PrefixEnd(ReadOnlySpan<byte> prefix)
    {
        var end = prefix.LastIndexOfAnyExcept((byte)0xFF);
        if (end < 0)
        {
            return [];
        }

        var result = prefix[..(end + 1)].ToArray();
        result[end]++;
        return result;
    }

    /// <summary>Encoded length of <paramref name="raw"/> as an escaped component (terminator included).</summary>
    public static int EscapedLength(ReadOnlySpan<byte> raw) => raw.Length + raw.Count((byte)0) + 2;
}

/// <summary>
/// Builds an order-preserving key (see <see cref="OrderedKey"/>) into a caller-supplied span (typically
/// <c>stackalloc</c>); when the span is too small it moves to a buffer rented from <see cref="ArrayPool{T}.Shared"/>,
/// so call <see cref="Dispose"/> (a <c>using</c>) to return it.
/// </summary>
/// <remarks>
/// <code>
/// using var key = new OrderedKeyWriter(stackalloc byte[64]);
/// key.WriteByte(kind); key.WriteUInt64(directoryId); key.WriteEscaped(name); key.WriteUInt64Descending(version);
/// engine.Get(KvColumn.Data, key.Written);
/// </code>
/// </remarks>
public ref struct OrderedKeyWriter
{
    private Span<byte> _buffer;
    private byte[]? _rented;
    private int _length;

    /// <summary>Starts writing into <paramref name="initialBuffer"/>.</summary>
    public OrderedKeyWriter(Span<byte> initialBuffer)
    {
        _buffer = initialBuffer;
        _rented = null;
        _length = 0;
    }

    /// <summary>Starts with a pooled buffer of at least <paramref name="capacity"/> bytes.</summary>
    public OrderedKeyWriter(int capacity)
    {
        _rented = ArrayPool<byte>.Shared.Rent(Math.Max(16, capacity));
        _buffer = _rented;
        _length = 0;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Length => _length;

    /// <summary>The key so far; valid until the next write or <see cref="Dispose"/>.</summary>
    public readonly ReadOnlySpan<byte> Written => _buffer[.._length];

    /// <summary>A copy of the key so far.</summary>
    public readonly byte[] ToArray() => Written.ToArray();

    /// <summary>Forgets what was written (keeps the buffer).</summary>
    public void Clear() => _length = 0;

    /// <summary>Appends one byte (a kind tag, a separator).</summary>
    public void WriteByte(byte value) => Reserve(1)[0] = value;

    /// <summary>Appends a 32-bit unsigned integer, big-endian.</summary>
    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32BigEndian(Reserve(4), value);

    /// <summary>Appends a 64-bit unsigned integer, big-endian.</summary>
    public void WriteUInt64(ulong value) => BinaryPrimitives.WriteUInt64BigEndian(Reserve(8), value);

    /// <summary>Appends a 64-bit unsigned integer so that larger values sort first.</summary>
    public void WriteUInt64Descending(ulong value) => WriteUInt64(~value);

    /// <summary>Appends a signed 64-bit integer so that negative values sort before positive ones.</summary>
    public void WriteInt64(long value) => WriteUInt64((ulong)value ^ 0x8000_0000_0000_0000UL);

    /// <summary>Appends bytes as is. Order-safe only as the last component or at a fixed length.</summary>
    public void WriteRaw(scoped ReadOnlySpan<byte> bytes) => bytes.CopyTo(Reserve(bytes.Length));

    /// <summary>Appends a self-delimiting byte string (0x00 → 0x00 0xFF, then 0x00 0x01).</summary>
    public void WriteEscaped(scoped ReadOnlySpan<byte> bytes)
    {
        var destination = Reserve(OrderedKey.EscapedLength(bytes));
        var at = 0;
        while (true)
        {
            var zero = bytes.IndexOf((byte)0);
            var run = zero < 0 ? bytes : bytes[..zero];
            run.CopyTo(destination[at..]);
            at += run.Length;
            if (zero < 0)
            {
                break;
            }

            destination[at++] = OrderedKey.Escape;
            destination[at++] = OrderedKey.EscapedZero;
            bytes = bytes[(zero + 1)..];
        }

        destination[at++] = OrderedKey.Escape;
        destination[at] = OrderedKey.Terminator;
    }

    /// <summary>Returns a rented buffer to the pool. The writer must not be used afterwards.</summary>
    public void Dispose()
    {
        if (_rented is { } rented)
        {
            _rented = null;
            _buffer = default;
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private Span<byte> Reserve(int count)
    {
        if (_buffer.Length - _length < count)
        {
            Grow(count);
        }

        var span = _buffer.Slice(_length, count);
        _length += count;
        return span;
    }

    private void Grow(int count)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(checked(_length + count), Math.Max(32, _buffer.Length * 2)));
        _buffer[.._length].CopyTo(bigger);
        if (_rented is { } old)
        {
            ArrayPool<byte>.Shared.Return(old);
        }

        _rented = bigger;
        _buffer = bigger;
    }
}

/// <summary>
/// Reads the components of a key written by <see cref="OrderedKeyWriter"/>, in the same order. A key that does not
/// decode throws <see cref="CorruptionException"/>: keys come from storage, so a malformed one is damage, not input.
/// </summary>
public ref struct OrderedKeyReader
{
    private readonly ReadOnlySpan<byte> _key;
    private int _position;

    /// <summary>Starts reading <paramref name="key"/> at its first byte.</summary>
    public OrderedKeyReader(ReadOnlySpan<byte> key)
    {
        _key = key;
        _position = 0;
    }

    /// <summary>Bytes consumed so far.</summary>
    public readonly int Position => _position;

    /// <summary>The bytes not read yet.</summary>
    public readonly ReadOnlySpan<byte> Remaining => _key[_position..];

    /// <summary>True when every byte has been read.</summary>
    public readonly bool End => _position == _key.Length;

    /// <summary>Reads one byte.</summary>
    public byte ReadByte() => Take(1)[0];

    /// <summary>Reads a big-endian 32-bit unsigned integer.</summary>
    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));

    /// <summary>Reads a big-endian 64-bit unsigned integer.</summary>
    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64BigEndian(Take(8));

    /// <summary>Reads a value written by <see cref="OrderedKeyWriter.WriteUInt64Descending"/>.</summary>
    public ulong ReadUInt64Descending() => ~ReadUInt64();

    /// <summary>Reads a value written by <see cref="OrderedKeyWriter.WriteInt64"/>.</summary>
    public long ReadInt64() => (long)(ReadUInt64() ^ 0x8000_0000_0000_0000UL);

    /// <summary>Reads <paramref name="count"/> raw bytes (a slice of the key).</summary>
    public ReadOnlySpan<byte> ReadRaw(int count) => Take(count);

    /// <summary>Reads everything left (a slice of the key).</summary>
    public ReadOnlySpan<byte> ReadRemaining() => Take(_key.Length - _position);

    /// <summary>Reads an escaped component, unescaping it into a new array.</summary>
    public byte[] ReadEscaped()
    {
        var start = _position;
        var length = ScanEscaped(out var encodedLength);
        var result = new byte[length];
        var source = _key.Slice(start, encodedLength);
        var at = 0;
        for (var i = 0; i < source.Length - 2; i++)
        {
            result[at++] = source[i];
            if (source[i] == OrderedKey.Escape)
            {
                i++;
            }
        }

        return result;
    }

    /// <summary>Skips an escaped component without unescaping it.</summary>
    public void SkipEscaped() => ScanEscaped(out _);

    /// <summary>Finds the end of the escaped component at the position; returns its unescaped length.</summary>
    private int ScanEscaped(out int encodedLength)
    {
        var start = _position;
        var length = 0;
        var i = start;
        while (true)
        {
            var rest = _key[i..];
            var zero = rest.IndexOf(OrderedKey.Escape);
            if (zero < 0 || zero + 1 >= rest.Length)
            {
                throw Malformed(start, "escaped component has no terminator");
            }

            length += zero;
            var marker = rest[zero + 1];
            i += zero + 2;
            if (marker == OrderedKey.Terminator)
            {
                break;
            }

            if (marker != OrderedKey.EscapedZero)
            {
                throw Malformed(start, $"escaped component has 0x00 followed by 0x{marker:X2}");
            }

            length++;
        }

        encodedLength = i - start;
        _position = i;
        return length;
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || _key.Length - _position < count)
        {
            throw Malformed(_position, $"needs {count} more bytes, {_key.Length - _position} left");
        }

        var span = _key.Slice(_position, count);
        _position += count;
        return span;
    }

    private readonly CorruptionException Malformed(int at, string problem) =>
        new($"Malformed key 0x{Convert.ToHexString(_key)} at byte {at}: {problem}.");
}
