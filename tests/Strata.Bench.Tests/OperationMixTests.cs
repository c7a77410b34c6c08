
namespace Strata.Bench.Tests;

public sealed class OperationMixTests
{
    [Fact]
    public void Viral_mix_is_90_8_2()
    {
        OperationMix mix = OperationMix.Viral;
        Assert.Equal(0.90, mix.Share(OperationKind.Stat), 9);
        Assert.Equal(0.08, mix.Share(OperationKind.Create), 9);
        Assert.Equal(0.02, mix.Share(OperationKind.List) + mix.Share(OperationKind.Rename) + mix.Share(OperationKind.ConditionalUpdate), 9);
        Assert.All([OperationKind.List, OperationKind.Rename, OperationKind.ConditionalUpdate], kind => Assert.True(mix.Share(kind) > 0));
    }

    [Fact]
    public void Seeded_picks_follow_the_weights()
    {
        const int picks = 500_000;
        var random = new Random(2026);
        var counts = new Dictionary<OperationKind, int>();
        for (int i = 0; i < picks; i++)
        {
            OperationKind kind = OperationMix.Viral.Pick(random);
            counts[kind] = counts.GetValueOrDefault(kind) + 1;
        }

        foreach ((OperationKind kind, int _) in OperationMix.Viral.Weights)
        {
            double expected = OperationMix.Viral.Share(kind) * picks;
            double tolerance = 6 * Math.Sqrt(expected); // six standard deviations of a binomial count, at most
            Assert.InRange(counts[kind], expected - tolerance, expected + tolerance);
        }

        Assert.Equal(picks, counts.Values.Sum());
    }

    [Fact]
    public void Same_seed_same_sequence_of_operations()
    {
        OperationKind[] Sequence() { var r = new Random(9); return [.. Enumerable.Range(0, 2000).Select(_ => OperationMix.Viral.Pick(r))]; }
        Assert.Equal(Sequence(), Sequence());
    }

    [Fact]
    public void A_mix_needs_positive_weights()
    {
        Assert.Throws<ArgumentException>(() => new OperationMix([]));
        Assert.Throws<ArgumentException>(() => new OperationMix([(OperationKind.Stat, 1), (OperationKind.List, 0)]));
    }
}
