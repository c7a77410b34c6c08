using ScottPlot;

namespace Strata.Bench.Plots;

/// <summary>One time bucket of a series: completions per second in [<paramref name="StartSecond"/>, <paramref name="EndSecond"/>) and their p99.</summary>
/// <param name="StartSecond">Start of the bucket, seconds on the chart's time axis.</param>
/// <param name="EndSecond">End of the bucket.</param>
/// <param name="OperationsPerSecond">Operations completed in the bucket per second.</param>
/// <param name="P99Ms">p99 latency of those operations; null when none completed.</param>
public sealed record TimeBucket(double StartSecond, double EndSecond, double OperationsPerSecond, double? P99Ms);

/// <summary>One line on each panel of a <see cref="TimeSeriesChart"/> (e.g. one target of a bench, or one outcome of a chaos run).</summary>
/// <param name="Name">Legend text.</param>
/// <param name="Buckets">Buckets in time order.</param>
/// <param name="ShowLatency">Whether the series also gets a p99 line (false for series whose latency means nothing, such as calls that got no answer).</param>
public sealed record TimeSeries(string Name, IReadOnlyList<TimeBucket> Buckets, bool ShowLatency = true);

/// <summary>
/// A time window shaded on both panels and labelled above the top one (a fault, from its start to its heal), with an
/// optional lighter tail after it (until the cluster served again).
/// </summary>
/// <param name="StartSecond">Start, seconds on the time axis.</param>
/// <param name="EndSecond">End (at least the start; a zero-length window is drawn a few pixels wide).</param>
/// <param name="Label">Short text, e.g. <c>kill n2</c>.</param>
/// <param name="AftermathEndSecond">End of the lighter tail that starts at <paramref name="EndSecond"/>; none when null.</param>
public sealed record ShadedWindow(double StartSecond, double EndSecond, string Label, double? AftermathEndSecond = null);

