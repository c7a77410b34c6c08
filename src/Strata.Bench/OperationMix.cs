namespace Strata.Bench;

/// <summary>
/// A weighted choice of <see cref="OperationKind"/>s, e.g. the viral mix's 900 stat : 80 create : 7 list : 7 rename : 6
/// conditional update. Immutable; <see cref="Pick"/> draws with the caller's (seeded, per-worker) random source.
/// </summary>
public sealed class OperationMix
{
    private readonly OperationKind[] _kinds;
    private readonly int[] _cumulative;

    /// <summary>A mix of positive integer weights.</summary>
    public OperationMix(IReadOnlyList<(OperationKind Kind, int Weight)> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count == 0 || weights.Any(w => w.Weight <= 0))
        {
            throw new ArgumentException("a mix needs at least one operation, each with a positive weight", nameof(weights));
        }

        _kinds = [.. weights.Select(w => w.Kind)];
        _cumulative = new int[weights.Count];
        int total = 0;
        for (int i = 0; i < weights.Count; i++)
        {
            total = checked(total + weights[i].Weight);
            _cumulative[i] = total;
        }

        Weights = weights;
    }

    /// <summary>The viral event (workload c): 90% stat, 8% create, 2% split over listing, rename and conditional update.</summary>
    public static OperationMix Viral { get; } = new(
    [
        (OperationKind.Stat, 900),
        (OperationKind.Create, 80),
        (OperationKind.List, 7),
        (OperationKind.Rename, 7),
        (OperationKind.ConditionalUpdate, 6),
    ]);

    /// <summary>The weights as given.</summary>
    public IReadOnlyList<(OperationKind Kind, int Weight)> Weights { get; }

    /// <summary>Sum of the weights.</summary>
    public int TotalWeight => _cumulative[^1];

    /// <summary>The share of <paramref name="kind"/> (0 when absent).</summary>
    public double Share(OperationKind kind) => Weights.Where(w => w.Kind == kind).Sum(w => w.Weight) / (double)TotalWeight;

    /// <summary>One operation, drawn with <paramref name="random"/>.</summary>
    public OperationKind Pick(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        int ticket = random.Next(TotalWeight);
        for (int i = 0; i < _cumulative.Length; i++)
        {
            if (ticket < _cumulative[i])
            {
                return _kinds[i];
            }
        }

        return _kinds[^1];
    }
}
