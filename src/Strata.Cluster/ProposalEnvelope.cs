using System.Buffers.Binary;
using Google.Protobuf;
using Strata.Storage;

namespace Strata.Cluster;

/// <summary>What a Raft entry of a shard carries: a namespace command or a meta command.</summary>
public enum ProposalKind : byte
{
    /// <summary>A <see cref="Namespace.Commands.Command"/> of a namespace shard.</summary>
    Namespace = 1,

    /// <summary>A <see cref="Meta.MetaCommand"/> of the meta shard.</summary>
    Meta = 2,
}

/// <summary>
/// The data of every normal Raft entry Strata proposes: who proposed it (node and a per-node proposal id, so the
/// proposing node can hand the result to the waiting caller when the entry applies) and the command.
/// </summary>
/// <remarks>
/// Layout: <c>u8 version (1) | u8 kind | u64 LE proposer node | u64 LE proposal id | protobuf command</c>. Proposer 0
/// means nobody waits for the result (background commands such as garbage collection). The entry itself is
/// checksummed by the log; decoding still checks every field and refuses what it does not know.
/// </remarks>
public readonly record struct ProposalEnvelope(ProposalKind Kind, ulong Proposer, ulong ProposalId, ReadOnlyMemory<byte> Command)
{
    private const byte Version = 1;
    private const int HeaderLength = 18;

    /// <summary>Encodes <paramref name="command"/> for proposal.</summary>
    public static byte[] Encode(ProposalKind kind, ulong proposer, ulong proposalId, IMessage command)
    {
        int size = command.CalculateSize();
        var buffer = new byte[HeaderLength + size];
        buffer[0] = Version;
        buffer[1] = (byte)kind;
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(2), proposer);
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(10), proposalId);
        command.WriteTo(buffer.AsSpan(HeaderLength));
        return buffer;
    }

    /// <summary>Decodes an entry's data.</summary>
    /// <exception cref="CorruptionException">The data is not an envelope this version understands.</exception>
    public static ProposalEnvelope Decode(ReadOnlyMemory<byte> data)
    {
        ReadOnlySpan<byte> span = data.Span;
        if (span.Length < HeaderLength || span[0] != Version || span[1] is not ((byte)ProposalKind.Namespace or (byte)ProposalKind.Meta))
        {
            throw new CorruptionException($"not a proposal envelope (length {span.Length}, header {Convert.ToHexString(span[..Math.Min(2, span.Length)])})");
        }

        ulong proposer = BinaryPrimitives.ReadUInt64LittleEndian(span[2..]);
        ulong proposalId = BinaryPrimitives.ReadUInt64LittleEndian(span[10..]);
        return new ProposalEnvelope((ProposalKind)span[1], proposer, proposalId, data[HeaderLength..]);
    }
}
