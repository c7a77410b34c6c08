using Strata.Consensus;

namespace Strata.Replication;

/// <summary>
/// Deterministic binary forms of the core's value types, shared by the message frames (<see cref="NodeMessageBatchCodec"/>)
/// and the durable log records (<see cref="RaftLogKeys"/>), so there is one encoding of each.
/// </summary>
internal static class ConsensusEncoding
{
    /// <summary>Four id lists (voters, outgoing voters, learners, learners next), each a varint count then varint ids;
    /// then one byte: 1 when the joint configuration is left automatically.</summary>
    public static void WriteConfState(WireBuffer w, ConfState cs)
    {
        WriteIds(w, cs.Voters);
        WriteIds(w, cs.VotersOutgoing);
        WriteIds(w, cs.Learners);
        WriteIds(w, cs.LearnersNext);
        w.WriteByte(cs.AutoLeave ? (byte)1 : (byte)0);
    }

    public static ConfState ReadConfState(ref WireReader r)
    {
        var voters = ReadIds(ref r);
        var outgoing = ReadIds(ref r);
        var learners = ReadIds(ref r);
        var learnersNext = ReadIds(ref r);
        var autoLeave = r.ReadByte() switch
        {
            0 => false,
            1 => true,
            var b => throw new FormatException($"bad auto-leave flag {b}"),
        };
        return new ConfState
        {
            Voters = voters,
            VotersOutgoing = outgoing,
            Learners = learners,
            LearnersNext = learnersNext,
            AutoLeave = autoLeave,
        };
    }

    /// <summary>Varint index, term; the conf state.</summary>
    public static void WriteSnapshotMetadata(WireBuffer w, SnapshotMetadata meta)
    {
        w.WriteVarint(meta.Index);
        w.WriteVarint(meta.Term);
        WriteConfState(w, meta.ConfState);
    }

    public static SnapshotMetadata ReadSnapshotMetadata(ref WireReader r)
    {
        var index = r.ReadVarint();
        var term = r.ReadVarint();
        return new SnapshotMetadata(index, term, ReadConfState(ref r));
    }

    public static EntryType ReadEntryType(byte b) => b switch
    {
        (byte)EntryType.Normal => EntryType.Normal,
        (byte)EntryType.ConfChange => EntryType.ConfChange,
        _ => throw new FormatException($"unknown entry type {b}"),
    };

    private static void WriteIds(WireBuffer w, IReadOnlyList<ulong> ids)
    {
        w.WriteVarint((ulong)ids.Count);
        for (var i = 0; i < ids.Count; i++)
        {
            w.WriteVarint(ids[i]);
        }
    }

    private static ulong[] ReadIds(ref WireReader r)
    {
        var count = r.ReadCount(1);
        if (count == 0)
        {
            return [];
        }

        var ids = new ulong[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = r.ReadVarint();
        }

        return ids;
    }
}
