using System.Globalization;

namespace Strata.Bench.Plots;

/// <summary>
/// The plots of a <c>strata bench</c> invocation, written next to its JSON and Markdown: the latency CDF
/// (<c>{stem}-latency.png</c>, one line per target) and throughput and p99 over the measured window
/// (<c>{stem}-timeline.png</c>, one line per target, from each result's <see cref="BenchResult.Timeline"/>).
/// </summary>
/// <remarks>
/// Targets of a side-by-side run are measured one after another; the timeline puts each on the same axis, seconds
/// since the start of its own measured window, so they compare at equal time into the run. Stateless.
/// </remarks>
public static class BenchPlots
{
    /// <summary>Suffix of the latency CDF file.</summary>
    public const string LatencySuffix = "-latency.png";

    /// <summary>Suffix of the throughput and p99 file.</summary>
    public const string TimelineSuffix = "-timeline.png";

    /// <summary>
    /// Renders and writes both plots of <paramref name="results"/> (one target, or several side by side, the first
    /// Strata's) into <paramref name="directory"/>; returns both, each written or with the reason it is not
    /// (<see cref="ChartFile.Failure"/>: no font, renderer unavailable).
    /// </summary>
    public static IReadOnlyList<ChartFile> Write(IReadOnlyList<BenchResult> results, string directory, string stem)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count == 0)
        {
            throw new ArgumentException("no results to plot", nameof(results));
        }

        BenchResult first = results[0];
        string what = string.Create(CultureInfo.InvariantCulture,
            $"{BenchReport.Name(first.Workload)}, {first.Mode.ToString().ToLowerInvariant()} loop, concurrency {first.Options.Concurrency}");
        return
        [
            ChartFile.Write(directory, stem + LatencySuffix, "latency by percentile", () => RenderLatency(results, what)),
            ChartFile.Write(directory, stem + TimelineSuffix, "throughput and p99 over time", () => RenderTimeline(results, what)),
        ];
    }

    /// <summary>The latency CDF of <paramref name="results"/>, one curve per target.</summary>
    public static RenderedChart RenderLatency(IReadOnlyList<BenchResult> results, string what)
    {
        ArgumentNullException.ThrowIfNull(results);
        return LatencyCdfChart.Render(
            $"strata bench {what}: latency by percentile",
            [.. results.Select(r => new LatencyCurve(SideBySideReport.NameOf(r), r.LatencyDistribution, r.Latency.Count > 0 ? r.Latency.P99Ms : null))]);
    }

    /// <summary>Throughput and p99 per sampling interval of <paramref name="results"/>, one line per target.</summary>
    public static RenderedChart RenderTimeline(IReadOnlyList<BenchResult> results, string what)
    {
        ArgumentNullException.ThrowIfNull(results);
        return TimeSeriesChart.Render(
            $"strata bench {what}: throughput and p99 per interval",
            [.. results.Select(r => new TimeSeries(SideBySideReport.NameOf(r), Buckets(r.Timeline)))],
            [],
            "seconds into the measured window");
    }

    /// <summary>
    /// The timeline samples as buckets, each from the previous sample's end to its own. The last sample holds the
    /// operations that finished after the window closed; when it spans less than half the interval before it, its
    /// rate is noise (a few completions over milliseconds) and it is left out.
    /// </summary>
    public static IReadOnlyList<TimeBucket> Buckets(IReadOnlyList<TimelineSample> timeline)
    {
        ArgumentNullException.ThrowIfNull(timeline);
        var buckets = new List<TimeBucket>(timeline.Count);
        double start = 0;
        foreach (TimelineSample s in timeline)
        {
            buckets.Add(new TimeBucket(start, s.EndSecond, s.OperationsPerSecond, s.Operations > 0 ? s.P99Ms : null));
            start = s.EndSecond;
        }

        if (buckets.Count >= 2)
        {
            TimeBucket last = buckets[^1];
            TimeBucket before = buckets[^2];
            if (last.EndSecond - last.StartSecond < (before.EndSecond - before.StartSecond) / 2)
            {
                buckets.RemoveAt(buckets.Count - 1);
            }
        }

        return buckets;
    }
}
