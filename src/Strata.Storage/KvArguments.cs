namespace Strata.Storage;

/// <summary>Argument rules shared by every engine, so that both reject the same calls the same way.</summary>
internal static class KvArguments
{
    public static void ThrowIfUnknownColumn(KvColumn column)
    {
        if ((uint)column > (uint)KvColumn.Local)
        {
            throw new ArgumentOutOfRangeException(nameof(column), column, "Unknown column.");
        }
    }

    /// <summary>
    /// DeleteRange needs lower &lt;= upper. Unlike <see cref="IKvReader.Scan"/>, an empty upper bound is not
    /// "unbounded" (RocksDB has no largest key to delete up to): use <see cref="OrderedKey.PrefixEnd"/> for prefixes.
    /// </summary>
    public static void ThrowIfInvertedRange(ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive)
    {
        if (lowerInclusive.SequenceCompareTo(upperExclusive) > 0)
        {
            throw new ArgumentException(
                $"DeleteRange needs lowerInclusive <= upperExclusive (an empty upper bound is not 'unbounded' here); got [{Convert.ToHexString(lowerInclusive)}, {Convert.ToHexString(upperExclusive)}).",
                nameof(upperExclusive));
        }
    }
}
