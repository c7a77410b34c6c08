namespace Strata.Transport;

/// <summary>
/// The token bucket of one connection's bulk lane: refills at the configured rate and holds at most one chunk, so
/// the lane never bursts more than one chunk above its rate.
/// </summary>
/// <remarks>Used by one writer loop only (not thread-safe).</remarks>
internal sealed class BulkThrottle
{
    private readonly long? _bytesPerSecond;
    private readonly double _capacity;
    private readonly TimeProvider _time;
    private double _tokens;
    private long _last;

    public BulkThrottle(long? bytesPerSecond, int capacity, TimeProvider time)
    {
        _bytesPerSecond = bytesPerSecond;
        _capacity = capacity;
        _time = time;
        _tokens = capacity;
        _last = time.GetTimestamp();
    }

    /// <summary>Takes <paramref name="bytes"/> (at most the capacity) from the bucket and returns zero, or, when the
    /// bucket holds too little, takes nothing and returns how long until it will hold enough.</summary>
    public TimeSpan TryTake(int bytes)
    {
        if (_bytesPerSecond is not { } rate)
        {
            return TimeSpan.Zero;
        }

        var now = _time.GetTimestamp();
        _tokens = Math.Min(_capacity, _tokens + (_time.GetElapsedTime(_last, now).TotalSeconds * rate));
        _last = now;
        if (_tokens >= bytes)
        {
            _tokens -= bytes;
            return TimeSpan.Zero;
        }

        // Round up to whole milliseconds so a wake-up never comes a hair too early and spins.
        var wait = Math.Ceiling((bytes - _tokens) * 1000.0 / rate);
        return TimeSpan.FromMilliseconds(Math.Max(1, wait));
    }
}
