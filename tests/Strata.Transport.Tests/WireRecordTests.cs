using System.Buffers;

namespace Strata.Transport.Tests;

/// <summary>The record format and the handshake payloads, without sockets.</summary>
public sealed class WireRecordTests
{
    /// <summary>A sequence cut into pieces of <paramref name="piece"/> bytes, as a socket might deliver it.</summary>
    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int piece)
    {
        Segment? first = null;
        Segment? last = null;
        for (var offset = 0; offset < bytes.Length; offset += piece)
        {
            var segment = new Segment(bytes.AsMemory(offset, Math.Min(piece, bytes.Length - offset)));
            if (last is null)
            {
                first = segment;
            }
            else
            {
                last.Append(segment);
            }

            last = segment;
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 3)]
    [InlineData(100, 7)]
    [InlineData(70_000, 4096)]
    public void Records_round_trip_across_segment_boundaries(int size, int piece)
    {
        var payloads = new[] { TestNodes.Frame(1, size), TestNodes.Frame(2, 5), TestNodes.Frame(3, size) };
        var writer = new ArrayBufferWriter<byte>();
        foreach (var p in payloads)
        {
            WireRecord.Write(writer, RecordKind.Frame, [], p);
        }

        var buffer = Segmented(writer.WrittenSpan.ToArray(), piece);
        var read = new List<byte[]>();
        while (WireRecord.TryRead(ref buffer, WireRecord.MaxPayload, out var kind, out var payload))
        {
            Assert.Equal(RecordKind.Frame, kind);
            read.Add(payload.ToArray());
        }

        Assert.Equal(0, buffer.Length);
        Assert.Equal(payloads, read);
    }

    [Fact]
    public void An_incomplete_record_needs_more_bytes_and_consumes_nothing()
    {
        var record = WireRecord.Encode(RecordKind.Frame, TestNodes.Frame(9, 50));
        for (var cut = 0; cut < record.Length; cut++)
        {
            var buffer = new ReadOnlySequence<byte>(record, 0, cut);
            Assert.False(WireRecord.TryRead(ref buffer, WireRecord.MaxPayload, out _, out _));
            Assert.Equal(cut, buffer.Length);
        }
    }

    [Fact]
    public void Every_single_bit_flip_is_detected()
    {
        var record = WireRecord.Encode(RecordKind.Frame, TestNodes.Frame(4, 40));
        for (var bit = 0; bit < record.Length * 8; bit++)
        {
            var damaged = (byte[])record.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            var buffer = new ReadOnlySequence<byte>(damaged);
            try
            {
                // A flip in the length may make the record look incomplete (then the reader waits for more bytes,
                // which in a stream eventually produce a mismatch); anything it does return must not be a frame.
                var complete = WireRecord.TryRead(ref buffer, WireRecord.MaxPayload, out _, out _);
                Assert.False(complete, $"bit {bit} flipped and the record was still accepted");
            }
            catch (WireProtocolException e)
            {
                Assert.True(e.IsCorruption);
            }
        }
    }

    [Fact]
    public void An_oversize_length_is_rejected_from_the_header_alone()
    {
        var header = new byte[] { 0xFF, 0xFF, 0xFF, 0x7F, (byte)RecordKind.Frame };
        var buffer = new ReadOnlySequence<byte>(header);
        var e = Assert.Throws<WireProtocolException>(() => WireRecord.TryRead(ref buffer, WireRecord.MaxPayload, out _, out _));
        Assert.Contains("exceeds the limit", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_kind_with_a_valid_checksum_is_rejected()
    {
        var buffer = new ReadOnlySequence<byte>(WireRecord.Encode((RecordKind)42, [1, 2, 3]));
        Assert.Throws<WireProtocolException>(() => WireRecord.TryRead(ref buffer, WireRecord.MaxPayload, out _, out _));
    }

    [Fact]
    public void Handshake_payloads_round_trip()
    {
        var helloRecord = new ReadOnlySequence<byte>(Handshake.EncodeHello(3, 9, "prod-eu"));
        Assert.True(WireRecord.TryRead(ref helloRecord, 1024, out var kind, out var payload));
        Assert.Equal(RecordKind.Hello, kind);
        Assert.Equal(new Handshake.Hello(Handshake.Magic, Handshake.Version, 3, 9, "prod-eu"), Handshake.DecodeHello(payload.ToArray()));

        var welcomeRecord = new ReadOnlySequence<byte>(Handshake.EncodeWelcome(9, HandshakeStatus.WrongCluster, "nope"));
        Assert.True(WireRecord.TryRead(ref welcomeRecord, 1024, out kind, out payload));
        Assert.Equal(RecordKind.Welcome, kind);
        Assert.Equal(new Handshake.Welcome(Handshake.Magic, Handshake.Version, 9, HandshakeStatus.WrongCluster, "nope"), Handshake.DecodeWelcome(payload.ToArray()));
        Assert.Throws<WireProtocolException>(() => Handshake.DecodeHello(new byte[10]));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public void Append(Segment next)
        {
            next.RunningIndex = RunningIndex + Memory.Length;
            Next = next;
        }
    }
}
