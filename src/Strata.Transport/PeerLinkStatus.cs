namespace Strata.Transport;

/// <summary>State of the link to one peer.</summary>
public enum LinkState
{
    /// <summary>Not connected yet and not known to be down: frames are queued for the first connection.</summary>
    Connecting,

    /// <summary>A connection is established: frames are queued and written.</summary>
    Connected,

    /// <summary>The connection was lost or the last dial attempt failed: frames are dropped and
    /// <see cref="TcpTransport.Send"/> returns false until a connection is established again.</summary>
    Unreachable,
}

/// <summary>A point-in-time view of the link to one peer (for <c>strata cluster status</c>).</summary>
/// <param name="NodeId">The peer.</param>
/// <param name="Address">Its <c>host:port</c>, if known (a peer that dials us may have none).</param>
/// <param name="State">See <see cref="LinkState"/>.</param>
/// <param name="Since">When the link entered <paramref name="State"/>.</param>
/// <param name="FramesOut">Frames written to the connection (a frame counts once it is fully written).</param>
/// <param name="BytesOut">Frame bytes written (payload, not record framing).</param>
/// <param name="FramesIn">Frames received and queued for delivery.</param>
/// <param name="BytesIn">Frame bytes received.</param>
/// <param name="Connections">Connections established over the link's life.</param>
/// <param name="Reconnects">Connections established after the first one (including replacements).</param>
/// <param name="DroppedQueueFull">Frames refused because the outbound queue was over its byte limit, or larger than
/// the maximum frame size.</param>
/// <param name="DroppedUnreachable">Frames refused while unreachable, plus frames still queued (or a bulk frame
/// partly written) when a connection was lost.</param>
/// <param name="CorruptRecords">Records that failed their checksum or broke the protocol (each closed the
/// connection; nothing of them was delivered).</param>
/// <param name="QueuedBytes">Bytes waiting in the outbound queue now.</param>
/// <param name="LastError">Why the last connection ended or the last attempt failed, if one did.</param>
public sealed record PeerLinkStatus(
    ulong NodeId,
    string? Address,
    LinkState State,
    DateTimeOffset Since,
    long FramesOut,
    long BytesOut,
    long FramesIn,
    long BytesIn,
    long Connections,
    long Reconnects,
    long DroppedQueueFull,
    long DroppedUnreachable,
    long CorruptRecords,
    long QueuedBytes,
    string? LastError)
{
    /// <summary>Whether a connection is established.</summary>
    public bool IsConnected => State == LinkState.Connected;
}
