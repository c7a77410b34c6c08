using System.Buffers;
using System.Text;

namespace Strata.Storage.Tests;

public sealed class RecordCodecTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("dir/42/name");
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes("entry payload bytes");

    [Fact]
    public void Seal_then_open_returns_the_payload()
    {
        var record = RecordCodec.Seal(Key, Payload);
        Assert.Equal(Payload.Length + RecordCodec.Overhead, record.Length);
        Assert.Equal(RecordCodec.FormatV1, record[0]);
        Assert.Equal(Payload, RecordCodec.Open(Key, record).ToArray());
        Assert.True(RecordCodec.TryOpen(Key, record, out var payload));
        Assert.Equal(Payload, payload.ToArray());
    }

    [Fact]
    public void Empty_payload_and_empty_key_round_trip()
    {
        Assert.True(RecordCodec.Open([], RecordCodec.Seal([], [])).IsEmpty);
        Assert.True(RecordCodec.Open(Key, RecordCodec.Seal(Key, [])).IsEmpty);
        Assert.Throws<CorruptionException>(() => RecordCodec.Open(Key, RecordCodec.Seal([], [])).ToArray());
    }

    [Fact]
    public void Open_returns_a_slice_of_the_record_not_a_copy()
    {
        var record = RecordCodec.Seal(Key, Payload);
        var payload = RecordCodec.Open(Key, record);
        Assert.True(payload.Overlaps(record));
    }

    [Fact]
    public void Every_bit_flip_anywhere_in_the_record_is_detected()
    {
        var record = RecordCodec.Seal(Key, Payload);
        for (var bit = 0; bit < record.Length * 8; bit++)
        {
            record[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(RecordCodec.TryOpen(Key, record, out _), $"bit {bit} flipped but the record opened");
            Assert.Throws<CorruptionException>(() => RecordCodec.Open(Key, record).ToArray());
            record[bit / 8] ^= (byte)(1 << (bit % 8));
        }

        Assert.Equal(Payload, RecordCodec.Open(Key, record).ToArray());
    }

    [Fact]
    public void A_value_under_another_key_is_detected_and_the_message_says_which_key_and_both_checksums()
    {
        var record = RecordCodec.Seal(Key, Payload);
        var otherKey = Encoding.UTF8.GetBytes("dir/42/other");
        var error = Assert.Throws<CorruptionException>(() => RecordCodec.Open(otherKey, record).ToArray());
        Assert.Contains("0x" + Convert.ToHexString(otherKey), error.Message);
        Assert.Contains("checksum mismatch", error.Message);
        Assert.Contains($"stored 0x{BitConverter.ToUInt32(record, 1):X8}", error.Message);
        var computed = BitConverter.ToUInt32(RecordCodec.Seal(otherKey, Payload), 1);
        Assert.Contains($"computed 0x{computed:X8}", error.Message);
    }

    [Fact]
    public void The_key_length_is_part_of_the_checksum()
    {
        // Same concatenated bytes, different split between key and payload.
        var record = RecordCodec.Seal("ab"u8, "c"u8);
        Assert.False(RecordCodec.TryOpen("a"u8, record, out _));
        Assert.NotEqual(BitConverter.ToUInt32(record, 1), BitConverter.ToUInt32(RecordCodec.Seal("a"u8, "bc"u8), 1));
    }

    [Fact]
    public void Truncated_records_are_reported_as_such()
    {
        var record = RecordCodec.Seal(Key, Payload);
        for (var length = 0; length < record.Length; length++)
        {
            var truncated = record.AsSpan(0, length).ToArray();
            var error = Assert.Throws<CorruptionException>(() => RecordCodec.Open(Key, truncated).ToArray());
            Assert.Contains(length < RecordCodec.Overhead ? "truncated" : "checksum mismatch", error.Message);
        }
    }

    [Fact]
    public void An_unknown_format_byte_is_reported()
    {
        var record = RecordCodec.Seal(Key, Payload);
        record[0] = 0x02;
        var error = Assert.Throws<CorruptionException>(() => RecordCodec.Open(Key, record).ToArray());
        Assert.Contains("unknown format byte 0x02", error.Message);
    }

    [Fact]
    public void Long_keys_are_shortened_in_messages()
    {
        var key = new byte[500];
        var error = Assert.Throws<CorruptionException>(() => RecordCodec.Open(key, new byte[3]).ToArray());
        Assert.Contains("(500 bytes)", error.Message);
        Assert.True(error.Message.Length < 400);
    }

    [Fact]
    public void Span_buffer_writer_and_in_place_sealing_produce_the_same_bytes()
    {
        var expected = RecordCodec.Seal(Key, Payload);

        var span = new byte[expected.Length + 10];
        Assert.Equal(expected.Length, RecordCodec.Seal(Key, Payload, span));
        Assert.Equal(expected, span.AsSpan(0, expected.Length).ToArray());

        var writer = new ArrayBufferWriter<byte>();
        writer.Write("prefix"u8);
        RecordCodec.Seal(Key, Payload, writer);
        Assert.Equal([.. "prefix"u8.ToArray(), .. expected], writer.WrittenSpan.ToArray());

        var inPlace = new byte[RecordCodec.SealedLength(Payload.Length)];
        Payload.CopyTo(RecordCodec.PayloadOf(inPlace));
        RecordCodec.SealInPlace(Key, inPlace);
        Assert.Equal(expected, inPlace);
    }

    [Fact]
    public void Sealing_into_a_too_small_destination_throws()
    {
        Assert.Throws<ArgumentException>(() => RecordCodec.Seal(Key, Payload, new byte[Payload.Length + 4]));
        Assert.Throws<ArgumentException>(() => RecordCodec.SealInPlace(Key, new byte[4]));
    }
}
