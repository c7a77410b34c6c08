using System.Buffers.Binary;

namespace Strata.Consensus;

/// <summary>One membership operation.</summary>
public enum ConfChangeType : byte
{
    /// <summary>Add a voter, or promote a learner to voter.</summary>
    AddVoter = 0,

    /// <summary>Add a learner, or demote a voter to learner.</summary>
    AddLearner = 1,

    /// <summary>Remove a replica whatever its role.</summary>
    Remove = 2,
}

/// <summary>How a change that needs a joint configuration is left.</summary>
public enum ConfChangeTransition : byte
{
    /// <summary>A single voter change is applied directly; anything larger goes through a joint configuration left automatically.</summary>
    Auto = 0,

    /// <summary>Always use a joint configuration; the leader leaves it automatically once it is applied.</summary>
    JointImplicit = 1,

    /// <summary>Always use a joint configuration and stay in it until an empty <see cref="ConfChange"/> is proposed.</summary>
    JointExplicit = 2,
}

/// <summary>A single (replica, operation) pair of a <see cref="ConfChange"/>.</summary>
public readonly record struct ConfChangeSingle(ConfChangeType Type, ulong NodeId);

/// <summary>
/// A membership change proposed with <see cref="RaftNode.ProposeConfChange"/>. An empty change
/// (no <see cref="Changes"/>) leaves the current joint configuration.
/// </summary>
public sealed record ConfChange(ConfChangeTransition Transition, IReadOnlyList<ConfChangeSingle> Changes)
{
    /// <summary>The change that leaves a joint configuration.</summary>
    public static ConfChange LeaveJoint { get; } = new(ConfChangeTransition.Auto, []);

    /// <summary>Adds a voter (or promotes a learner) with the simple one-step protocol.</summary>
    public static ConfChange AddVoter(ulong id) => new(ConfChangeTransition.Auto, [new(ConfChangeType.AddVoter, id)]);

    /// <summary>Adds a learner.</summary>
    public static ConfChange AddLearner(ulong id) => new(ConfChangeTransition.Auto, [new(ConfChangeType.AddLearner, id)]);

    /// <summary>Removes a replica.</summary>
    public static ConfChange Remove(ulong id) => new(ConfChangeTransition.Auto, [new(ConfChangeType.Remove, id)]);

    /// <summary>True for the empty change that leaves a joint configuration.</summary>
    public bool IsLeaveJoint => Changes.Count == 0;

    /// <summary>Whether applying this change enters a joint configuration, and if so whether it is left automatically.</summary>
    public bool EntersJoint(out bool autoLeave)
    {
        autoLeave = Transition != ConfChangeTransition.JointExplicit;
        return !IsLeaveJoint && (Transition != ConfChangeTransition.Auto || Changes.Count > 1);
    }

    /// <summary>Deterministic binary form: transition byte, count (u16), then (type byte, id u64) pairs.</summary>
    public byte[] Encode()
    {
        var buffer = new byte[3 + (9 * Changes.Count)];
        buffer[0] = (byte)Transition;
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(1), checked((ushort)Changes.Count));
        for (var i = 0; i < Changes.Count; i++)
        {
            buffer[3 + (9 * i)] = (byte)Changes[i].Type;
            BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(4 + (9 * i)), Changes[i].NodeId);
        }

        return buffer;
    }

    /// <summary>Inverse of <see cref="Encode"/>; throws <see cref="FormatException"/> on malformed input.</summary>
    public static ConfChange Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 3)
        {
            throw new FormatException("conf change too short");
        }

        var count = BinaryPrimitives.ReadUInt16LittleEndian(data[1..]);
        if (data.Length != 3 + (9 * count) || data[0] > (byte)ConfChangeTransition.JointExplicit)
        {
            throw new FormatException("malformed conf change");
        }

        var changes = new ConfChangeSingle[count];
        for (var i = 0; i < count; i++)
        {
            var type = data[3 + (9 * i)];
            if (type > (byte)ConfChangeType.Remove)
            {
                throw new FormatException("unknown conf change type");
            }

            changes[i] = new((ConfChangeType)type, BinaryPrimitives.ReadUInt64LittleEndian(data[(4 + (9 * i))..]));
        }

        return new((ConfChangeTransition)data[0], changes);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        IsLeaveJoint ? "leave-joint" : $"{Transition}:{string.Join(',', Changes.Select(c => $"{c.Type}({c.NodeId})"))}";
}
