using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Strata.Transport;

/// <summary>Parameters of a <see cref="TcpTransport"/>.</summary>
/// <remarks>
/// Every node of a cluster must use the same <see cref="ClusterId"/>. The other values may differ between nodes,
/// except that a receiver refuses frames above its own <see cref="MaxFrameSize"/>, so keep that one equal too.
/// </remarks>
public sealed record TcpTransportOptions
{
    /// <summary>Largest <see cref="BulkThreshold"/> and <see cref="BulkChunkSize"/> allowed: one wire record never
    /// carries more than this plus a few bytes of header, which bounds what a receiver buffers for one record.</summary>
    public const int MaxRecordData = 1 << 20;

    /// <summary>This node's id; never 0.</summary>
    public required ulong LocalNodeId { get; init; }

    /// <summary>Identifies the cluster (1 to 255 UTF-8 bytes). Nodes whose cluster ids differ never exchange frames:
    /// the handshake refuses the connection.</summary>
    public required string ClusterId { get; init; }

    /// <summary>Where to listen; port 0 picks a free port (see <see cref="TcpTransport.ListenEndPoint"/>).</summary>
    public IPEndPoint ListenEndPoint { get; init; } = new(IPAddress.Loopback, 0);

    /// <summary>The known peers at start: node id to <c>host:port</c> (IPv6 literals in brackets). More can be added
    /// with <see cref="TcpTransport.SetPeer"/>. The address of a peer with a lower id than this node is informational
    /// (that peer dials us).</summary>
    public IReadOnlyDictionary<ulong, string> Peers { get; init; } = new Dictionary<ulong, string>();

    /// <summary>Accept a dialing node that is not in the peer list (it then appears in
    /// <see cref="TcpTransport.Links"/>). Off by default: an unknown node is refused.</summary>
    public bool AcceptUnknownPeers { get; init; }

    /// <summary>Largest frame sent or accepted. A larger frame is dropped by <see cref="TcpTransport.Send"/>; a peer
    /// announcing one is cut off (a garbage length must not make us allocate gigabytes).</summary>
    public int MaxFrameSize { get; init; } = 64 << 20;

    /// <summary>Frames larger than this go to the bulk lane: chunked and throttled so they never hold up small
    /// frames for more than one chunk. At most <see cref="MaxRecordData"/>.</summary>
    public int BulkThreshold { get; init; } = 64 << 10;

    /// <summary>Size of one bulk chunk on the wire. At most <see cref="MaxRecordData"/>.</summary>
    public int BulkChunkSize { get; init; } = 64 << 10;

    /// <summary>Rate limit of the bulk lane per peer, in bytes per second (a token bucket holding one chunk);
    /// null for no limit.</summary>
    public long? BulkBytesPerSecond { get; init; } = 64L << 20;

    /// <summary>Bytes that may wait in one peer's outbound queue (both lanes). When a frame would exceed it,
    /// <see cref="TcpTransport.Send"/> drops the frame and returns false. One frame is always accepted into an empty
    /// queue, whatever its size.</summary>
    public long OutboundQueueLimit { get; init; } = 32L << 20;

    /// <summary>Bytes of received frames waiting for <see cref="TcpTransport.TryReceive"/>, over all peers, above
    /// which the transport stops reading sockets (TCP flow control then slows the senders) until the drive loop
    /// catches up.</summary>
    public long InboundQueueLimit { get; init; } = 128L << 20;

    /// <summary>First delay before redialing a peer after a failed attempt or a lost connection.</summary>
    public TimeSpan ReconnectInitialBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Largest delay between dial attempts (the delay doubles per consecutive failure up to this).</summary>
    public TimeSpan ReconnectMaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Fraction (0 to 1) of each backoff delay that is randomized, so nodes that lost a peer together do
    /// not redial in lockstep.</summary>
    public double ReconnectJitter { get; init; } = 0.5;

    /// <summary>Time allowed to establish a TCP connection.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Time allowed for the handshake on a new connection (either side).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A connection that has written nothing for this long writes a keepalive record, so the peer's
    /// <see cref="IdleTimeout"/> only fires on a connection that is really dead.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Every connection also writes a keepalive carrying a reading of <see cref="NodeClock"/> this often, busy or not:
    /// the peer measures from them how fast this node's clock runs relative to its own (<see cref="TcpTransport.RelativeRate"/>).
    /// </summary>
    public TimeSpan ClockReadingInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Clock readings further apart than this many <see cref="ClockReadingInterval"/>s, on either node's clock, break
    /// the measurement: the peer's rate is measured afresh from the next reading (see <see cref="TcpTransport.RelativeRate"/>).
    /// </summary>
    public const int ClockReadingGap = 5;

