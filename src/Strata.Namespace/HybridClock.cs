namespace Strata.Namespace;

/// <summary>
/// A hybrid logical clock: timestamps are (physical milliseconds, logical counter) packed into 64 bits,
/// 48 bits of Unix milliseconds and 16 bits of counter, so they compare as plain integers.
/// </summary>
/// <remarks>
/// Proposers take a timestamp with <see cref="Now"/> before proposing a command; the state machine never
/// reads a clock. <see cref="Observe"/> folds in a timestamp seen from elsewhere (another node, a stored
/// version), so every later <see cref="Now"/> is larger. Thread-safe.
/// </remarks>
public sealed class HybridClock(TimeProvider time)
{
    private const int LogicalBits = 16;
    private const ulong LogicalMask = (1UL << LogicalBits) - 1;
    private readonly Lock _gate = new();
    private ulong _last;

    /// <summary>A timestamp strictly greater than every one this clock returned or observed before.</summary>
    public ulong Now()
    {
        ulong physical = FromMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds());
        lock (_gate)
        {
            _last = physical > _last ? physical : _last + 1;
            return _last;
        }
    }

    /// <summary>Makes every later <see cref="Now"/> greater than <paramref name="timestamp"/>.</summary>
    public void Observe(ulong timestamp)
    {
        lock (_gate)
        {
            if (timestamp > _last)
            {
                _last = timestamp;
            }
        }
    }

    /// <summary>The timestamp of a wall-clock instant with a zero logical part.</summary>
    public static ulong FromMilliseconds(long unixMilliseconds) => (ulong)unixMilliseconds << LogicalBits;

    /// <summary>The wall-clock instant of a timestamp (its logical part dropped).</summary>
    public static DateTimeOffset ToDateTime(ulong timestamp) =>
        DateTimeOffset.FromUnixTimeMilliseconds((long)(timestamp >> LogicalBits));

    /// <summary>The logical counter of a timestamp.</summary>
    public static ushort Logical(ulong timestamp) => (ushort)(timestamp & LogicalMask);
}
