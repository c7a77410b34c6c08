using System.Diagnostics;

namespace Strata.Transport.Tests;

/// <summary>Clock readings in keepalives: how fast a peer's node clock runs relative to ours.</summary>
public sealed class PeerClockTests
{
    private const long Second = 1_000_000_000;

    [Fact]
    public void A_rate_is_measured_between_the_newest_reading_and_the_newest_one_at_least_the_span_older()
    {
        var clock = new PeerClock();
        Assert.Null(clock.Rate(Second / 2));
        // The peer's clock runs at the same rate for 2 s (readings every 200 ms), then twice as fast for 600 ms.
        long local = 10 * Second, remote = 500 * Second;
        for (int i = 0; i <= 10; i++)
        {
            clock.Add(local + (i * Second / 5), remote + (i * Second / 5));
        }

        Assert.Equal(1.0, clock.Rate(Second / 2));
        Assert.Null(clock.Rate(3 * Second)); // no reading that old
        local += 2 * Second;
        remote += 2 * Second;
        for (int i = 1; i <= 3; i++)
        {
            clock.Add(local + (i * Second / 5), remote + (2 * i * Second / 5));
        }

        Assert.Equal(2.0, clock.Rate(Second / 2)); // the last 600 ms: only the fast part
        double? longer = clock.Rate(2 * Second);
        Assert.True(longer is > 1.0 and < 2.0, $"over 2 s the rate mixes both parts: {longer}");
    }

    [Fact]
    public void A_clock_that_goes_back_is_a_new_process_and_the_old_readings_are_dropped()
    {
        var clock = new PeerClock();
        clock.Add(1 * Second, 100 * Second);
        clock.Add(2 * Second, 101 * Second);
        Assert.Equal(1.0, clock.Rate(Second));
        clock.Add(3 * Second, 5 * Second); // restarted peer: its clock reads less than before
        Assert.Null(clock.Rate(Second));
        clock.Add(4 * Second, 6 * Second);
        Assert.Equal(1.0, clock.Rate(Second));
        clock.Clear();
        Assert.Null(clock.Rate(1));
    }

    [Fact]
    public async Task Over_tcp_a_peer_whose_clock_runs_twice_as_fast_is_measured_so()
    {
        var fast = new ScaledClock(2.0);
        var nodes = await TestNodes.StartMesh(
            TestNodes.Options(1) with { ClockReadingInterval = TimeSpan.FromMilliseconds(50) },
            TestNodes.Options(2) with { ClockReadingInterval = TimeSpan.FromMilliseconds(50), NodeClock = fast });
        try
        {
            await Eventually.Until(() => nodes[0].RelativeRate(2, TimeSpan.FromSeconds(2)) is not null, "two seconds of readings");
            double rate = nodes[0].RelativeRate(2, TimeSpan.FromSeconds(2))!.Value;
            // Scheduling delays blur each reading by milliseconds; over two seconds that is a few percent.
            Assert.InRange(rate, 1.6, 2.4);
            double back = nodes[1].RelativeRate(1, TimeSpan.FromSeconds(2))!.Value;
            Assert.InRange(back, 0.4, 0.6);
            Assert.Null(nodes[0].RelativeRate(99, TimeSpan.FromSeconds(1)));
        }
        finally
        {
            await TestNodes.DisposeAll(nodes);
        }
    }

    /// <summary>A clock that runs <paramref name="rate"/> times as fast as the system's.</summary>
    private sealed class ScaledClock(double rate) : TimeProvider
    {
        private readonly long _start = Stopwatch.GetTimestamp();

        public override long TimestampFrequency => Stopwatch.Frequency;

        public override long GetTimestamp() => _start + (long)((Stopwatch.GetTimestamp() - _start) * rate);
    }
}
