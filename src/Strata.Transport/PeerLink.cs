namespace Strata.Transport;

/// <summary>
/// Everything the transport keeps about one peer across connections: address, state, the outbound queue (two lanes),
/// the current connection and the counters of <see cref="PeerLinkStatus"/>.
/// </summary>
/// <remarks>
/// <para><b>Concurrency:</b> <see cref="Send"/> runs on the drive loop; the connection's loops, the dialer and the
/// acceptor run on I/O threads. Queue, state and connection change under one lock, held briefly and never across
/// an await. Counters are updated with interlocked operations.</para>
/// <para><b>Queues belong to the link, not to the connection</b>, so frames queued while the first connection is
/// being made go out on it. When the current connection is lost, what is queued is dropped (Raft resends what
/// matters); when it is replaced by a newer connection, the queue carries over.</para>
/// </remarks>
internal sealed class PeerLink
{
    private readonly object _lock = new();
    private readonly Queue<byte[]> _small = new();
    private readonly Queue<byte[]> _bulk = new();
    private readonly TcpTransportOptions _options;
    private long _queuedBytes;
    private LinkState _state = LinkState.Connecting;
    private DateTimeOffset _since;
    private PeerConnection? _connection;
    private string? _address;
    private string? _lastError;
    private long _framesOut;
    private long _bytesOut;
    private long _framesIn;
    private long _bytesIn;
    private long _connections;
    private long _droppedQueueFull;
    private long _droppedUnreachable;
    private long _corruptRecords;

    public PeerLink(ulong nodeId, string? address, TcpTransportOptions options)
    {
        NodeId = nodeId;
        _address = address;
        _options = options;
        _since = options.TimeProvider.GetUtcNow();
        Clock = new PeerClock((long)(options.ClockReadingInterval.TotalSeconds * 1e9) * TcpTransportOptions.ClockReadingGap);
    }

    public ulong NodeId { get; }

    /// <summary>The peer's clock readings (from its keepalives) on the current connection.</summary>
    public PeerClock Clock { get; }

    /// <summary>Cancelled when the peer is removed or the transport disposed: ends the dial loop.</summary>
    public CancellationTokenSource Lifetime { get; } = new();

    /// <summary>Set when the address changes, to cut a dial loop's backoff short.</summary>
    public WakeSignal AddressChanged { get; } = new();

    public string? Address
    {
        get
        {
            lock (_lock)
            {
                return _address;
            }
        }
    }

    public PeerConnection? Connection
    {
        get
        {
            lock (_lock)
            {
                return _connection;
            }
        }
    }

    /// <summary>
    /// Changes the address. With <paramref name="detachConnection"/> (a peer we dial) the current connection, made to
    /// the old address, stops being the link's at once and is returned for closing; the link is
    /// <see cref="LinkState.Connecting"/> again (even if it was unreachable at the old address), so frames sent from
    /// now on wait for the connection to the new address instead of going down with the old one.
    /// </summary>
    public PeerConnection? SetAddress(string address, bool detachConnection, out string? previous)
    {
        lock (_lock)
        {
            previous = _address;
            if (_address == address)
            {
                return null;
            }

            _address = address;
            if (!detachConnection)
            {
                return null;
            }

            // Whatever was known about the old address says nothing about the new one.
            var old = _connection;
            _connection = null;
            _state = LinkState.Connecting;
            _since = _options.TimeProvider.GetUtcNow();
            return old;
        }
    }

    /// <summary>Queues <paramref name="frame"/>; false (dropped and counted) when unreachable or over the limit.</summary>
    public bool Send(byte[] frame)
    {
        PeerConnection? wake;
        lock (_lock)
        {
            if (_state == LinkState.Unreachable)
            {
                Interlocked.Increment(ref _droppedUnreachable);
                return false;
            }

            if (_queuedBytes > 0 && _queuedBytes + frame.Length > _options.OutboundQueueLimit)
            {
                Interlocked.Increment(ref _droppedQueueFull);
                return false;
            }

            (frame.Length > _options.BulkThreshold ? _bulk : _small).Enqueue(frame);
            _queuedBytes += frame.Length;
            wake = _connection;
        }

        wake?.WakeWriter();
        return true;
    }

    /// <summary>A frame refused before queueing (too large): counted with the queue-full drops.</summary>
    public void CountRefused() => Interlocked.Increment(ref _droppedQueueFull);

