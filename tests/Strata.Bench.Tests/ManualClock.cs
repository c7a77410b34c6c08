namespace Strata.Bench.Tests;

/// <summary>
/// A clock that moves only when told: timestamps for schedule and latency arithmetic. Safe to advance from several
/// workers at once. Timers (<see cref="TimeProvider.CreateTimer"/>) still run on real time.
/// </summary>
internal sealed class ManualClock(long frequency, long start) : TimeProvider
{
    private long _now = start;

    public override long TimestampFrequency => frequency;

    public override long GetTimestamp() => Interlocked.Read(ref _now);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _now, (long)(by.TotalSeconds * frequency));
}
