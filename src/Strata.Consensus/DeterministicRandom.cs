namespace Strata.Consensus;

/// <summary>SplitMix64: a tiny seeded generator with the same sequence on every platform and runtime.</summary>
/// <remarks>Not thread-safe. Used for election timeouts so a seed replays an execution exactly.</remarks>
public sealed class DeterministicRandom(ulong seed)
{
    private ulong _state = seed;

    /// <summary>Next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform integer in [0, <paramref name="maxExclusive"/>).</summary>
    public int Next(int maxExclusive) => maxExclusive <= 0 ? 0 : (int)(NextUInt64() % (ulong)maxExclusive);
}
