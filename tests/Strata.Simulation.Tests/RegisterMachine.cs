using System.Buffers.Binary;

namespace Strata.Simulation.Tests;

/// <summary>Operations of the replicated register map.</summary>
internal enum RegisterOp : byte
{
    Read,
    Write,
    Cas,
}

/// <summary>A client command as carried in a Raft entry: (client, sequence) makes retries idempotent.</summary>
internal readonly record struct RegisterCommand(int Client, long Sequence, RegisterOp Op, int Key, long Value, long Expected)
{
    public const int Size = 4 + 8 + 1 + 4 + 8 + 8;

    public byte[] Encode()
    {
        var b = new byte[Size];
        BinaryPrimitives.WriteInt32LittleEndian(b, Client);
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(4), Sequence);
        b[12] = (byte)Op;
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(13), Key);
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(17), Value);
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(25), Expected);
        return b;
    }

    public static RegisterCommand Decode(ReadOnlySpan<byte> b) => new(
        BinaryPrimitives.ReadInt32LittleEndian(b),
        BinaryPrimitives.ReadInt64LittleEndian(b[4..]),
        (RegisterOp)b[12],
        BinaryPrimitives.ReadInt32LittleEndian(b[13..]),
        BinaryPrimitives.ReadInt64LittleEndian(b[17..]),
        BinaryPrimitives.ReadInt64LittleEndian(b[25..]));
}

/// <summary>
/// The replicated state machine of the simulation: registers (absent until first written) with write and
/// compare-and-set, and a per-client table of the last applied sequence and its result, so a retried command applies
/// once and returns its first outcome.
/// </summary>
internal sealed class RegisterMachine
{
    private readonly SortedDictionary<int, long> _registers = [];
    private readonly SortedDictionary<int, (long Sequence, bool Result)> _sessions = [];

    public long? Get(int key) => _registers.TryGetValue(key, out var v) ? v : null;

    /// <summary>The cached outcome when (client, sequence) was already applied.</summary>
    public bool? AppliedResult(int client, long sequence) =>
        _sessions.TryGetValue(client, out var s) && s.Sequence == sequence ? s.Result : null;

    /// <summary>Applies a command (once); returns whether it succeeded (a write always does).</summary>
    public bool Apply(RegisterCommand c)
    {
        if (_sessions.TryGetValue(c.Client, out var s) && s.Sequence >= c.Sequence)
        {
            return s.Sequence == c.Sequence && s.Result; // a duplicate: same outcome as the first time
        }

        var ok = true;
        if (c.Op == RegisterOp.Write)
        {
            _registers[c.Key] = c.Value;
        }
        else if (c.Op == RegisterOp.Cas)
        {
            ok = _registers.TryGetValue(c.Key, out var current) && current == c.Expected;
            if (ok)
            {
                _registers[c.Key] = c.Value;
            }
        }

        _sessions[c.Client] = (c.Sequence, ok);
        return ok;
    }

    public byte[] Serialize()
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        w.Write(_registers.Count);
        foreach (var (k, v) in _registers)
        {
            w.Write(k);
            w.Write(v);
        }

        w.Write(_sessions.Count);
        foreach (var (k, (seq, ok)) in _sessions)
        {
            w.Write(k);
            w.Write(seq);
            w.Write(ok);
        }

        return ms.ToArray();
    }

    public static RegisterMachine Deserialize(ReadOnlyMemory<byte> data)
    {
        var m = new RegisterMachine();
        if (data.IsEmpty)
        {
            return m;
        }

        using var r = new BinaryReader(new MemoryStream(data.ToArray()));
        var n = r.ReadInt32();
        for (var i = 0; i < n; i++)
        {
            m._registers[r.ReadInt32()] = r.ReadInt64();
        }

        n = r.ReadInt32();
        for (var i = 0; i < n; i++)
        {
            m._sessions[r.ReadInt32()] = (r.ReadInt64(), r.ReadBoolean());
        }

        return m;
    }
}
