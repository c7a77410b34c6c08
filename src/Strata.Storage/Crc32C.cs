using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Strata.Storage;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of iSCSI, ext4, RocksDB and LevelDB, with a
/// CPU instruction on x64 (SSE4.2) and Arm64 (CRC32) and a table fallback elsewhere.
/// </summary>
/// <remarks>
/// Static <see cref="Compute(ReadOnlySpan{byte})"/>/<see cref="Append(uint, ReadOnlySpan{byte})"/> for one-shot and
/// chained use; an instance accumulates a stream (<see cref="Append(ReadOnlySpan{byte})"/> then
/// <see cref="Result"/>). Instances are not thread-safe. Check value: "123456789" gives 0xE3069283.
/// </remarks>
public sealed class Crc32C
{
    private static readonly uint[] Table = BuildTable();

    // The running (pre-inverted) CRC register.
    private uint _state = uint.MaxValue;

    /// <summary>The CRC-32C of everything appended so far (of nothing: 0).</summary>
    public uint Result => ~_state;

    /// <summary>Feeds <paramref name="data"/> to the running checksum.</summary>
    public void Append(ReadOnlySpan<byte> data) => _state = Update(_state, data);

    /// <summary>Starts over, as if newly created.</summary>
    public void Reset() => _state = uint.MaxValue;

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(uint.MaxValue, data);

    /// <summary>
    /// The CRC-32C of the concatenation of the bytes whose CRC-32C is <paramref name="crc"/> and
    /// <paramref name="data"/>: <c>Append(Compute(a), b) == Compute(a + b)</c>.
    /// </summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data) => ~Update(~crc, data);

    /// <summary>Advances a raw (pre-inverted) CRC register over <paramref name="data"/>.</summary>
    private static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        if (Sse42.X64.IsSupported)
        {
            ulong wide = state;
            while (data.Length >= 8)
            {
                wide = Sse42.X64.Crc32(wide, BinaryPrimitives.ReadUInt64LittleEndian(data));
                data = data[8..];
            }

            state = (uint)wide;
            foreach (var b in data)
            {
                state = Sse42.Crc32(state, b);
            }

            return state;
        }

        if (Crc32.Arm64.IsSupported)
        {
            while (data.Length >= 8)
            {
                state = Crc32.Arm64.ComputeCrc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
                data = data[8..];
            }

            foreach (var b in data)
            {
                state = Crc32.ComputeCrc32C(state, b);
            }

            return state;
        }

        return UpdateWithTable(state, data);
    }

    /// <summary>The portable path, one table lookup per byte. Internal so tests can compare it with the hardware.</summary>
    internal static uint UpdateWithTable(uint state, ReadOnlySpan<byte> data)
    {
        foreach (var b in data)
        {
            state = Table[(byte)(state ^ b)] ^ (state >> 8);
        }

        return state;
    }

    /// <summary>The table path as a one-shot checksum, for tests.</summary>
    internal static uint ComputeWithTable(ReadOnlySpan<byte> data) => ~UpdateWithTable(uint.MaxValue, data);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static uint[] BuildTable()
    {
        const uint Polynomial = 0x82F63B78;
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var crc = i;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ Polynomial : crc >> 1;
            }

            table[i] = crc;
        }

        return table;
    }
}
