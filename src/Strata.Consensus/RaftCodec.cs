using System.Buffers;

namespace Strata.Consensus;

/// <summary>
/// Compact, deterministic binary encoding of the core's data types (LEB128 varints, little-endian order of fields as
/// declared), for the transport and the durable log. The same value always encodes to the same bytes.
/// </summary>
/// <remarks>
/// No checksum here: the framing layer that stores or sends these bytes adds one (the storage record codec, the
/// transport frame), so there is one checksum per stored or sent record. Decoding rejects truncated or trailing bytes
/// and unknown enum values with <see cref="FormatException"/>. Thread-safe (stateless).
/// </remarks>
public static class RaftCodec
{
    private const byte MessageVersion = 1;

    /// <summary>Encodes a message (version byte first).</summary>
    public static byte[] Encode(Message m)
    {
        var w = new ArrayBufferWriter<byte>(64 + (m.Entries.Count * 32));
        WriteByte(w, MessageVersion);
        WriteByte(w, (byte)m.Type);
        WriteVarint(w, m.GroupId);
        WriteVarint(w, m.From);
        WriteVarint(w, m.To);
        WriteVarint(w, m.Term);
        WriteVarint(w, m.LogTerm);
        WriteVarint(w, m.Index);
        WriteVarint(w, m.Commit);
        WriteByte(w, (byte)((m.Reject ? 1 : 0) | (m.Snapshot is null ? 0 : 2)));
        WriteVarint(w, m.RejectHint);
        WriteVarint(w, m.LeaseTick);
        WriteBytes(w, m.Context.Span);
        WriteVarint(w, (ulong)m.Entries.Count);
        foreach (var e in m.Entries)
        {
            WriteEntry(w, e);
        }

        if (m.Snapshot is { } s)
        {
            WriteSnapshot(w, s);
        }

        return w.WrittenSpan.ToArray();
    }

    /// <summary>Decodes what <see cref="Encode(Message)"/> produced.</summary>
    public static Message DecodeMessage(ReadOnlySpan<byte> data)
    {
        var r = new Reader(data);
        if (r.Byte() != MessageVersion)
        {
            throw new FormatException("unknown message version");
        }

        var type = r.Byte();
        if (type is < (byte)MessageType.Propose or > (byte)MessageType.ReadIndexResponse)
        {
            throw new FormatException($"unknown message type {type}");
        }

        var group = r.Varint();
        var from = r.Varint();
        var to = r.Varint();
        var term = r.Varint();
        var logTerm = r.Varint();
        var index = r.Varint();
        var commit = r.Varint();
        var flags = r.Byte();
        if (flags > 3)
        {
            throw new FormatException("unknown message flags");
        }

        var rejectHint = r.Varint();
        var leaseTick = r.Varint();
        var context = r.Bytes();
        var count = r.Varint();
        if (count > (ulong)data.Length)
        {
            throw new FormatException("entry count exceeds message size");
        }

        var entries = count == 0 ? [] : new Entry[count];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = ReadEntry(ref r);
        }