    /// <summary>
    /// The node's clock — the one its Raft ticks and leases count in — read into keepalives and when they arrive. Its
    /// timestamps must count in Stopwatch ticks. Default: the system's. (<see cref="TimeProvider"/> times the transport's
    /// own timers.)
    /// </summary>
    public TimeProvider NodeClock { get; init; } = TimeProvider.System;

    /// <summary>
    /// A connection that has received nothing (not even a keepalive) for this long is closed, and the dialing side
    /// redials. Without it a connection whose packets were dropped (a partition, a pulled cable) stays open on a TCP
    /// retransmission timer that backs off for minutes, and the link stays dead long after the network heals.
    /// <see cref="Timeout.InfiniteTimeSpan"/> disables it. Must exceed twice <see cref="KeepAliveInterval"/>.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>Seed of the backoff jitter; by default derived from <see cref="LocalNodeId"/>.</summary>
    public int? JitterSeed { get; init; }

    /// <summary>Invoked from an I/O thread each time a frame is queued for <see cref="TcpTransport.TryReceive"/>, so
    /// the drive loop can wake at once instead of polling. Must be cheap and must not block or call back into the
    /// transport's receive path (setting a signal is the intended use). Exceptions are logged and ignored.</summary>
    public Action? FrameArrived { get; init; }

    /// <summary>Clock for link timestamps and the bulk throttle.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where connection events and protocol violations are logged.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        Require(LocalNodeId != 0, nameof(LocalNodeId), "must not be 0");
        ArgumentNullException.ThrowIfNull(ClusterId);
        var clusterBytes = Encoding.UTF8.GetByteCount(ClusterId);
        Require(clusterBytes is > 0 and <= 255, nameof(ClusterId), "must be 1 to 255 UTF-8 bytes");
        ArgumentNullException.ThrowIfNull(ListenEndPoint);
        ArgumentNullException.ThrowIfNull(Peers);
        Require(!Peers.ContainsKey(LocalNodeId), nameof(Peers), "must not contain the local node");
        Require(!Peers.ContainsKey(0), nameof(Peers), "node id 0 is not valid");
        foreach (var address in Peers.Values)
        {
            PeerAddress.Parse(address);
        }

        Require(MaxFrameSize > 0, nameof(MaxFrameSize), "must be positive");
        Require(BulkThreshold is > 0 and <= MaxRecordData, nameof(BulkThreshold), $"must be 1 to {MaxRecordData}");
        Require(BulkChunkSize is >= 1024 and <= MaxRecordData, nameof(BulkChunkSize), $"must be 1024 to {MaxRecordData}");
        Require(BulkBytesPerSecond is null or > 0, nameof(BulkBytesPerSecond), "must be positive or null");
        Require(OutboundQueueLimit > 0, nameof(OutboundQueueLimit), "must be positive");
        Require(InboundQueueLimit > 0, nameof(InboundQueueLimit), "must be positive");
        Require(ReconnectInitialBackoff > TimeSpan.Zero, nameof(ReconnectInitialBackoff), "must be positive");
        Require(ReconnectMaxBackoff >= ReconnectInitialBackoff, nameof(ReconnectMaxBackoff), "must be at least the initial backoff");
        Require(ReconnectJitter is >= 0 and <= 1, nameof(ReconnectJitter), "must be between 0 and 1");
        Require(ConnectTimeout > TimeSpan.Zero, nameof(ConnectTimeout), "must be positive");
        Require(HandshakeTimeout > TimeSpan.Zero, nameof(HandshakeTimeout), "must be positive");
        Require(KeepAliveInterval > TimeSpan.Zero, nameof(KeepAliveInterval), "must be positive");
        Require(ClockReadingInterval > TimeSpan.Zero, nameof(ClockReadingInterval), "must be positive");
        Require(IdleTimeout == Timeout.InfiniteTimeSpan || IdleTimeout > KeepAliveInterval * 2, nameof(IdleTimeout),
            "must exceed twice the keepalive interval, or be infinite");
        ArgumentNullException.ThrowIfNull(TimeProvider);
        ArgumentNullException.ThrowIfNull(Logger);
    }

    private static void Require(bool condition, string name, string message)
    {
        if (!condition)
        {
            throw new ArgumentException($"{name} {message}", name);
        }
    }
}
