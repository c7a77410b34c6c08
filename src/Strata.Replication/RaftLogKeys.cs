using Strata.Consensus;
using Strata.Storage;

namespace Strata.Replication;

/// <summary>
/// Layout of the <see cref="KvColumn.RaftLog"/> column, shared by every group of a node. Keys are
/// <see cref="OrderedKey"/> tuples <c>(group id u64, kind u8[, index u64])</c>, so one group's records are adjacent
/// and its entries sort by index. Every value is a <see cref="RecordCodec"/> record bound to its key.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>0x01 state</term><description>varint length + hard state (<see cref="RaftCodec"/>), then varint durable
/// last index and varint its term. Rewritten in every batch that touches the group, after its entries, so the last
/// index it names covers only entries of batches that completed.</description></item>
/// <item><term>0x02 snapshot metadata</term><description>varint index, varint term, then the conf state
/// (<see cref="RaftCodec"/>).</description></item>
/// <item><term>0x03 snapshot data</term><description>the state machine's opaque snapshot bytes.</description></item>
/// <item><term>0x10 entry</term><description>key carries the index; value: the entry as <see cref="RaftCodec"/> encodes
/// it (its index must match the key's).</description></item>
/// </list>
/// </remarks>
public static class RaftLogKeys
{
    /// <summary>Kind byte of the group's state record.</summary>
    public const byte StateKind = 0x01;

    /// <summary>Kind byte of the latest snapshot's metadata.</summary>
    public const byte SnapshotMetadataKind = 0x02;

    /// <summary>Kind byte of the latest snapshot's data.</summary>
    public const byte SnapshotDataKind = 0x03;

    /// <summary>Kind byte of log entries.</summary>
    public const byte EntryKind = 0x10;

    /// <summary>Length of an entry key.</summary>
    public const int EntryKeyLength = 17;

    /// <summary>The key of a per-group record of <paramref name="kind"/>.</summary>
    public static byte[] GroupRecord(ulong groupId, byte kind)
    {
        var key = new OrderedKeyWriter(stackalloc byte[9]);
        key.WriteUInt64(groupId);
        key.WriteByte(kind);
        return key.ToArray();
    }

    /// <summary>The key of entry <paramref name="index"/> of <paramref name="groupId"/>.</summary>
    public static byte[] Entry(ulong groupId, ulong index)
    {
        var key = new byte[EntryKeyLength];
        WriteEntryKey(key, groupId, index);
        return key;
    }

    /// <summary>Writes an entry key into <paramref name="destination"/> (at least <see cref="EntryKeyLength"/> bytes).</summary>
    public static void WriteEntryKey(Span<byte> destination, ulong groupId, ulong index)
    {
        var key = new OrderedKeyWriter(destination);
        key.WriteUInt64(groupId);
        key.WriteByte(EntryKind);
        key.WriteUInt64(index);
    }

    /// <summary>The index of an entry key of <paramref name="groupId"/>.</summary>
    /// <exception cref="CorruptionException">The key is not an entry key of that group.</exception>
    public static ulong EntryIndexOf(ReadOnlySpan<byte> key, ulong groupId)
    {
        var reader = new OrderedKeyReader(key);
        if (key.Length != EntryKeyLength || reader.ReadUInt64() != groupId || reader.ReadByte() != EntryKind)
        {
            throw new CorruptionException($"unexpected key 0x{Convert.ToHexString(key)} among the entries of group {groupId}");
        }

        return reader.ReadUInt64();
    }

    /// <summary>First key of the group (inclusive) and the first key after it (exclusive).</summary>
    public static (byte[] Lower, byte[] Upper) GroupRange(ulong groupId)
    {
        var lower = new OrderedKeyWriter(stackalloc byte[8]);
        lower.WriteUInt64(groupId);
        return (lower.ToArray(), OrderedKey.PrefixEnd(lower.Written));
    }

    /// <summary>The group id a key of this column belongs to.</summary>
    public static ulong GroupOf(ReadOnlySpan<byte> key)
    {
        if (key.Length < 9)
        {
            throw new CorruptionException($"raft log key 0x{Convert.ToHexString(key)} is too short");
        }

        return new OrderedKeyReader(key).ReadUInt64();
    }

    internal static Entry ReadEntryPayload(ulong index, ReadOnlySpan<byte> payload)
    {
        Entry e;
        try
        {
            e = RaftCodec.DecodeEntry(payload);
        }
        catch (FormatException ex)
        {
            throw new CorruptionException($"entry {index} does not decode: {ex.Message}");
        }

        return e.Index == index ? e : throw new CorruptionException($"the record under entry key {index} holds entry {e.Index}");
    }

    internal static void WriteSnapshotMetadata(WireBuffer w, SnapshotMetadata meta)
    {
        w.WriteVarint(meta.Index);
        w.WriteVarint(meta.Term);
        w.WriteBytes(RaftCodec.Encode(meta.ConfState));
    }

    internal static SnapshotMetadata ReadSnapshotMetadata(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var index = r.ReadVarint();
        var term = r.ReadVarint();
        return new SnapshotMetadata(index, term, RaftCodec.DecodeConfState(r.ReadBytes(r.Remaining)));
    }
}
