using System.Diagnostics;

namespace Strata.Server.Tests;

/// <summary>The clock-skew hook: rate and offset from a control file, re-read when it changes, monotonic across changes.</summary>
public sealed class SkewedClockTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"strata-skew-{Guid.NewGuid():N}");
    private readonly Real _real = new();
    private readonly List<string> _warnings = [];

    [Fact]
    public void Without_a_control_file_the_clock_is_real_time()
    {
        SkewedClock clock = SkewedClock.Create(_file, _warnings.Add, _real);
        long start = clock.GetTimestamp();
        DateTimeOffset wall = clock.GetUtcNow();
        _real.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(3 * Stopwatch.Frequency, clock.GetTimestamp() - start);
        Assert.Equal(TimeSpan.FromSeconds(3), clock.GetUtcNow() - wall);
        Assert.Empty(_warnings);
    }

    [Fact]
    public void A_rate_and_an_offset_take_effect_from_the_moment_they_are_read_and_time_never_goes_back()
    {
        SkewedClock clock = SkewedClock.Create(_file, _warnings.Add, _real);
        _real.Advance(TimeSpan.FromSeconds(10));
        long before = clock.GetTimestamp();
        DateTimeOffset wallBefore = clock.GetUtcNow();

        File.WriteAllText(_file, "rate=0.5 offset=-2000ms");
        clock.Reload();
        Assert.Equal(0.5, clock.Rate);
        Assert.Equal(TimeSpan.FromSeconds(-2), clock.Offset);
        Assert.Equal(before, clock.GetTimestamp()); // re-anchored: no jump
        Assert.Equal(wallBefore - TimeSpan.FromSeconds(2), clock.GetUtcNow());

        _real.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(before + (2 * Stopwatch.Frequency), clock.GetTimestamp()); // half speed
        Assert.Equal(wallBefore + TimeSpan.FromSeconds(2) - TimeSpan.FromSeconds(2), clock.GetUtcNow());

        // Back to real time: the monotonic clock goes on from where it is.
        File.WriteAllText(_file, "rate=3");
        clock.Reload();
        long atChange = clock.GetTimestamp();
        Assert.Equal(before + (2 * Stopwatch.Frequency), atChange);
        _real.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(atChange + (3 * Stopwatch.Frequency), clock.GetTimestamp());
        Assert.Empty(_warnings);
    }

    [Theory]
    [InlineData("rate=0")]
    [InlineData("rate=-1")]
    [InlineData("rate=fast")]
    [InlineData("offset=5s")]
    [InlineData("speed=2")]
    [InlineData("rate=NaN")]
    public void A_malformed_control_file_is_reported_and_changes_nothing(string text)
    {
        File.WriteAllText(_file, "rate=2 offset=100ms");
        SkewedClock clock = SkewedClock.Create(_file, _warnings.Add, _real);
        File.WriteAllText(_file, text);
        clock.Reload();
        Assert.Equal(2, clock.Rate);
        Assert.Equal(TimeSpan.FromMilliseconds(100), clock.Offset);
        string warning = Assert.Single(_warnings);
        Assert.Contains(_file, warning, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => SkewedClock.Parse(text));
    }

    [Fact]
    public void Parse_accepts_either_part_alone_and_both_in_any_order()
    {
        Assert.Equal((1.0, TimeSpan.Zero), SkewedClock.Parse(""));
        Assert.Equal((0.25, TimeSpan.Zero), SkewedClock.Parse("rate=0.25\n"));
        Assert.Equal((1.0, TimeSpan.FromMilliseconds(1500)), SkewedClock.Parse("offset=+1500ms"));
        Assert.Equal((4.0, TimeSpan.FromMilliseconds(-7)), SkewedClock.Parse("offset=-7ms rate=4"));
    }

    public void Dispose() => File.Delete(_file);

    /// <summary>A real clock that moves only by hand, in Stopwatch ticks.</summary>
    private sealed class Real : TimeProvider
    {
        private long _timestamp = 1_000_000;
        private DateTimeOffset _now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

        public override long TimestampFrequency => Stopwatch.Frequency;

        public override long GetTimestamp() => Volatile.Read(ref _timestamp);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by)
        {
            _timestamp += (long)(by.TotalSeconds * Stopwatch.Frequency);
            _now += by;
        }
    }
}
