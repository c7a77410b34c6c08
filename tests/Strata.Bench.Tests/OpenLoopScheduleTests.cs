
namespace Strata.Bench.Tests;

public sealed class OpenLoopScheduleTests
{
    [Fact]
    public void Intended_starts_are_evenly_spaced_from_the_clock_start()
    {
        var clock = new ManualClock(frequency: 1_000_000, start: 5_000_000);
        var schedule = new OpenLoopSchedule(clock.GetTimestamp(), ratePerSecond: 1000, clock.TimestampFrequency);

        Assert.Equal(5_000_000, schedule.IntendedStart(0));
        Assert.Equal(5_001_000, schedule.IntendedStart(1));
        Assert.Equal(5_999_000, schedule.IntendedStart(999));
        Assert.Equal(6_000_000, schedule.IntendedStart(1000));
    }

    [Fact]
    public void Fractional_spacing_rounds_without_drift()
    {
        // 3 per second on a 1000 Hz clock: 333.33 ticks apart; after 3 operations exactly one second has passed.
        var schedule = new OpenLoopSchedule(0, 3, 1000);
        Assert.Equal([0, 333, 667, 1000, 1333, 1667, 2000], Enumerable.Range(0, 7).Select(i => schedule.IntendedStart(i)));
        Assert.Equal(1_000_000_000, schedule.IntendedStart(3_000_000));
    }

    [Fact]
    public void First_due_at_or_after_is_the_boundary_of_intended_starts()
    {
        var schedule = new OpenLoopSchedule(100, 7, 1000);
        for (long t = 0; t < 3000; t += 13)
        {
            long index = schedule.FirstDueAtOrAfter(t);
            Assert.True(schedule.IntendedStart(index) >= t);
            Assert.True(index == 0 || schedule.IntendedStart(index - 1) < t);
        }
    }

    [Fact]
    public void Workers_partition_the_schedule()
    {
        const int workers = 3;
        long[] all = [.. Enumerable.Range(0, workers).SelectMany(w => OpenLoopSchedule.OperationsOf(w, workers, 10)).Order()];
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), all);
        Assert.Equal([1L, 4, 7], OpenLoopSchedule.OperationsOf(1, workers, 10));
    }

    [Fact]
    public void Latency_counts_from_the_intended_start_so_queueing_is_included()
    {
        var clock = new ManualClock(frequency: 1_000_000, start: 0);
        var schedule = new OpenLoopSchedule(clock.GetTimestamp(), ratePerSecond: 100, clock.TimestampFrequency);

        // Operation 0 takes 50 ms; operation 1 was due at 10 ms but its worker only frees up at 50 ms, and it takes 1 ms.
        clock.Advance(TimeSpan.FromMilliseconds(50));
        Assert.Equal(50_000, schedule.LatencyMicroseconds(schedule.IntendedStart(0), clock.GetTimestamp()));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(41_000, schedule.LatencyMicroseconds(schedule.IntendedStart(1), clock.GetTimestamp()));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.PositiveInfinity)]
    public void Rates_must_be_positive_and_finite(double rate) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new OpenLoopSchedule(0, rate, 1000));
}
