
namespace Strata.Bench.Tests;

public sealed class ZipfianDistributionTests
{
    private const int Samples = 400_000;

    [Fact]
    public void Same_seed_draws_the_same_ranks()
    {
        var zipf = new ZipfianDistribution(10_000, 0.99);
        var a = new Random(42);
        var b = new Random(42);
        long[] first = [.. Enumerable.Range(0, 1000).Select(_ => zipf.Sample(a))];
        long[] second = [.. Enumerable.Range(0, 1000).Select(_ => zipf.Sample(b))];
        Assert.Equal(first, second);
    }

    [Theory]
    [InlineData(1_000, 0.99)]
    [InlineData(1_000, 0.5)]
    [InlineData(100_000, 0.99)]
    public void Frequencies_follow_the_power_law(int items, double theta)
    {
        var zipf = new ZipfianDistribution(items, theta);
        long[] counts = Histogram(zipf, new Random(7));

        Assert.Equal(Samples, counts.Sum());
        // The hottest ranks get their exact probability (within 3% relative: ~10 standard errors at these counts).
        for (int rank = 0; rank < 2; rank++)
        {
            double expected = zipf.Probability(rank) * Samples;
            Assert.InRange(counts[rank], expected * 0.97, expected * 1.03);
        }

        // P(0)/P(1) = 2^θ.
        Assert.InRange(counts[0] / (double)counts[1], Math.Pow(2, theta) * 0.95, Math.Pow(2, theta) * 1.05);

        // The hottest 1% of ranks carry their share of the mass, ζ(n/100)/ζ(n) (the approximation's error is small).
        int top = items / 100;
        double share = Enumerable.Range(0, top).Sum(r => zipf.Probability(r));
        double observed = counts.Take(top).Sum() / (double)Samples;
        Assert.InRange(observed, share - 0.02, share + 0.02);
    }

    [Fact]
    public void Rank_buckets_get_rarer_down_the_list()
    {
        var zipf = new ZipfianDistribution(10_000, 0.99);
        long[] counts = Histogram(zipf, new Random(11));
        // Decades of ranks: [0,10), [10,100), [100,1000), [1000,10000): each decade's per-rank frequency is lower.
        double[] perRank =
        [
            counts.Take(10).Sum() / 10.0,
            counts.Skip(10).Take(90).Sum() / 90.0,
            counts.Skip(100).Take(900).Sum() / 900.0,
            counts.Skip(1000).Sum() / 9000.0,
        ];
        for (int i = 1; i < perRank.Length; i++)
        {
            Assert.True(perRank[i] < perRank[i - 1] / 5, $"decade {i}: {perRank[i]} vs {perRank[i - 1]}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Tiny_key_spaces_stay_in_range(int items)
    {
        var zipf = new ZipfianDistribution(items, 0.99);
        var random = new Random(3);
        var seen = new HashSet<long>();
        for (int i = 0; i < 10_000; i++)
        {
            long rank = zipf.Sample(random);
            Assert.InRange(rank, 0, items - 1);
            seen.Add(rank);
        }

        Assert.Equal(items, seen.Count);
    }

    [Fact]
    public void Probabilities_sum_to_one()
    {
        var zipf = new ZipfianDistribution(5_000, 0.8);
        Assert.Equal(1.0, Enumerable.Range(0, 5_000).Sum(r => zipf.Probability(r)), 9);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Exponents_outside_zero_one_are_refused(double theta) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ZipfianDistribution(100, theta));

    [Fact]
    public void Uniform_chooser_covers_the_keys_evenly()
    {
        KeyChooser keys = KeyChooser.Uniform(10, new Random(5));
        long[] counts = new long[10];
        for (int i = 0; i < 100_000; i++)
        {
            counts[keys.Next()]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
    }

    private static long[] Histogram(ZipfianDistribution zipf, Random random)
    {
        long[] counts = new long[zipf.Items];
        for (int i = 0; i < Samples; i++)
        {
            counts[zipf.Sample(random)]++;
        }

        return counts;
    }
}
