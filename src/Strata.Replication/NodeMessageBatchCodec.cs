using System.Buffers.Binary;
using Strata.Consensus;
using Strata.Storage;

namespace Strata.Replication;

/// <summary>
/// The compact, deterministic binary frame of a <see cref="NodeMessageBatch"/>, checksummed with CRC-32C.
/// </summary>
/// <remarks>
/// <para>Frame layout (integers are unsigned LEB128 varints unless marked):</para>
/// <code>
/// u32 LE   length     number of bytes after this field, CRC included
/// u8       version    1
/// varint   source node, destination node
/// varint   H, then H coalesced heartbeats:           group, from, to, term, commit, lease tick, context (varint length + bytes)
/// varint   R, then R coalesced heartbeat responses:  group, from, to, term, commit, lease tick, context
/// varint   M, then M full messages: varint length + the message as Strata.Consensus.RaftCodec encodes it
///            (version, type, group, from, to, term, log term, index, commit, flags, reject hint, lease tick, context,
///            entries, snapshot)
/// u32 LE   CRC-32C of every byte before it, length field included
/// </code>
/// <para>A heartbeat (response) goes into its coalesced section when it has no field beyond those listed there; the
/// receiver expands each record into a full <see cref="Message"/>. Order is preserved within each section, not across
/// sections (Raft does not depend on message order). Full messages use the core's own encoding
/// (<see cref="RaftCodec"/>); the frame adds the coalesced sections and the one checksum. Decoding verifies the length,
/// the checksum and every field and throws <see cref="CorruptFrameException"/> instead of returning anything from a
/// damaged frame. The context of a coalesced heartbeat is a slice of the frame's memory (no copy): the frame must not
/// be modified afterwards.</para>
/// <para>All members are thread-safe (no shared state).</para>
/// </remarks>
public static class NodeMessageBatchCodec
{
    /// <summary>The current frame version.</summary>
    public const byte Version = 1;

    /// <summary>Bytes of framing around the body: length prefix and CRC.</summary>
    public const int FramingOverhead = 8;

    // Smallest encodings, to bound counts by the bytes left: a length and a RaftCodec message (2 bytes, 11 varints,
    // an empty context and entry count); 7 varints.
    private const int MinMessageBytes = 15;
    private const int MinCoalescedBytes = 7;

    /// <summary>Encodes <paramref name="batch"/> into a new array.</summary>
    public static byte[] Encode(NodeMessageBatch batch)
    {
        var buffer = new WireBuffer(256);
        Encode(batch, buffer);
        return buffer.ToArray();
    }

