namespace Strata.Bench;

/// <summary>
/// Picks key indexes in [0, count) for one worker: uniformly, or by Zipfian rank (index 0 hottest). Not thread-safe:
/// one per worker, each with its own seeded <see cref="Random"/>.
/// </summary>
public sealed class KeyChooser
{
    private readonly Random _random;
    private readonly ZipfianDistribution? _zipfian;
    private readonly int _count;

    private KeyChooser(Random random, int count, ZipfianDistribution? zipfian)
    {
        _random = random;
        _count = count;
        _zipfian = zipfian;
    }

    /// <summary>Uniform over [0, <paramref name="count"/>).</summary>
    public static KeyChooser Uniform(int count, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentNullException.ThrowIfNull(random);
        return new KeyChooser(random, count, null);
    }

    /// <summary>Zipfian over the ranks of <paramref name="distribution"/> (shared, computed once).</summary>
    public static KeyChooser Zipfian(ZipfianDistribution distribution, Random random)
    {
        ArgumentNullException.ThrowIfNull(distribution);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(distribution.Items, int.MaxValue);
        return new KeyChooser(random, (int)distribution.Items, distribution);
    }

    /// <summary>The next key index.</summary>
    public int Next() => _zipfian is null ? _random.Next(_count) : (int)_zipfian.Sample(_random);
}
