using Strata.Consensus;

namespace Strata.Replication;

/// <summary>
/// Everything one node sends another in one drive-loop step: the messages of every group, for every replica on the
/// destination node. The store sends one batch (one transport frame) per destination node per step, split into
/// several only when its messages exceed <see cref="StoreOptions.MaxFrameBytes"/>.
/// </summary>
/// <remarks>
/// On the wire (<see cref="NodeMessageBatchCodec"/>) heartbeats and heartbeat responses are coalesced: they travel in
/// compact sections of a few bytes per group instead of as full messages, and the receiver expands them back into
/// per-group <see cref="MessageType.Heartbeat"/>/<see cref="MessageType.HeartbeatResponse"/> messages. Together with
/// quiescence (a quiesced group sends no heartbeat at all), one node pair exchanges one frame per tick whatever the
/// number of groups they share. Not thread-safe; the store reuses instances between steps.
/// </remarks>
public sealed class NodeMessageBatch
{
    /// <summary>A batch from <paramref name="sourceNode"/> to <paramref name="destinationNode"/>.</summary>
    public NodeMessageBatch(ulong sourceNode, ulong destinationNode, List<Message>? messages = null)
    {
        SourceNode = sourceNode;
        DestinationNode = destinationNode;
        Messages = messages ?? [];
    }

    /// <summary>The sending node.</summary>
    public ulong SourceNode { get; }

    /// <summary>The node every message is addressed to (replica ids are node ids, see <see cref="Store"/>).</summary>
    public ulong DestinationNode { get; }

    /// <summary>The messages, each addressed by (group, from replica, to replica). An empty batch is a liveness beat.</summary>
    public List<Message> Messages { get; }

    /// <inheritdoc/>
    public override string ToString() => $"n{SourceNode}->n{DestinationNode} ({Messages.Count} messages)";
}

/// <summary>A frame failed its checksum or does not decode. The frame is dropped, never partly delivered.</summary>
public sealed class CorruptFrameException(string message) : Exception(message);
