using Strata.Consensus;

namespace Strata.Replication.Tests;

public sealed class NodeMessageBatchCodecTests
{
    private static Message RandomMessage(Random rng)
    {
        ulong R() => rng.Next(3) switch { 0 => (ulong)rng.Next(0, 128), 1 => (ulong)rng.NextInt64(), _ => ulong.MaxValue - (ulong)rng.Next(5) };
        byte[] Bytes(int max) => [.. Enumerable.Range(0, rng.Next(0, max)).Select(_ => (byte)rng.Next(256))];
        var type = (MessageType)rng.Next(1, 15);
        var entries = type is MessageType.Append or MessageType.Propose
            ? Enumerable.Range(0, rng.Next(0, 4)).Select(_ => new Entry(R(), R(), (EntryType)rng.Next(2), Bytes(40))).ToArray()
            : [];
        Snapshot? snapshot = type == MessageType.Snapshot
            ? new Snapshot(new SnapshotMetadata(R(), R(), new ConfState
            {
                Voters = [R(), R()],
                VotersOutgoing = rng.Next(2) == 0 ? [] : [R()],
                Learners = [R()],
                LearnersNext = [],
                AutoLeave = rng.Next(2) == 0,
            }), Bytes(100))
            : null;
        return new Message
        {
            GroupId = R(),
            Type = type,
            From = R(),
            To = R(),
            Term = R(),
            LogTerm = type is MessageType.Heartbeat or MessageType.HeartbeatResponse && rng.Next(2) == 0 ? 0 : R(),
            Index = type is MessageType.Heartbeat or MessageType.HeartbeatResponse && rng.Next(2) == 0 ? 0 : R(),
            Commit = R(),
            Reject = type == MessageType.AppendResponse && rng.Next(2) == 0,
            RejectHint = type == MessageType.AppendResponse ? R() : 0,
            LeaseTick = R(),
            Context = Bytes(10),
            Entries = entries,
            Snapshot = snapshot,
        };
    }

    private static void AssertSameMessage(Message expected, Message actual)
    {
        Assert.Equal(expected with { Entries = [], Snapshot = null, Context = default }, actual with { Entries = [], Snapshot = null, Context = default });
        Assert.Equal(expected.Context.ToArray(), actual.Context.ToArray());
        Assert.Equal(expected.Entries.Count, actual.Entries.Count);
        for (var i = 0; i < expected.Entries.Count; i++)
        {
            Assert.Equal(expected.Entries[i] with { Data = default }, actual.Entries[i] with { Data = default });
            Assert.Equal(expected.Entries[i].Data.ToArray(), actual.Entries[i].Data.ToArray());
        }

        Assert.Equal(expected.Snapshot is null, actual.Snapshot is null);
        if (expected.Snapshot is { } s)
        {
            Assert.Equal(s.Index, actual.Snapshot!.Index);
            Assert.Equal(s.Term, actual.Snapshot.Term);
            Assert.True(s.Metadata.ConfState.SameMembers(actual.Snapshot.Metadata.ConfState));
            Assert.Equal(s.Data.ToArray(), actual.Snapshot.Data.ToArray());
        }
    }

    [Fact]
    public void Random_batches_round_trip_exactly_and_deterministically()
    {
        var rng = new Random(4242);
        for (var round = 0; round < 300; round++)
        {
            var messages = Enumerable.Range(0, rng.Next(0, 12)).Select(_ => RandomMessage(rng)).ToList();
            var batch = new NodeMessageBatch((ulong)rng.Next(1, 9), (ulong)rng.Next(1, 9), messages);
            var frame = NodeMessageBatchCodec.Encode(batch);
            Assert.Equal(frame, NodeMessageBatchCodec.Encode(batch));
            var decoded = NodeMessageBatchCodec.Decode(frame);
            Assert.Equal(batch.SourceNode, decoded.SourceNode);
            Assert.Equal(batch.DestinationNode, decoded.DestinationNode);

            // Coalesced heartbeats come first, then heartbeat responses, then the rest, each in its original order.
            static int Section(Message m) => m.Type == MessageType.Heartbeat && m.LogTerm == 0 && m.Index == 0 ? 0
                : m.Type == MessageType.HeartbeatResponse && m.LogTerm == 0 && m.Index == 0 ? 1 : 2;
            var expected = messages.OrderBy(Section).ToList(); // OrderBy is stable
            Assert.Equal(expected.Count, decoded.Messages.Count);
            for (var i = 0; i < expected.Count; i++)
            {
                AssertSameMessage(expected[i], decoded.Messages[i]);
            }
        }
    }

