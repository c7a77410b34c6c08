using System.Buffers.Binary;
using Strata.Storage;

namespace Strata.Namespace;

public sealed partial class NamespaceStateMachine
{
    private static ReadOnlySpan<byte> SnapshotMagic => "STRATA-NS-SNAP-1"u8;

    /// <summary>
    /// Writes every key of [<paramref name="lower"/>, <paramref name="upper"/>) (default: the whole namespace,
    /// applied index included) from one consistent engine snapshot to <paramref name="output"/>.
    /// Format: magic, then frames (u32 key length, key, u32 value length, value), then an end frame
    /// (key length 0xFFFFFFFF), the number of pairs (u64) and the CRC-32C of everything before it.
    /// </summary>
    public void WriteSnapshot(Stream output, byte[]? lower = null, byte[]? upper = null)
    {
        (byte[] allLower, byte[] allUpper) = NamespaceKeys.All();
        lower ??= allLower;
        upper ??= allUpper;
        using IKvSnapshot snapshot = _engine.Snapshot();
        using IKvCursor cursor = snapshot.Scan(KvColumn.Data, lower, upper);
        var crc = new Crc32C();
        var header = new byte[4];
        Emit(SnapshotMagic);
        Emit(lower, withLength: true);
        Emit(upper, withLength: true);
        ulong pairs = 0;
        for (cursor.SeekToFirst(); cursor.Valid; cursor.Next())
        {
            Emit(cursor.Key, withLength: true);
            Emit(cursor.Value, withLength: true);
            pairs++;
        }

        BinaryPrimitives.WriteUInt32BigEndian(header, uint.MaxValue);
        Emit(header);
        var trailer = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(trailer, pairs);
        Emit(trailer);
        BinaryPrimitives.WriteUInt32BigEndian(header, crc.Result);
        output.Write(header);

        void Emit(ReadOnlySpan<byte> bytes, bool withLength = false)
        {
            if (withLength)
            {
                BinaryPrimitives.WriteUInt32BigEndian(header, (uint)bytes.Length);
                crc.Append(header);
                output.Write(header);
            }

            crc.Append(bytes);
            output.Write(bytes);
        }
    }

    /// <summary>
    /// Replaces the snapshot's key range with the snapshot's contents, atomically: the whole stream is read
    /// and verified before anything is written, so a corrupt or truncated snapshot changes nothing.
    /// </summary>
    public void RestoreSnapshot(Stream input)
    {
        var crc = new Crc32C();
        byte[] magic = Read(SnapshotMagic.Length);
        if (!magic.AsSpan().SequenceEqual(SnapshotMagic))
        {
            throw new CorruptionException("not a namespace snapshot (bad magic)");
        }

        byte[] lower = ReadFramed() ?? throw new CorruptionException("snapshot has no range");
        byte[] upper = ReadFramed() ?? throw new CorruptionException("snapshot has no range");
        using IKvWriteBatch batch = _engine.CreateBatch();
        batch.DeleteRange(KvColumn.Data, lower, upper);
        ulong pairs = 0;
        while (ReadFramed() is { } key)
        {
            byte[] value = ReadFramed() ?? throw new CorruptionException("snapshot ends inside a pair");
            if (KeyOrder.Compare(key, lower) < 0 || KeyOrder.Compare(key, upper) >= 0)
            {
                throw new CorruptionException($"snapshot key {Convert.ToHexString(key)} is outside its range");
            }

            batch.Put(KvColumn.Data, key, value);
            pairs++;
        }

        byte[] count = Read(8);
        uint expected = crc.Result;
        byte[] stored = Read(4);
        if (BinaryPrimitives.ReadUInt64BigEndian(count) != pairs)
        {
            throw new CorruptionException($"snapshot holds {pairs} pairs but says {BinaryPrimitives.ReadUInt64BigEndian(count)}");
        }

        if (BinaryPrimitives.ReadUInt32BigEndian(stored) != expected)
        {
            throw new CorruptionException(
                $"snapshot checksum mismatch: stored {BinaryPrimitives.ReadUInt32BigEndian(stored):X8}, computed {expected:X8}");
        }

        _rows.Clear();
        _engine.Write(batch, sync: true);
        ReloadMeta();

        byte[] Read(int length)
        {
            var buffer = new byte[length];
            try
            {
                input.ReadExactly(buffer);
            }
            catch (EndOfStreamException)
            {
                throw new CorruptionException("snapshot is truncated");
            }

            crc.Append(buffer);
            return buffer;
        }

        byte[]? ReadFramed()
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(Read(4));
            if (length == uint.MaxValue)
            {
                return null;
            }

            return length > 64 * 1024 * 1024
                ? throw new CorruptionException($"snapshot frame of {length} bytes is implausible")
                : Read((int)length);
        }
    }
}
