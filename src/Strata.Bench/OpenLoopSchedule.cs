namespace Strata.Bench;

/// <summary>
/// The arrival schedule of the open loop: operation i is intended to start at <c>start + i / rate</c>, whatever
/// happened to earlier operations. Latency is measured from that intended start, so time an operation spends waiting
/// behind a slow predecessor counts (no coordinated omission, as in Gil Tene's wrk2).
/// </summary>
/// <remarks>
/// Times are <see cref="TimeProvider.GetTimestamp"/> ticks of the provider given at construction. With W workers,
/// worker w issues operations w, w + W, w + 2W, ... (<see cref="OperationsOf"/>) in order, each one no earlier than its
/// intended start. Immutable and thread-safe.
/// </remarks>
public sealed class OpenLoopSchedule
{
    private readonly double _ticksPerOperation;

    /// <summary>A schedule of <paramref name="ratePerSecond"/> operations per second starting at timestamp <paramref name="start"/>.</summary>
    public OpenLoopSchedule(long start, double ratePerSecond, long timestampFrequency)
    {
        if (!(ratePerSecond > 0) || !double.IsFinite(ratePerSecond))
        {
            throw new ArgumentOutOfRangeException(nameof(ratePerSecond), ratePerSecond, "the rate must be positive");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(timestampFrequency, 1);
        Start = start;
        RatePerSecond = ratePerSecond;
        TimestampFrequency = timestampFrequency;
        _ticksPerOperation = timestampFrequency / ratePerSecond;
    }

    /// <summary>The timestamp at which operation 0 is due.</summary>
    public long Start { get; }

    /// <summary>Operations per second offered.</summary>
    public double RatePerSecond { get; }

    /// <summary>Ticks per second of the timestamps.</summary>
    public long TimestampFrequency { get; }

    /// <summary>The timestamp at which operation <paramref name="index"/> is due.</summary>
    public long IntendedStart(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return Start + (long)Math.Round(index * _ticksPerOperation, MidpointRounding.AwayFromZero);
    }

    /// <summary>
    /// The first operation index due at or after <paramref name="timestamp"/> (all earlier indexes are due before it).
    /// </summary>
    public long FirstDueAtOrAfter(long timestamp)
    {
        if (timestamp <= Start)
        {
            return 0;
        }

        long index = (long)Math.Floor((timestamp - Start) / _ticksPerOperation);
        while (IntendedStart(index) < timestamp)
        {
            index++;
        }

        while (index > 0 && IntendedStart(index - 1) >= timestamp)
        {
            index--;
        }

        return index;
    }

    /// <summary>The indexes worker <paramref name="worker"/> of <paramref name="workers"/> issues, in order, below <paramref name="end"/>.</summary>
    public static IEnumerable<long> OperationsOf(int worker, int workers, long end)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(worker);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(worker, workers);
        for (long index = worker; index < end; index += workers)
        {
            yield return index;
        }
    }

    /// <summary>Latency of an operation due at <paramref name="intendedStart"/> that completed at <paramref name="completed"/>, in microseconds.</summary>
    public long LatencyMicroseconds(long intendedStart, long completed) => TicksToMicroseconds(completed - intendedStart, TimestampFrequency);

    /// <summary>Converts a tick interval to whole microseconds (negative intervals count as 0).</summary>
    public static long TicksToMicroseconds(long ticks, long frequency) =>
        ticks <= 0 ? 0 : (long)((decimal)ticks * 1_000_000m / frequency);
}
