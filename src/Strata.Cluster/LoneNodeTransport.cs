using Strata.Replication;

namespace Strata.Cluster;

/// <summary>
/// The transport of a cluster of one node: there is nobody to talk to, so nothing is ever sent or received. The
/// embedded single-node default runs on it (every shard's only voter is this node).
/// </summary>
public sealed class LoneNodeTransport(ulong nodeId) : ITransport
{
    public ulong LocalNode { get; } = nodeId;

    public bool Send(ulong destinationNode, byte[] frame) => false;

    public bool TryReceive(out ReadOnlyMemory<byte> frame)
    {
        frame = default;
        return false;
    }
}
