namespace Strata.Bench.Tests;

/// <summary>A clock that moves only when told: timestamps for schedule and latency arithmetic.</summary>
internal sealed class ManualClock(long frequency, long start) : TimeProvider
{
    private long _now = start;

    public override long TimestampFrequency => frequency;

    public override long GetTimestamp() => _now;

    public void Advance(TimeSpan by) => _now += (long)(by.TotalSeconds * frequency);
}