    /// <summary>Moves queued small frames into <paramref name="into"/>, at least one and up to about
    /// <paramref name="budget"/> bytes; <paramref name="more"/> says whether some are left. False when
    /// <paramref name="connection"/> is no longer the link's connection (its writer must stop).</summary>
    public bool TakeSmall(PeerConnection connection, List<byte[]> into, long budget, out bool more)
    {
        lock (_lock)
        {
            more = false;
            if (_connection != connection)
            {
                return false;
            }

            long taken = 0;
            while (_small.TryPeek(out var frame))
            {
                if (taken > 0 && taken + frame.Length > budget)
                {
                    more = true;
                    break;
                }

                _small.Dequeue();
                _queuedBytes -= frame.Length;
                taken += frame.Length;
                into.Add(frame);
            }

            return true;
        }
    }

    /// <summary>Takes the next bulk frame for <paramref name="connection"/>'s writer, if it is still current.</summary>
    public byte[]? TakeBulk(PeerConnection connection)
    {
        lock (_lock)
        {
            if (_connection != connection || !_bulk.TryDequeue(out var frame))
            {
                return null;
            }

            _queuedBytes -= frame.Length;
            return frame;
        }
    }

    /// <summary>Makes <paramref name="connection"/> the link's connection; returns the one it replaces (to close).</summary>
    public PeerConnection? Attach(PeerConnection connection)
    {
        lock (_lock)
        {
            var old = _connection;
            _connection = connection;
            _state = LinkState.Connected;
            _since = _options.TimeProvider.GetUtcNow();
            _connections++;
            Clock.Clear(); // the peer may be a new process, its clock a new one
            return old;
        }
    }

    /// <summary>
    /// <paramref name="connection"/> ended with <paramref name="reason"/>. If it was still the link's connection, the
    /// link becomes unreachable and its queue is dropped; a replaced connection changes nothing.
    /// </summary>
    public bool Detach(PeerConnection connection, string reason)
    {
        lock (_lock)
        {
            if (_connection != connection)
            {
                return false;
            }

            _connection = null;
            BecomeUnreachable(reason);
            return true;
        }
    }

    /// <summary>A dial attempt failed (no connection is current): unreachable until one succeeds.</summary>
    public void DialFailed(string reason)
    {
        lock (_lock)
        {
            if (_connection is null)
            {
                BecomeUnreachable(reason);
            }
            else
            {
                _lastError = reason;
            }
        }
    }

    /// <summary>The peer was removed or the transport is closing: drop the queue and refuse frames from now on.
    /// Returns the connection to close.</summary>
    public PeerConnection? Close(string reason)
    {
        lock (_lock)
        {
            var old = _connection;
            _connection = null;
            BecomeUnreachable(reason);
            return old;
        }
    }

    public void CountOut(long frames, long bytes)
    {
        Interlocked.Add(ref _framesOut, frames);
        Interlocked.Add(ref _bytesOut, bytes);
    }

    public void CountIn(long bytes)
    {
        Interlocked.Increment(ref _framesIn);
        Interlocked.Add(ref _bytesIn, bytes);
    }

    /// <summary>Frames lost with a connection after they left the queue (a partly written bulk frame).</summary>
    public void CountLost(long frames) => Interlocked.Add(ref _droppedUnreachable, frames);

    public void CountCorrupt() => Interlocked.Increment(ref _corruptRecords);

    public PeerLinkStatus Status()
    {
        lock (_lock)
        {
            return new PeerLinkStatus(
                NodeId,
                _address,
                _state,
                _since,
                Interlocked.Read(ref _framesOut),
                Interlocked.Read(ref _bytesOut),
                Interlocked.Read(ref _framesIn),
                Interlocked.Read(ref _bytesIn),
                _connections,
                Math.Max(0, _connections - 1),
                Interlocked.Read(ref _droppedQueueFull),
                Interlocked.Read(ref _droppedUnreachable),
                Interlocked.Read(ref _corruptRecords),
                _queuedBytes,
                _lastError);
        }
    }

    // Caller holds the lock.
    private void BecomeUnreachable(string reason)
    {
        Interlocked.Add(ref _droppedUnreachable, _small.Count + _bulk.Count);
        _small.Clear();
        _bulk.Clear();
        _queuedBytes = 0;
        _lastError = reason;
        if (_state != LinkState.Unreachable)
        {
            _state = LinkState.Unreachable;
            _since = _options.TimeProvider.GetUtcNow();
        }
    }
}
