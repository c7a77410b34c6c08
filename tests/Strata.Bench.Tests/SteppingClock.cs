namespace Strata.Bench.Tests;

/// <summary>
/// A clock that moves by <paramref name="step"/> each time it is read, and stands still otherwise. A closed-loop run
/// over it measures about the same number of operations however fast or busy the machine is (the runner reads the
/// clock a fixed number of times per operation), so tests can count on a window holding operations; the latencies it
/// reports are counts of readings, not times. Timers still run on real time.
/// </summary>
internal sealed class SteppingClock(TimeSpan step) : TimeProvider
{
    private const long Frequency = 1_000_000;
    private readonly long _step = Math.Max(1, (long)(step.TotalSeconds * Frequency));
    private long _now;

    public override long TimestampFrequency => Frequency;

    public override long GetTimestamp() => Interlocked.Add(ref _now, _step);
}