    [Fact]
    public void Heartbeats_of_many_groups_coalesce_into_a_few_bytes_each()
    {
        var batch = new NodeMessageBatch(1, 2, [.. Enumerable.Range(1, 1000).Select(g => new Message
        {
            GroupId = (ulong)g,
            Type = MessageType.Heartbeat,
            From = 1,
            To = 2,
            Term = 7,
            Commit = 120 + (ulong)g,
            LeaseTick = 5000,
        })]);
        var frame = NodeMessageBatchCodec.Encode(batch);
        Assert.True(frame.Length < 1000 * 12, $"{frame.Length} bytes for 1000 heartbeats");
        var decoded = NodeMessageBatchCodec.Decode(frame);
        Assert.Equal(1000, decoded.Messages.Count);
        Assert.All(decoded.Messages, m => Assert.Equal(MessageType.Heartbeat, m.Type));
        Assert.Equal(500UL + 120, decoded.Messages[499].Commit);
    }

    [Fact]
    public void Minimal_messages_of_every_type_round_trip()
    {
        var messages = Enumerable.Range(1, 14).Select(t => new Message { Type = (MessageType)t, GroupId = 1, From = 1, To = 2 }).ToList();
        var decoded = NodeMessageBatchCodec.Decode(NodeMessageBatchCodec.Encode(new NodeMessageBatch(1, 2, messages)));
        Assert.Equal(messages.Select(m => m.Type).Order(), decoded.Messages.Select(m => m.Type).Order());
    }

    [Fact]
    public void An_empty_batch_is_a_small_liveness_beat()
    {
        var frame = NodeMessageBatchCodec.Encode(new NodeMessageBatch(3, 1));
        Assert.True(frame.Length <= 16, $"{frame.Length} bytes");
        var decoded = NodeMessageBatchCodec.Decode(frame);
        Assert.Empty(decoded.Messages);
        Assert.Equal(3UL, decoded.SourceNode);
        Assert.True(NodeMessageBatchCodec.TryReadBeat(frame, out var source, out var destination));
        Assert.Equal((3UL, 1UL), (source, destination));

        var damaged = (byte[])frame.Clone();
        damaged[5] ^= 1;
        Assert.False(NodeMessageBatchCodec.TryReadBeat(damaged, out _, out _));
        var withMessage = NodeMessageBatchCodec.Encode(new NodeMessageBatch(3, 1, [new Message { Type = MessageType.Heartbeat, GroupId = 1, From = 3, To = 1 }]));
        Assert.False(NodeMessageBatchCodec.TryReadBeat(withMessage, out _, out _));
    }

    [Fact]
    public void Every_single_bit_flip_is_detected()
    {
        var rng = new Random(7);
        var frame = NodeMessageBatchCodec.Encode(new NodeMessageBatch(1, 2, [.. Enumerable.Range(0, 6).Select(_ => RandomMessage(rng))]));
        for (var bit = 0; bit < frame.Length * 8; bit++)
        {
            var damaged = (byte[])frame.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<CorruptFrameException>(() => NodeMessageBatchCodec.Decode(damaged));
        }
    }

    [Fact]
    public void Truncated_extended_and_empty_frames_are_rejected()
    {
        var frame = NodeMessageBatchCodec.Encode(new NodeMessageBatch(1, 2, [RandomMessage(new Random(1))]));
        for (var length = 0; length < frame.Length; length++)
        {
            Assert.Throws<CorruptFrameException>(() => NodeMessageBatchCodec.Decode(frame.AsMemory(0, length)));
        }

        Assert.Throws<CorruptFrameException>(() => NodeMessageBatchCodec.Decode((byte[])[.. frame, 0]));
    }

    [Fact]
    public void A_well_checksummed_frame_with_malformed_content_is_rejected()
    {
        // Version 9, then garbage, with a correct length and CRC: the checksum cannot vouch for what it never knew.
        byte[] body = [9, 1, 2, 0, 0, 0];
        var frame = new byte[4 + body.Length + 4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)(body.Length + 4));
        body.CopyTo(frame, 4);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4 + body.Length), Storage.Crc32C.Compute(frame.AsSpan(0, 4 + body.Length)));
        var e = Assert.Throws<CorruptFrameException>(() => NodeMessageBatchCodec.Decode(frame));
        Assert.Contains("version", e.Message);

        // A message count larger than the frame could hold.
        body = [NodeMessageBatchCodec.Version, 1, 2, 0, 0, 0x7F];
        body.CopyTo(frame, 4);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4 + body.Length), Storage.Crc32C.Compute(frame.AsSpan(0, 4 + body.Length)));
        Assert.Throws<CorruptFrameException>(() => NodeMessageBatchCodec.Decode(frame));
    }
}
