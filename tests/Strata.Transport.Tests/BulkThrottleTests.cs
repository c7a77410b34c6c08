namespace Strata.Transport.Tests;

/// <summary>The bulk lane's token bucket on a manual clock.</summary>
public sealed class BulkThrottleTests
{
    [Fact]
    public void Starts_with_one_chunk_then_refills_at_the_rate()
    {
        var clock = new ManualClock();
        var throttle = new BulkThrottle(bytesPerSecond: 1000, capacity: 500, clock);
        Assert.Equal(TimeSpan.Zero, throttle.TryTake(500));

        // Empty: 500 bytes need half a second.
        Assert.Equal(TimeSpan.FromMilliseconds(500), throttle.TryTake(500));
        clock.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(TimeSpan.FromMilliseconds(300), throttle.TryTake(500));
        clock.Advance(TimeSpan.FromMilliseconds(300));
        Assert.Equal(TimeSpan.Zero, throttle.TryTake(500));
    }

    [Fact]
    public void Never_holds_more_than_one_chunk()
    {
        var clock = new ManualClock();
        var throttle = new BulkThrottle(bytesPerSecond: 1000, capacity: 500, clock);
        clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(TimeSpan.Zero, throttle.TryTake(500));
        Assert.NotEqual(TimeSpan.Zero, throttle.TryTake(1));
    }

    [Fact]
    public void No_rate_means_no_waiting()
    {
        var throttle = new BulkThrottle(bytesPerSecond: null, capacity: 500, new ManualClock());
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(TimeSpan.Zero, throttle.TryTake(500));
        }
    }

    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
