using System.Globalization;

namespace Strata.Cli.Chaos;

/// <summary>
/// The skew of one <see cref="FaultKind.Skew"/> fault, drawn from its plan salt: half the time a slow clock
/// (0.1–0.5× real time: a leader's lease outlives its peers' election timeouts), half the time a fast one (2–4×: the
/// node's elections come early); the wall clock off by up to ±10 s either way. Lease drift margin: 2 of 10 ticks.
/// </summary>
internal readonly record struct ClockSkew(double Rate, TimeSpan Offset)
{
    public static ClockSkew Of(int salt)
    {
        var random = new Random(salt);
        double rate = random.NextDouble() < 0.5 ? 0.1 + (0.4 * random.NextDouble()) : 2 + (2 * random.NextDouble());
        var offset = TimeSpan.FromMilliseconds(random.Next(-10_000, 10_001));
        return new ClockSkew(Math.Round(rate, 2), offset);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"clock at {Rate:0.00}× real time, wall clock {Offset.TotalSeconds:+0.0;-0.0} s");
}
