namespace Strata.Storage;

/// <summary>
/// The one key order of the storage layer: unsigned bytes, lexicographic (memcmp order; a proper prefix
/// sorts first). Every engine, encoder and test compares keys with this.
/// </summary>
public static class KeyOrder
{
    /// <summary>A comparer of byte arrays in key order. Null sorts before everything.</summary>
    public static IComparer<byte[]> Comparer { get; } = new ByteArrayComparer();

    /// <summary>Negative, zero or positive as <paramref name="left"/> sorts before, equal to or after <paramref name="right"/>.</summary>
    public static int Compare(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right) => left.SequenceCompareTo(right);

    private sealed class ByteArrayComparer : IComparer<byte[]>
    {
        public int Compare(byte[]? x, byte[]? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }

            if (x is null)
            {
                return -1;
            }

            return y is null ? 1 : x.AsSpan().SequenceCompareTo(y);
        }
    }
}