    /// <summary>Encodes <paramref name="batch"/> into <paramref name="output"/> (cleared first).</summary>
    internal static void Encode(NodeMessageBatch batch, WireBuffer output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        output.Clear();
        output.Reserve(4);
        output.WriteByte(Version);
        output.WriteVarint(batch.SourceNode);
        output.WriteVarint(batch.DestinationNode);
        var messages = batch.Messages;
        WriteCoalesced(output, messages, MessageType.Heartbeat);
        WriteCoalesced(output, messages, MessageType.HeartbeatResponse);
        var full = 0;
        foreach (var m in messages)
        {
            if (!IsCoalescable(m))
            {
                full++;
            }
        }

        output.WriteVarint((ulong)full);
        foreach (var m in messages)
        {
            if (!IsCoalescable(m))
            {
                WriteMessage(output, m);
            }
        }

        // The length counts what follows the field: the body (Length - 4 bytes so far) and the 4-byte CRC.
        var frame = output.WrittenMutable;
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)frame.Length);
        var crc = Crc32C.Compute(output.Written);
        output.WriteUInt32(crc);
    }

    /// <summary>Decodes and verifies a frame.</summary>
    /// <exception cref="CorruptFrameException">Wrong length, checksum mismatch, unknown version or malformed content.</exception>
    public static NodeMessageBatch Decode(ReadOnlyMemory<byte> frame)
    {
        var span = frame.Span;
        if (span.Length < FramingOverhead + 1)
        {
            throw new CorruptFrameException($"frame of {span.Length} bytes is too short");
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(span);
        if (length != (uint)(span.Length - 4))
        {
            throw new CorruptFrameException($"frame length field says {length} bytes follow, {span.Length - 4} do");
        }

        var stored = BinaryPrimitives.ReadUInt32LittleEndian(span[^4..]);
        var computed = Crc32C.Compute(span[..^4]);
        if (stored != computed)
        {
            throw new CorruptFrameException($"frame checksum mismatch: stored 0x{stored:X8}, computed 0x{computed:X8}");
        }

        try
        {
            return DecodeBody(frame[4..^4]);
        }
        catch (FormatException e)
        {
            throw new CorruptFrameException($"frame does not decode: {e.Message}");
        }
    }

    /// <summary>
    /// Recognizes a verified liveness beat (a frame whose batch has no message) without allocating — the common frame
    /// between idle nodes. Returns false for anything else, including damaged frames (decode those with
    /// <see cref="Decode"/> to learn why).
    /// </summary>
    public static bool TryReadBeat(ReadOnlySpan<byte> frame, out ulong sourceNode, out ulong destinationNode)
    {
        sourceNode = destinationNode = 0;
        if (frame.Length < FramingOverhead + 4 || frame.Length > FramingOverhead + 24
            || BinaryPrimitives.ReadUInt32LittleEndian(frame) != (uint)(frame.Length - 4)
            || BinaryPrimitives.ReadUInt32LittleEndian(frame[^4..]) != Crc32C.Compute(frame[..^4]))
        {
            return false;
        }

        try
        {
            var r = new WireReader(frame[4..^4]);
            if (r.ReadByte() != Version)
            {
                return false;
            }

            sourceNode = r.ReadVarint();
            destinationNode = r.ReadVarint();
            var empty = r.ReadVarint() == 0 && r.ReadVarint() == 0 && r.ReadVarint() == 0 && r.Remaining == 0;
            return empty;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static bool IsCoalescable(Message m) =>
        m.Type is MessageType.Heartbeat or MessageType.HeartbeatResponse
        && m.LogTerm == 0 && m.Index == 0 && !m.Reject && m.RejectHint == 0 && m.Entries.Count == 0 && m.Snapshot is null;

    private static void WriteCoalesced(WireBuffer w, List<Message> messages, MessageType type)
    {
        var count = 0;
        foreach (var m in messages)
        {
            if (m.Type == type && IsCoalescable(m))
            {
                count++;
            }
        }

        w.WriteVarint((ulong)count);
        foreach (var m in messages)
        {
            if (m.Type == type && IsCoalescable(m))
            {
                w.WriteVarint(m.GroupId);
                w.WriteVarint(m.From);
                w.WriteVarint(m.To);
                w.WriteVarint(m.Term);
                w.WriteVarint(m.Commit);
                w.WriteVarint(m.LeaseTick);
                w.WriteLengthPrefixed(m.Context.Span);
            }
        }
    }

    /// <summary>A full message: its <see cref="RaftCodec"/> encoding, length-prefixed (the core's one encoding).</summary>
    private static void WriteMessage(WireBuffer w, Message m) => w.WriteLengthPrefixed(RaftCodec.Encode(m));

    private static NodeMessageBatch DecodeBody(ReadOnlyMemory<byte> body)
    {
        var r = new WireReader(body.Span);
        var version = r.ReadByte();
        if (version != Version)
        {
            throw new FormatException($"unknown frame version {version}");
        }

        var batch = new NodeMessageBatch(r.ReadVarint(), r.ReadVarint());
        ReadCoalesced(ref r, body, batch.Messages, MessageType.Heartbeat);
        ReadCoalesced(ref r, body, batch.Messages, MessageType.HeartbeatResponse);
        var count = r.ReadCount(MinMessageBytes);
        for (var i = 0; i < count; i++)
        {
            batch.Messages.Add(ReadMessage(ref r));
        }

        r.ExpectEnd();
        return batch;
    }

    private static void ReadCoalesced(ref WireReader r, ReadOnlyMemory<byte> body, List<Message> into, MessageType type)
    {
        var count = r.ReadCount(MinCoalescedBytes);
        for (var i = 0; i < count; i++)
        {
            into.Add(new Message
            {
                Type = type,
                GroupId = r.ReadVarint(),
                From = r.ReadVarint(),
                To = r.ReadVarint(),
                Term = r.ReadVarint(),
                Commit = r.ReadVarint(),
                LeaseTick = r.ReadVarint(),
                Context = ReadBytes(ref r, body),
            });
        }
    }

    private static Message ReadMessage(ref WireReader r) => RaftCodec.DecodeMessage(r.ReadLengthPrefixed());

    /// <summary>A length-prefixed byte string as a slice of the frame (no copy).</summary>
    private static ReadOnlyMemory<byte> ReadBytes(ref WireReader r, ReadOnlyMemory<byte> body)
    {
        var length = r.ReadCount(1);
        var start = r.Position;
        r.ReadBytes(length);
        return length == 0 ? ReadOnlyMemory<byte>.Empty : body.Slice(start, length);
    }
}