/// <summary>
/// Throughput and p99 latency over time: two panels sharing the time axis — operations per second per bucket above,
/// p99 per bucket below (log scale) — one line per <see cref="TimeSeries"/> in <see cref="ChartPalette.Series"/>
/// order, with optional <see cref="ShadedWindow"/>s (faults) shaded in <see cref="ChartPalette.Window"/> on both and
/// labelled above. Used by <c>strata bench</c> (one series per target) and <c>strata chaos</c> (faults shaded).
/// Stateless; callable from any thread (charts are drawn one at a time: ScottPlot's font registry is process-wide).
/// </summary>
public static class TimeSeriesChart
{
    /// <summary>Renders the chart; throws <see cref="PlotFontMissingException"/> when no font is installed.</summary>
    /// <param name="title">The chart's title.</param>
    /// <param name="series">The lines.</param>
    /// <param name="windows">Shaded windows (may be empty).</param>
    /// <param name="timeAxisLabel">Label of the shared time axis.</param>
    /// <param name="width">Pixels.</param>
    /// <param name="height">Pixels.</param>
    public static RenderedChart Render(
        string title, IReadOnlyList<TimeSeries> series, IReadOnlyList<ShadedWindow> windows, string timeAxisLabel = "seconds", int width = 1000, int height = 640)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(windows);
        string family = PlotFont.Ensure();
        lock (ChartCanvas.Gate)
        {
            return Draw(family, title, series, windows, timeAxisLabel, width, height);
        }
    }

    private static RenderedChart Draw(
        string family, string title, IReadOnlyList<TimeSeries> series, IReadOnlyList<ShadedWindow> windows, string timeAxisLabel, int width, int height)
    {
        double xMax = Math.Max(
            series.SelectMany(s => s.Buckets).Select(b => b.EndSecond).DefaultIfEmpty(1).Max(),
            windows.Select(w => w.EndSecond).DefaultIfEmpty(0).Max());
        double xMin = Math.Min(0, series.SelectMany(s => s.Buckets).Select(b => b.StartSecond).DefaultIfEmpty(0).Min());
        if (xMax <= xMin)
        {
            xMax = xMin + 1;
        }

        Plot throughput = ChartCanvas.NewPlot(family);
        throughput.Title(title);
        throughput.YLabel("ops/s");
        Plot latency = ChartCanvas.NewPlot(family);
        latency.XLabel(timeAxisLabel);
        latency.YLabel("p99 (ms, log)");

        // Windows first, so the lines are drawn over them.
        double maxRate = series.SelectMany(s => s.Buckets).Select(b => b.OperationsPerSecond).DefaultIfEmpty(1).Max();
        maxRate = maxRate > 0 ? maxRate : 1;
        double minimumWidth = (xMax - xMin) / 400;
        foreach (ShadedWindow w in windows)
        {
            double end = Math.Max(w.EndSecond, w.StartSecond + minimumWidth);
            foreach (Plot panel in new[] { throughput, latency })
            {
                Shade(panel, w.StartSecond, end, ChartPalette.Window);
                if (w.AftermathEndSecond is double after && after > end)
                {
                    Shade(panel, end, after, ChartPalette.Aftermath);
                }
            }
        }

        // Headroom above the highest bucket: the legend's row at the top, then (with windows) three rows of labels,
        // staggered so neighbouring faults do not overwrite each other, all above the lines.
        double yTop = maxRate * (windows.Count > 0 ? 1.5 : 1.25);
        for (int i = 0; i < windows.Count; i++)
        {
            var text = throughput.Add.Text(windows[i].Label, windows[i].StartSecond, maxRate * (1.30 - (0.09 * (i % 3))));
            text.LabelFontName = family;
            text.LabelFontSize = 11;
            text.LabelFontColor = ChartPalette.WindowLabel;
            text.LabelAlignment = Alignment.UpperLeft;
        }

        var latencies = new List<double>();
        for (int i = 0; i < series.Count; i++)
        {
            TimeSeries s = series[i];
            if (s.Buckets.Count == 0)
            {
                continue;
            }

            Color color = ChartPalette.SeriesColor(i);
            double[] mid = [.. s.Buckets.Select(b => (b.StartSecond + b.EndSecond) / 2)];
            double[] rates = [.. s.Buckets.Select(b => b.OperationsPerSecond)];
            var rate = throughput.Add.ScatterLine(mid, rates, color);
            rate.LineWidth = 2;
            rate.LegendText = s.Name;
            if (!s.ShowLatency)
            {
                continue;
            }

            // One line per run of buckets that have a p99: a bucket without completions is a gap, not a slope.
            foreach (List<TimeBucket> run in Runs(s.Buckets))
            {
                double[] at = [.. run.Select(b => (b.StartSecond + b.EndSecond) / 2)];
                double[] logs = [.. run.Select(b => ChartCanvas.Log(b.P99Ms!.Value))];
                var p99 = latency.Add.ScatterLine(at, logs, color);
                p99.LineWidth = 2;
                p99.MarkerSize = run.Count == 1 ? 5 : 0;
                latencies.AddRange(run.Select(b => b.P99Ms!.Value));
            }
        }

        throughput.Axes.SetLimits(xMin, xMax, 0, yTop);
        throughput.Legend.IsVisible = series.Count > 1;
        throughput.Legend.Alignment = Alignment.UpperRight;
        throughput.Legend.Orientation = Orientation.Horizontal;
        (double low, double high) = ChartCanvas.LogMillisecondsAxis(latency.Axes.Left, latencies);
        latency.Axes.SetLimits(xMin, xMax, low, high);
        latency.Legend.IsVisible = false;
        return ChartCanvas.Render(width, height, [("throughput", throughput, 0.55), ("p99", latency, 0.45)]);
    }

    private static void Shade(Plot panel, double from, double to, Color color)
    {
        var span = panel.Add.HorizontalSpan(from, to);
        span.FillStyle.Color = color;
        span.LineStyle.Width = 0;
        span.IsDraggable = false;
    }

    /// <summary>Maximal runs of adjacent buckets (each starting where the previous ended) that have a p99.</summary>
    private static IEnumerable<List<TimeBucket>> Runs(IReadOnlyList<TimeBucket> buckets)
    {
        var run = new List<TimeBucket>();
        foreach (TimeBucket b in buckets)
        {
            bool adjacent = run.Count > 0 && Math.Abs(run[^1].EndSecond - b.StartSecond) < 1e-9;
            if (b.P99Ms is not > 0 || (run.Count > 0 && !adjacent))
            {
                if (run.Count > 0)
                {
                    yield return run;
                    run = [];
                }

                if (b.P99Ms is not > 0)
                {
                    continue;
                }
            }

            run.Add(b);
        }

        if (run.Count > 0)
        {
            yield return run;
        }
    }
}
