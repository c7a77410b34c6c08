using System.Globalization;
using HdrHistogram;
using ScottPlot;

namespace Strata.Bench.Plots;

/// <summary>A latency at a percentile: <paramref name="Percentile"/>% of operations took at most <paramref name="LatencyMs"/>.</summary>
public sealed record PercentilePoint(double Percentile, double LatencyMs)
{
    /// <summary>
    /// The percentile distribution of a histogram of microsecond latencies, as HdrHistogram iterates it
    /// (<paramref name="ticksPerHalfDistance"/> points each time the distance to 100% halves), in milliseconds. The
    /// last point, the maximum, is placed at the percentile of "1 in count" (100 × (1 − 1/count)) rather than at 100,
    /// which no "nines" axis can show. Empty for an empty histogram.
    /// </summary>
    public static IReadOnlyList<PercentilePoint> Distribution(HistogramBase microseconds, int ticksPerHalfDistance = 5)
    {
        ArgumentNullException.ThrowIfNull(microseconds);
        long count = microseconds.TotalCount;
        if (count == 0)
        {
            return [];
        }

        var points = new List<PercentilePoint>();
        double maxPercentile = count > 1 ? 100.0 * (1 - (1.0 / count)) : 0;
        foreach (HdrHistogram.Iteration.HistogramIterationValue v in microseconds.Percentiles(ticksPerHalfDistance))
        {
            double percentile = Math.Min(v.PercentileLevelIteratedTo, maxPercentile);
            double ms = Math.Round(microseconds.HighestEquivalentValue(v.ValueIteratedTo) / 1000.0, 3);
            if (points.Count > 0 && points[^1].Percentile >= percentile)
            {
                // Past "1 in count" every level is the maximum: keep one point, the largest latency.
                points[^1] = points[^1] with { LatencyMs = Math.Max(points[^1].LatencyMs, ms) };
                continue;
            }

            points.Add(new PercentilePoint(Math.Round(percentile, 6), ms));
        }

        return points;
    }
}

/// <summary>One target's latency distribution, drawn as one line.</summary>
/// <param name="Name">The legend text (e.g. <c>strata</c>, <c>redis</c>).</param>
/// <param name="Points">The distribution, percentiles ascending.</param>
/// <param name="P99Ms">The p99 to show in the legend (the report's own figure, so the two agree); none when null.</param>
public sealed record LatencyCurve(string Name, IReadOnlyList<PercentilePoint> Points, double? P99Ms = null);

/// <summary>
/// The latency CDF chart of HdrHistogram's plots: latency (ms, log scale) against percentile on a "nines" axis
/// (−log10(1 − p): 90% at 1, 99% at 2, 99.9% at 3, ...), so the tail gets as much room as the body. One line per
/// curve, in <see cref="ChartPalette.Series"/> order, so Strata and its peers are side by side. Stateless; callable
/// from any thread (charts are drawn one at a time: ScottPlot's font registry is process-wide).
/// </summary>
public static class LatencyCdfChart
{
    /// <summary>The chart's x position of <paramref name="percentile"/> (0 ≤ p &lt; 100): −log10(1 − p/100).</summary>
    public static double Nines(double percentile) => -Math.Log10(1 - (Math.Clamp(percentile, 0, 99.9999999) / 100));

    /// <summary>Renders the curves; throws <see cref="PlotFontMissingException"/> when no font is installed.</summary>
    /// <param name="title">The chart's title.</param>
    /// <param name="curves">One line each; empty curves are left out (and named in the legend as "no data").</param>
    /// <param name="width">Pixels.</param>
    /// <param name="height">Pixels.</param>
    public static RenderedChart Render(string title, IReadOnlyList<LatencyCurve> curves, int width = 900, int height = 540)
    {
        ArgumentNullException.ThrowIfNull(curves);
        string family = PlotFont.Ensure();
        lock (ChartCanvas.Gate)
        {
            return Draw(family, title, curves, width, height);
        }
    }

    private static RenderedChart Draw(string family, string title, IReadOnlyList<LatencyCurve> curves, int width, int height)
    {
        Plot plot = ChartCanvas.NewPlot(family);
        plot.Title(title);
        plot.XLabel("percentile");
        plot.YLabel("latency (ms, log scale)");

        double maxNines = 1;
        for (int i = 0; i < curves.Count; i++)
        {
            LatencyCurve curve = curves[i];
            if (curve.Points.Count == 0)
            {
                continue;
            }

            double[] xs = [.. curve.Points.Select(p => Nines(p.Percentile))];
            double[] ys = [.. curve.Points.Select(p => ChartCanvas.Log(p.LatencyMs))];
            var line = plot.Add.ScatterLine(xs, ys, ChartPalette.SeriesColor(i));
            line.LineWidth = 2.5f;
            line.LegendText = curve.P99Ms is double p99 ? string.Create(CultureInfo.InvariantCulture, $"{curve.Name} (p99 {p99:0.###} ms)") : curve.Name;
            maxNines = Math.Max(maxNines, xs.Max());
        }

        foreach (LatencyCurve empty in curves.Where(c => c.Points.Count == 0))
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"{empty.Name}: no data" });
        }

        // Room for the last point (the maximum, at "1 in count"), and a labelled tick at every nine below it.
        double top = maxNines + 0.15;
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        ticks.AddMajor(0, "0%");
        ticks.AddMajor(Nines(50), "50%");
        for (int n = 1; n <= top; n++)
        {
            // 90%, 99%, 99.9%, ...
            double percentile = 100 * (1 - Math.Pow(10, -n));
            ticks.AddMajor(n, percentile.ToString("0.#########", CultureInfo.InvariantCulture) + "%");
        }

        plot.Axes.Bottom.TickGenerator = ticks;
        (double low, double high) = ChartCanvas.LogMillisecondsAxis(plot.Axes.Left, curves.SelectMany(c => c.Points).Select(p => p.LatencyMs));
        plot.Axes.SetLimits(0, top, low, high);
        plot.Legend.IsVisible = curves.Count > 0;
        // Lower right: latency grows to the right and upward, so that corner stays clear of the lines.
        plot.Legend.Alignment = Alignment.LowerRight;
        return ChartCanvas.Render(width, height, [("latency", plot, 1)]);
    }
}