        var snapshot = (flags & 2) != 0 ? ReadSnapshot(ref r) : null;
        r.End();
        return new Message
        {
            Type = (MessageType)type,
            GroupId = group,
            From = from,
            To = to,
            Term = term,
            LogTerm = logTerm,
            Index = index,
            Commit = commit,
            Reject = (flags & 1) != 0,
            RejectHint = rejectHint,
            LeaseTick = leaseTick,
            Context = context,
            Entries = entries,
            Snapshot = snapshot,
        };
    }

    /// <summary>Encodes one log entry (what a durable log stores per index).</summary>
    public static byte[] Encode(Entry e)
    {
        var w = new ArrayBufferWriter<byte>(e.Data.Length + 24);
        WriteEntry(w, e);
        return w.WrittenSpan.ToArray();
    }

    /// <summary>Decodes what <see cref="Encode(Entry)"/> produced.</summary>
    public static Entry DecodeEntry(ReadOnlySpan<byte> data)
    {
        var r = new Reader(data);
        var e = ReadEntry(ref r);
        r.End();
        return e;
    }

    /// <summary>Encodes a hard state.</summary>
    public static byte[] Encode(HardState hs)
    {
        var w = new ArrayBufferWriter<byte>(30);
        WriteVarint(w, hs.Term);
        WriteVarint(w, hs.Vote);
        WriteVarint(w, hs.Commit);
        return w.WrittenSpan.ToArray();
    }

    /// <summary>Decodes what <see cref="Encode(HardState)"/> produced.</summary>
    public static HardState DecodeHardState(ReadOnlySpan<byte> data)
    {
        var r = new Reader(data);
        var hs = new HardState(r.Varint(), r.Varint(), r.Varint());
        r.End();
        return hs;
    }

    /// <summary>Encodes a membership (stored with snapshots and applied indexes).</summary>
    public static byte[] Encode(ConfState cs)
    {
        var w = new ArrayBufferWriter<byte>(32);
        WriteConfState(w, cs);
        return w.WrittenSpan.ToArray();
    }

    /// <summary>Decodes what <see cref="Encode(ConfState)"/> produced.</summary>
    public static ConfState DecodeConfState(ReadOnlySpan<byte> data)
    {
        var r = new Reader(data);
        var cs = ReadConfState(ref r);
        r.End();
        return cs;
    }

    private static void WriteEntry(ArrayBufferWriter<byte> w, Entry e)
    {
        WriteVarint(w, e.Index);
        WriteVarint(w, e.Term);
        WriteByte(w, (byte)e.Type);
        WriteBytes(w, e.Data.Span);
    }

    private static Entry ReadEntry(ref Reader r)
    {
        var index = r.Varint();
        var term = r.Varint();
        var type = r.Byte();
        if (type > (byte)EntryType.ConfChange)
        {
            throw new FormatException($"unknown entry type {type}");
        }

        return new Entry(index, term, (EntryType)type, r.Bytes());
    }

    private static void WriteSnapshot(ArrayBufferWriter<byte> w, Snapshot s)
    {
        WriteVarint(w, s.Index);
        WriteVarint(w, s.Term);
        WriteConfState(w, s.Metadata.ConfState);
        WriteBytes(w, s.Data.Span);
    }

    private static Snapshot ReadSnapshot(ref Reader r)
    {
        var index = r.Varint();
        var term = r.Varint();
        var cs = ReadConfState(ref r);
        return new Snapshot(new SnapshotMetadata(index, term, cs), r.Bytes());
    }

    private static void WriteConfState(ArrayBufferWriter<byte> w, ConfState cs)
    {
        foreach (var list in (IReadOnlyList<ulong>[])[cs.Voters, cs.VotersOutgoing, cs.Learners, cs.LearnersNext])
        {
            WriteVarint(w, (ulong)list.Count);
            foreach (var id in list)
            {
                WriteVarint(w, id);
            }
        }

        WriteByte(w, cs.AutoLeave ? (byte)1 : (byte)0);
    }

    private static ConfState ReadConfState(ref Reader r)
    {
        var lists = new ulong[4][];
        for (var l = 0; l < 4; l++)
        {
            var n = r.Varint();
            if (n > 1024)
            {
                throw new FormatException("membership list too long");
            }

            lists[l] = new ulong[n];
            for (var i = 0; i < lists[l].Length; i++)
            {
                lists[l][i] = r.Varint();
            }
        }

        var autoLeave = r.Byte();
        if (autoLeave > 1)
        {
            throw new FormatException("bad auto-leave flag");
        }

        return new ConfState { Voters = lists[0], VotersOutgoing = lists[1], Learners = lists[2], LearnersNext = lists[3], AutoLeave = autoLeave == 1 };
    }

    private static void WriteByte(ArrayBufferWriter<byte> w, byte b)
    {
        w.GetSpan(1)[0] = b;
        w.Advance(1);
    }

    private static void WriteVarint(ArrayBufferWriter<byte> w, ulong v)
    {
        var span = w.GetSpan(10);
        var n = 0;
        while (v >= 0x80)
        {
            span[n++] = (byte)(v | 0x80);
            v >>= 7;
        }

        span[n++] = (byte)v;
        w.Advance(n);
    }

    private static void WriteBytes(ArrayBufferWriter<byte> w, ReadOnlySpan<byte> bytes)
    {
        WriteVarint(w, (ulong)bytes.Length);
        w.Write(bytes);
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _pos;

        public byte Byte()
        {
            if (_pos >= _data.Length)
            {
                throw new FormatException("truncated");
            }

            return _data[_pos++];
        }

        public ulong Varint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = Byte();
                if (shift == 63 && b > 1)
                {
                    throw new FormatException("varint overflow");
                }

                result |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return result;
                }
            }

            throw new FormatException("varint too long");
        }

        public byte[] Bytes()
        {
            var length = Varint();
            if (length > (ulong)(_data.Length - _pos))
            {
                throw new FormatException("truncated bytes");
            }

            var bytes = _data.Slice(_pos, (int)length).ToArray();
            _pos += (int)length;
            return bytes;
        }

        public readonly void End()
        {
            if (_pos != _data.Length)
            {
                throw new FormatException("trailing bytes");
            }
        }
    }
}
