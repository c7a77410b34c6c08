namespace Strata.Transport;

/// <summary>
/// Readings of one peer's node clock (sent in its keepalives) paired with this node's clock when each arrived:
/// how fast the peer's clock runs relative to ours. Network delay adds noise to each pair, so a rate is only measured
/// over a span (the newest reading against the newest one at least that much older). Thread-safe.
/// </summary>
/// <remarks>
/// A rate is only measured over an unbroken run of readings. Readings arrive every reading interval; when two in a row
/// are further apart than <c>maxGap</c> on either clock, the link carried none in between (a partition shorter than
/// the idle timeout, a stalled writer), and how fast either clock ran in that gap is unknown: pairing readings across
/// it would average the gap's rates into the present (a chaos run's leader, slowed to 0.13×, read a peer whose clock
/// had run at 0.34× through such a gap as "not faster", and kept a lease it should have given up). So the readings
/// start afresh after a gap, as after a restart. For the same reason a newest reading older than <c>maxGap</c> (by our
/// clock) measures nothing: the peer's clock may have changed since.
/// </remarks>
internal sealed class PeerClock
{
    private const int Capacity = 128;
    private readonly object _lock = new();
    private readonly (long Local, long Remote)[] _readings = new (long, long)[Capacity];
    private readonly long _maxGapNanos;
    private int _count;
    private int _next;

    /// <param name="maxGapNanos">The most two consecutive readings may be apart, on either clock, and the newest reading
    /// old, for a rate to be measured across them (a few reading intervals).</param>
    public PeerClock(long maxGapNanos)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxGapNanos);
        _maxGapNanos = maxGapNanos;
    }

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
                else if (remoteNanos - lastRemote > _maxGapNanos || localNanos - lastLocal > _maxGapNanos)
                {
                    _count = 0; // a gap: the rates in it are unknown, and must not be averaged into the present
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
    /// (by our clock), both in the current run of readings; null when no reading is that old, or when the newest is more
    /// than the gap older than <paramref name="nowNanos"/> (our clock now).
    /// </summary>
    public double? Rate(long spanNanos, long nowNanos)
    {
        lock (_lock)
        {
            if (_count < 2)
            {
                return null;
            }

            (long newestLocal, long newestRemote) = _readings[(_next + Capacity - 1) % Capacity];
            if (nowNanos - newestLocal > _maxGapNanos)
            {
                return null; // no reading for a while: the peer's clock may have changed since
            }

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
