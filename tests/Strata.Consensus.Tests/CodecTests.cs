namespace Strata.Consensus.Tests;

/// <summary>The binary encoding round-trips every field and rejects damaged input.</summary>
public sealed class CodecTests
{
    private static readonly Message Full = new()
    {
        GroupId = ulong.MaxValue,
        Type = MessageType.Append,
        From = 1,
        To = 300,
        Term = 7,
        LogTerm = 6,
        Index = 1UL << 40,
        Commit = 99,
        Reject = true,
        RejectHint = 12,
        LeaseTick = 123_456,
        Context = "ctx"u8.ToArray(),
        Entries = [new Entry(5, 7, EntryType.Normal, "a"u8.ToArray()), new Entry(6, 7, EntryType.ConfChange, ConfChange.AddLearner(4).Encode())],
        Snapshot = new Snapshot(
            new SnapshotMetadata(4, 3, new ConfState { Voters = [1, 2], VotersOutgoing = [1, 2, 3], LearnersNext = [3], AutoLeave = true }),
            "state"u8.ToArray()),
    };

    [Fact]
    public void A_message_round_trips_with_every_field()
    {
        var decoded = RaftCodec.DecodeMessage(RaftCodec.Encode(Full));

        Assert.Equal(Full.GroupId, decoded.GroupId);
        Assert.Equal(Full.Type, decoded.Type);
        Assert.Equal((Full.From, Full.To, Full.Term, Full.LogTerm, Full.Index, Full.Commit), (decoded.From, decoded.To, decoded.Term, decoded.LogTerm, decoded.Index, decoded.Commit));
        Assert.Equal((Full.Reject, Full.RejectHint, Full.LeaseTick), (decoded.Reject, decoded.RejectHint, decoded.LeaseTick));
        Assert.Equal(Full.Context.ToArray(), decoded.Context.ToArray());
        Assert.Equal(Full.Entries.Select(e => (e.Index, e.Term, e.Type, e.Data.ToArray())), decoded.Entries.Select(e => (e.Index, e.Term, e.Type, e.Data.ToArray())));
        Assert.Equal(Full.Snapshot!.Index, decoded.Snapshot!.Index);
        Assert.True(Full.Snapshot.Metadata.ConfState.SameMembers(decoded.Snapshot.Metadata.ConfState));
        Assert.Equal(Full.Snapshot.Data.ToArray(), decoded.Snapshot.Data.ToArray());
    }

    [Fact]
    public void Encoding_is_deterministic()
    {
        Assert.Equal(RaftCodec.Encode(Full), RaftCodec.Encode(Full with { }));
    }

    [Fact]
    public void Entries_and_hard_states_round_trip()
    {
        var e = new Entry(ulong.MaxValue, 3, EntryType.Normal, new byte[1000]);
        var hs = new HardState(9, 2, 1UL << 50);

        Assert.Equal((e.Index, e.Term, e.Type, e.Data.Length), RaftCodec.DecodeEntry(RaftCodec.Encode(e)) is var d ? (d.Index, d.Term, d.Type, d.Data.Length) : default);
        Assert.Equal(hs, RaftCodec.DecodeHardState(RaftCodec.Encode(hs)));
    }

    [Fact]
    public void Truncated_or_extended_input_is_rejected()
    {
        var bytes = RaftCodec.Encode(Full);

        for (var cut = 0; cut < bytes.Length; cut++)
        {
            Assert.Throws<FormatException>(() => RaftCodec.DecodeMessage(bytes.AsSpan(0, cut)));
        }

        Assert.Throws<FormatException>(() => RaftCodec.DecodeMessage([.. bytes, 0]));
        Assert.Throws<FormatException>(() => RaftCodec.DecodeHardState([1, 2]));
    }
}
