namespace Strata.Transport;

/// <summary>
/// Readings of one peer's node clock (sent in its keepalive records) paired with this node's clock when each arrived:
/// how fast the peer's clock runs relative to ours. Network delay adds noise to each pair, so a rate is only measured
/// over a span (the newest reading against the newest one at least that much older). Thread-safe.
/// </summary>
internal sealed class PeerClock
{
    private const int Capacity = 128;
    private readonly object _lock = new();
    private readonly (long Local, long Remote)[] _readings = new (long, long)[Capacity];
    private int _count;
    private int _next;

    /// <summary>Records that the peer's clock read <paramref name="remoteNanos"/> when ours read <paramref name="localNanos"/>.</summary>
    public void Add(long localNanos, long remoteNanos)
    {
        lock (_lock)
        {
            if (_count > 0)
            {
                (long lastLocal, long lastRemote) = _readings[(_next + Capacity - 1) % Capacity];
                if (remoteNanos < lastRemote || localNanos < lastLocal)
                {
                    _count = 0; // a clock restarted (a new process): the old readings say nothing about the new one
                }
            }

            _readings[_next] = (localNanos, remoteNanos);
            _next = (_next + 1) % Capacity;
            _count = Math.Min(_count + 1, Capacity);
        }
    }

    /// <summary>Forgets every reading (a new connection: the peer may be a new process).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _count = 0;
        }
    }

    /// <summary>
    /// Δremote / Δlocal between the newest reading and the newest one at least <paramref name="spanNanos"/> older
    /// (by our clock); null when no reading is that old.
    /// </summary>
    public double? Rate(long spanNanos)
    {
        lock (_lock)
        {
            if (_count < 2)
            {
                return null;
            }

            (long newestLocal, long newestRemote) = _readings[(_next + Capacity - 1) % Capacity];
            for (int back = 2; back <= _count; back++)
            {
                (long local, long remote) = _readings[(_next + Capacity - back) % Capacity];
                if (newestLocal - local >= spanNanos)
                {
                    return (newestRemote - remote) / (double)(newestLocal - local);
                }
            }

            return null;
        }
    }
}
