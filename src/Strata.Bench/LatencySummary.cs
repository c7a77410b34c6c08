using HdrHistogram;

namespace Strata.Bench;

/// <summary>
/// Percentiles of a latency histogram, in milliseconds. Histograms hold microseconds with 3 significant digits, so
/// every figure is within 0.1% of the recorded value.
/// </summary>
public sealed record LatencySummary(long Count, double MeanMs, double P50Ms, double P90Ms, double P99Ms, double P999Ms, double MaxMs)
{
    /// <summary>The summary of nothing recorded: every figure 0.</summary>
    public static LatencySummary Empty { get; } = new(0, 0, 0, 0, 0, 0, 0);

    /// <summary>Summarises a histogram of microsecond values.</summary>
    public static LatencySummary Of(HistogramBase microseconds)
    {
        ArgumentNullException.ThrowIfNull(microseconds);
        if (microseconds.TotalCount == 0)
        {
            return Empty;
        }

        return new LatencySummary(
            microseconds.TotalCount,
            Milliseconds(microseconds.GetMean()),
            Milliseconds(microseconds.GetValueAtPercentile(50)),
            Milliseconds(microseconds.GetValueAtPercentile(90)),
            Milliseconds(microseconds.GetValueAtPercentile(99)),
            Milliseconds(microseconds.GetValueAtPercentile(99.9)),
            Milliseconds(microseconds.GetMaxValue()));
    }

    /// <summary>A new empty histogram for microsecond latencies from 1 µs to 1 hour.</summary>
    public static LongHistogram NewHistogram() => new(1, HighestMicroseconds, SignificantDigits);

    /// <summary>The largest latency a histogram tracks; longer ones are recorded as this.</summary>
    public const long HighestMicroseconds = 3_600_000_000;

    /// <summary>Precision of the histograms.</summary>
    public const int SignificantDigits = 3;

    private static double Milliseconds(double microseconds) => Math.Round(microseconds / 1000.0, 3);
}
