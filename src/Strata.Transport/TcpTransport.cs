using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Strata.Replication;

namespace Strata.Transport;

/// <summary>
/// The node-to-node transport over TCP: carries the store's frames (see <see cref="NodeMessageBatchCodec"/>) between
/// node processes, one connection per node pair.
/// </summary>
/// <remarks>
/// <para><b>Connections.</b> Exactly one TCP connection per node pair carries both directions. <b>The node with the
/// lower id dials; the node with the higher id accepts.</b> The dialer opens with a handshake (magic, protocol
/// version, cluster id, its own id and the id it expects to reach); the acceptor refuses — with a reason, logged on
/// both sides — a different cluster, version or target id, a dialer with a higher id than its own, and a dialer that
/// is not a known peer (unless <see cref="TcpTransportOptions.AcceptUnknownPeers"/>); otherwise it answers with its id.
/// A new connection for a pair replaces the old one, which is closed.</para>
/// <para><b>Wire.</b> Every byte is part of a checksummed record (see <see cref="WireRecord"/>); a damaged record,
/// an oversize length or any protocol violation closes the connection, is counted and logged, and nothing of it is
/// delivered. Frames up to <see cref="TcpTransportOptions.BulkThreshold"/> travel as one record; larger frames go to
/// a per-peer bulk lane, cut into chunks of <see cref="TcpTransportOptions.BulkChunkSize"/> and rate-limited by
/// <see cref="TcpTransportOptions.BulkBytesPerSecond"/>; the writer sends all queued small frames before each chunk,
/// so snapshots never starve live traffic. The receiver reassembles and delivers a bulk frame whole. Frames of one
/// lane arrive in the order sent; a small frame may overtake a bulk frame sent before it.</para>
/// <para><b>Failures.</b> When a connection is lost, or a dial attempt fails, the peer becomes unreachable: queued
/// frames are dropped (counted) and <see cref="Send"/> returns false until a connection is established again. The
/// dialer redials with exponential backoff and jitter, forever, so a restarted peer (same id, same address) is
/// reconnected without help. Raft tolerates the loss.</para>
/// <para><b>Concurrency and the caller's duties.</b> <see cref="Send"/> and <see cref="TryReceive"/> are meant for
/// the store's drive loop (one thread); they never block and do no I/O. <see cref="SetPeer"/>,
/// <see cref="RemovePeer"/>, <see cref="Links"/> and <see cref="DisposeAsync"/> may be called from any thread. The
/// I/O runs on thread-pool threads; background loops never throw (errors are logged and shown in
/// <see cref="Links"/>). Call <see cref="DisposeAsync"/> to close the listener and every connection.</para>
/// </remarks>
public sealed partial class TcpTransport : ITransport, IPeerDirectory, IPeerClocks, IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly ConcurrentDictionary<ulong, PeerLink> _links = new();
    private readonly object _peersLock = new();
    private readonly ConcurrentQueue<byte[]> _inbound = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Task, byte> _background = new();
    private readonly Random _jitter;
    private long _inboundBytes;
    private TaskCompletionSource? _inboundSpace;
    private long _acceptedConnections;
    private long _framesToUnknownPeers;
    private int _disposed;

    private TcpTransport(TcpTransportOptions options, Socket listener)
    {
        Options = options;
        Logger = options.Logger;
        _listener = listener;
        ListenEndPoint = (IPEndPoint)listener.LocalEndPoint!;
        _jitter = new Random(options.JitterSeed ?? unchecked((int)options.LocalNodeId * 7919));
    }

    /// <summary>
    /// Binds the listener (port 0 picks a free one: see <see cref="ListenEndPoint"/>) and starts dialing every known
    /// peer with a higher id than this node.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    /// <exception cref="SocketException">The listen address cannot be bound.</exception>
    public static Task<TcpTransport> StartAsync(TcpTransportOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        var listener = new Socket(options.ListenEndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // A restarted node must be able to bind its port while connections of its previous life sit in TIME_WAIT.
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            if (options.ListenEndPoint.Address.Equals(IPAddress.IPv6Any))
            {
                listener.DualMode = true; // [::] serves IPv4 peers too
            }

            listener.Bind(options.ListenEndPoint);
            listener.Listen(512);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        var transport = new TcpTransport(options, listener);
        TransportLog.Listening(transport.Logger, options.LocalNodeId, transport.ListenEndPoint);
        transport.Track(transport.AcceptLoopAsync(transport._stop.Token));
        foreach (var (node, address) in options.Peers)
        {
            transport.SetPeer(node, address);
        }

        return Task.FromResult(transport);
    }

    /// <summary>The transport's parameters.</summary>
    public TcpTransportOptions Options { get; }

    /// <inheritdoc/>
    public ulong LocalNode => Options.LocalNodeId;

    /// <summary>The address the listener is bound to (with the port chosen when the options said 0).</summary>
    public IPEndPoint ListenEndPoint { get; }

    /// <summary>Sockets accepted by the listener so far (whether or not their handshake succeeded).</summary>
    public long AcceptedConnections => Interlocked.Read(ref _acceptedConnections);

    /// <summary>Frames given to <see cref="Send"/> for a node that is not a peer (dropped).</summary>
    public long FramesToUnknownPeers => Interlocked.Read(ref _framesToUnknownPeers);

    /// <summary>A snapshot of every peer link, ordered by node id.</summary>
    public IReadOnlyList<PeerLinkStatus> Links => [.. _links.Values.Select(l => l.Status()).OrderBy(s => s.NodeId)];

    internal ILogger Logger { get; }

    /// <summary>The status of the link to <paramref name="nodeId"/>, or null when it is not a peer.</summary>
    public PeerLinkStatus? LinkTo(ulong nodeId) => _links.TryGetValue(nodeId, out var link) ? link.Status() : null;

    /// <inheritdoc/>
    /// <remarks>From the clock readings in the peer's keepalives on the current connection (one every
    /// <see cref="TcpTransportOptions.ClockReadingInterval"/>), paired with <see cref="TcpTransportOptions.NodeClock"/>
    /// when each arrived; delays on the way make short spans noisy. Only an unbroken run of readings is measured: after
    /// <see cref="TcpTransportOptions.ClockReadingGap"/> reading intervals without one (on either clock), or when the
    /// newest is that old, the rate is unknown (null) until the span is covered again.</remarks>
    public double? RelativeRate(ulong nodeId, TimeSpan span) =>
        _links.TryGetValue(nodeId, out var link)
            ? link.Clock.Rate((long)(span.TotalSeconds * 1e9), PeerConnection.ClockNanos(Options.NodeClock))
            : null;

    /// <summary>
    /// Adds a peer or changes its address (a node joining or moving). For a peer with a higher id this node dials
    /// it (at once for a new peer; a connection to the old address is closed and redialed at the new one). For a peer
    /// with a lower id the address is only recorded: that peer dials this node.
    /// </summary>
    /// <exception cref="ArgumentException">Node 0, the local node, or an address that is not <c>host:port</c>.</exception>
    public void SetPeer(ulong nodeId, string hostAndPort)
    {
        if (nodeId == 0 || nodeId == LocalNode)
        {
            throw new ArgumentException($"node {nodeId} cannot be a peer of node {LocalNode}", nameof(nodeId));
        }

        PeerAddress.Parse(hostAndPort);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        lock (_peersLock)
        {
            if (_links.TryGetValue(nodeId, out var existing))
            {
                // Only a connection we dialed went to the old address; a lower-id peer's own connection stays.
                var dialed = nodeId > LocalNode;
                var old = existing.SetAddress(hostAndPort, detachConnection: dialed, out var previous);
                if (previous == hostAndPort)
                {
                    return;
                }

                TransportLog.PeerMoved(Logger, nodeId, previous, hostAndPort);
                old?.Abort("peer address changed");
                if (dialed)
                {
                    existing.AddressChanged.Set(); // cut the dial loop's backoff short
                }

                return;
            }

            var link = new PeerLink(nodeId, hostAndPort, Options);
            _links[nodeId] = link;
            if (nodeId > LocalNode)
            {
                Track(DialLoopAsync(link));
            }
        }
    }

    /// <summary>Forgets a peer: closes its connection, stops dialing it and drops what is queued for it. Frames sent to
    /// it afterwards are refused; a connection from it is refused unless unknown peers are accepted.</summary>
    public void RemovePeer(ulong nodeId)
    {
        PeerLink? link;
        lock (_peersLock)
        {
            if (!_links.TryRemove(nodeId, out link))
            {
                return;
            }
        }

        link.Lifetime.Cancel();
        link.Close("peer removed")?.Abort("peer removed");
    }

    /// <summary>
    /// Queues <paramref name="frame"/> for <paramref name="destinationNode"/> without blocking. Returns false, dropping
    /// the frame (counted in <see cref="Links"/>), when the node is not a peer, the frame exceeds
    /// <see cref="TcpTransportOptions.MaxFrameSize"/>, the peer is unreachable (disconnected and being redialed), or
    /// its outbound queue is over <see cref="TcpTransportOptions.OutboundQueueLimit"/> (backpressure).
    /// </summary>
    /// <remarks>The transport keeps a reference to <paramref name="frame"/> until it is written: the caller must not
    /// modify it (the store never does).</remarks>
    public bool Send(ulong destinationNode, byte[] frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (!_links.TryGetValue(destinationNode, out var link))
        {
            Interlocked.Increment(ref _framesToUnknownPeers);
            return false;
        }

        if (frame.Length > Options.MaxFrameSize)
        {
            link.CountRefused();
            TransportLog.FrameTooLarge(Logger, destinationNode, frame.Length, Options.MaxFrameSize);
            return false;
        }

        return link.Send(frame);
    }

    /// <summary>Takes the next received frame (from any peer), if one is waiting. Frames from one peer come in the
    /// order that peer's writer sent them (see the remarks on lanes). Never blocks.</summary>
    public bool TryReceive(out ReadOnlyMemory<byte> frame)
    {
        if (!_inbound.TryDequeue(out var bytes))
        {
            frame = default;
            return false;
        }

        var left = Interlocked.Add(ref _inboundBytes, -bytes.Length);
        if (left <= Options.InboundQueueLimit && Volatile.Read(ref _inboundSpace) is not null)
        {
            ReleaseInboundSpace();
        }

        frame = bytes;
        return true;
    }

    /// <summary>Closes the listener and every connection and waits for the background loops to end. Never throws;
    /// idempotent. Afterwards <see cref="Send"/> returns false.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        foreach (var link in _links.Values)
        {
            await link.Lifetime.CancelAsync().ConfigureAwait(false);
            link.Close("transport disposed")?.Abort("transport disposed");
        }

        ReleaseInboundSpace();
        while (!_background.IsEmpty)
        {
            try
            {
                // The loops are written never to fault; WhenAll is the way to wait for all of them.
                await Task.WhenAll(_background.Keys).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                TransportLog.UnexpectedError(Logger, 0, e);
            }
        }

        // The cancellation sources are not disposed: they own no timer, and a late SetPeer, RemovePeer or Send from
        // another thread must find them usable rather than throw.

        TransportLog.Stopped(Logger, LocalNode);
    }

    /// <summary>A connection's read loop received a whole frame.</summary>
    internal void Deliver(byte[] frame)
    {
        _inbound.Enqueue(frame);
        Interlocked.Add(ref _inboundBytes, frame.Length);
        if (Options.FrameArrived is { } arrived)
        {
            try
            {
                arrived();
            }
            catch (Exception e)
            {
                TransportLog.CallbackFailed(Logger, e);
            }
        }
    }

    /// <summary>Completes when the receive queue is back under its limit (read loops wait here before reading more).</summary>
    internal Task WaitForInboundSpaceAsync(CancellationToken cancellationToken) =>
        Volatile.Read(ref _inboundBytes) <= Options.InboundQueueLimit ? Task.CompletedTask : WaitForInboundSpaceSlowAsync(cancellationToken);

    private async Task WaitForInboundSpaceSlowAsync(CancellationToken cancellationToken)
    {
        while (Volatile.Read(ref _inboundBytes) > Options.InboundQueueLimit)
        {
            var gate = Volatile.Read(ref _inboundSpace);
            if (gate is null)
            {
                var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                gate = Interlocked.CompareExchange(ref _inboundSpace, mine, null) ?? mine;
            }

            // TryReceive may have drained the queue before the gate was published and seen no gate to open.
            if (Volatile.Read(ref _inboundBytes) <= Options.InboundQueueLimit)
            {
                ReleaseInboundSpace();
                return;
            }

            await gate.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void ReleaseInboundSpace() => Interlocked.Exchange(ref _inboundSpace, null)?.TrySetResult();

    /// <summary>Makes a handshaken connection the link's current one and starts it; closes the one it replaces.</summary>
    private PeerConnection Adopt(PeerLink link, SocketPipes pipes, bool dialed)
    {
        var remote = pipes.Socket.RemoteEndPoint; // read before the connection can close the socket
        var connection = new PeerConnection(this, link, pipes, dialed, _stop.Token);
        var replaced = link.Attach(connection);
        connection.Start();
        TransportLog.Connected(Logger, LocalNode, link.NodeId, dialed ? "dialed" : "accepted", remote);
        if (replaced is not null)
        {
            TransportLog.Replaced(Logger, link.NodeId);
            replaced.Abort("replaced by a newer connection");
        }

        // The peer may have been removed (or the transport disposed) while this connection was being made.
        if (link.Lifetime.IsCancellationRequested || _stop.IsCancellationRequested)
        {
            connection.Abort("peer removed");
        }

        return connection;
    }

    /// <summary>A connection ended: the link becomes unreachable unless a newer connection already replaced it.</summary>
    internal void OnConnectionClosed(PeerConnection connection, PeerLink link)
    {
        if (link.Detach(connection, connection.CloseReason))
        {
            TransportLog.ConnectionLost(Logger, link.NodeId, connection.CloseReason);
        }
    }

    private void Track(Task task)
    {
        _background.TryAdd(task, 0);
        _ = task.ContinueWith(
            static (t, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(t, out _),
            _background,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
