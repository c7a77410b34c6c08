namespace Strata.Replication;

/// <summary>
/// Moves frames (encoded <see cref="NodeMessageBatch"/>es) between the stores of different nodes: one logical channel
/// per node pair. The real TCP transport is a later piece; <see cref="InMemoryNetwork"/> is the in-process one.
/// </summary>
/// <remarks>
/// <para>Frames may be lost, duplicated or delayed (Raft tolerates all three); a transport never delivers a damaged
/// frame as intact — the frame's CRC catches that at the receiver anyway.</para>
/// <para>A frame handed to <see cref="Send"/> is immutable: the store never modifies it afterwards, so the transport
/// may keep the reference (and the store may send the same array again, e.g. its cached liveness beat).</para>
/// <para><b>Concurrency:</b> the store calls both methods from its drive loop only.</para>
/// </remarks>
public interface ITransport
{
    /// <summary>The node this endpoint belongs to.</summary>
    ulong LocalNode { get; }

    /// <summary>Queues <paramref name="frame"/> for <paramref name="destinationNode"/>. Returns false when the
    /// destination is known to be unreachable (the frame is dropped): the store then reports the groups' followers
    /// there as unreachable so their leaders stop pipelining to them.</summary>
    bool Send(ulong destinationNode, byte[] frame);

    /// <summary>Takes the next frame received from any node, if one is waiting.</summary>
    bool TryReceive(out ReadOnlyMemory<byte> frame);
}

/// <summary>
/// A transport whose peers can change while it runs (nodes join and leave the cluster). Hosts that learn the cluster's
/// membership (Strata.Cluster, from its meta shard) keep it up to date.
/// </summary>
/// <remarks><b>Concurrency:</b> thread-safe.</remarks>
public interface IPeerDirectory
{
    /// <summary>Adds <paramref name="nodeId"/> at <paramref name="hostAndPort"/>, or moves it there.</summary>
    void SetPeer(ulong nodeId, string hostAndPort);

    /// <summary>Forgets <paramref name="nodeId"/>: frames for it are dropped from now on.</summary>
    void RemovePeer(ulong nodeId);
}

/// <summary>
/// A transport that measures how fast each peer's node clock runs relative to this node's (from clock readings the
/// peers send along). A leader's lease counts on its clock running no slower than the clocks of the voters that could
/// elect a new leader (within the lease's drift margin); this is how the host checks it.
/// </summary>
/// <remarks><b>Concurrency:</b> thread-safe.</remarks>
public interface IPeerClocks
{
    /// <summary>
    /// How much faster <paramref name="nodeId"/>'s clock ran than this node's over about the last
    /// <paramref name="span"/> (1: the same rate; 2: twice as fast); null when there are no readings that far apart.
    /// </summary>
    double? RelativeRate(ulong nodeId, TimeSpan span);
}
