namespace Strata.Bench;

/// <summary>
/// The Zipfian distribution over ranks 0..n−1 (rank 0 the most likely; P(rank k) ∝ 1/(k+1)^θ), sampled with the
/// closed-form method of Gray et al., "Quickly Generating Billion-Record Synthetic Databases" (SIGMOD 1994), the one
/// YCSB uses.
/// </summary>
/// <remarks>
/// Construction computes ζ(n, θ) once, O(n); sampling is O(1). Immutable and thread-safe: share one instance and
/// give each thread its own <see cref="Random"/> (seeded, so runs replay).
/// </remarks>
public sealed class ZipfianDistribution
{
    private readonly double _alpha;
    private readonly double _eta;
    private readonly double _secondThreshold;

    /// <summary>A distribution over <paramref name="items"/> ranks with exponent <paramref name="theta"/> in (0, 1).</summary>
    public ZipfianDistribution(long items, double theta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(items, 1);
        if (theta is <= 0 or >= 1 || !double.IsFinite(theta))
        {
            throw new ArgumentOutOfRangeException(nameof(theta), theta, "the Zipfian exponent must be in (0, 1)");
        }

        Items = items;
        Theta = theta;
        Zeta = ZetaOf(items, theta);
        double zeta2 = ZetaOf(Math.Min(items, 2), theta);
        _alpha = 1.0 / (1.0 - theta);
        _eta = items <= 2 ? 0 : (1 - Math.Pow(2.0 / items, 1 - theta)) / (1 - (zeta2 / Zeta));
        _secondThreshold = 1 + Math.Pow(0.5, theta);
    }

    /// <summary>Number of ranks.</summary>
    public long Items { get; }

    /// <summary>The exponent θ.</summary>
    public double Theta { get; }

    /// <summary>ζ(n, θ) = Σ_{i=1..n} 1/i^θ, the normalising constant.</summary>
    public double Zeta { get; }

    /// <summary>The exact probability of <paramref name="rank"/>.</summary>
    public double Probability(long rank)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, Items);
        return 1.0 / Math.Pow(rank + 1, Theta) / Zeta;
    }

    /// <summary>One rank in [0, <see cref="Items"/>), drawn with <paramref name="random"/>.</summary>
    public long Sample(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        double u = random.NextDouble();
        double uz = u * Zeta;
        if (uz < 1.0)
        {
            return 0;
        }

        if (uz < _secondThreshold || Items <= 2)
        {
            return Math.Min(1, Items - 1);
        }

        long rank = (long)(Items * Math.Pow((_eta * u) - _eta + 1, _alpha));
        return Math.Clamp(rank, 0, Items - 1);
    }

    private static double ZetaOf(long items, double theta)
    {
        double sum = 0;
        for (long i = 1; i <= items; i++)
        {
            sum += 1.0 / Math.Pow(i, theta);
        }

        return sum;
    }
}
