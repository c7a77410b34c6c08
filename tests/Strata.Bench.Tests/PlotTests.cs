using System.Buffers.Binary;
using HdrHistogram;
using SkiaSharp;
using Strata.Bench.Plots;
using Color = ScottPlot.Color;

namespace Strata.Bench.Tests;

/// <summary>
/// The charts from known data: each is a real PNG of the requested size whose pixels hold what was drawn — the
/// series colours where the series are, the shaded window's colour inside its time range and nowhere else, text —
/// and a machine without a font gets an error that says what to install instead of a chart without labels.
/// </summary>
public sealed class PlotTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("strata-plots-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void The_latency_cdf_is_a_png_of_the_requested_size_with_one_line_per_target_the_slower_one_above()
    {
        LatencyCurve fast = new("redis", PercentilePoint.Distribution(Histogram(us => 200 + (us % 800))));      // 0.2–1 ms
        LatencyCurve slow = new("strata", PercentilePoint.Distribution(Histogram(us => 2_000 + (us % 8_000)))); // 2–10 ms

        RenderedChart chart = LatencyCdfChart.Render("cdf", [slow, fast], width: 800, height: 500);

        AssertPng(chart.Png, 800, 500);
        using SKBitmap bitmap = SKBitmap.Decode(chart.Png);
        ChartPanel panel = Assert.Single(chart.Panels);
        int column = (int)panel.PixelX(LatencyCdfChart.Nines(90));
        int slowRow = FirstRow(bitmap, column, ChartPalette.SeriesColor(0), panel);
        int fastRow = FirstRow(bitmap, column, ChartPalette.SeriesColor(1), panel);
        Assert.True(slowRow >= 0, "the first target's line is not at the 90% column");
        Assert.True(fastRow >= 0, "the second target's line is not at the 90% column");
        Assert.True(slowRow < fastRow, $"the slower target (row {slowRow}) should be drawn above the faster one (row {fastRow})");

        // Where the data says: strata's p90 is ~9.2 ms, so its line crosses the 90% column near log10(9.2).
        Assert.InRange(slowRow, panel.PixelY(Math.Log10(9.2)) - 6, panel.PixelY(Math.Log10(9.2)) + 6);
        AssertHasText(bitmap, 0, 0, bitmap.Width, (int)panel.Top);                                  // the title
        AssertHasText(bitmap, 0, (int)panel.Top, (int)panel.Left - 4, (int)panel.Bottom);            // latency tick labels
    }

    [Fact]
    public void The_time_series_shades_each_window_only_inside_its_time_range_and_draws_each_series()
    {
        TimeBucket[] rate = [.. Enumerable.Range(0, 30).Select(s => new TimeBucket(s, s + 1, s is >= 10 and < 13 ? 100 : 5_000, s is >= 10 and < 13 ? 800 : 4))];
        TimeBucket[] lost = [.. Enumerable.Range(0, 30).Select(s => new TimeBucket(s, s + 1, s is >= 10 and < 13 ? 2_500 : 0, null))];
        ShadedWindow kill = new(10, 13, "kill n2");

        RenderedChart chart = TimeSeriesChart.Render("chaos", [new TimeSeries("answered", rate), new TimeSeries("no answer", lost, ShowLatency: false)], [kill], width: 1000, height: 600);

        AssertPng(chart.Png, 1000, 600);
        using SKBitmap bitmap = SKBitmap.Decode(chart.Png);
        Assert.Equal(["throughput", "p99"], chart.Panels.Select(p => p.Name));
        (byte r, byte g, byte b) shade = ChartPalette.WindowOverWhite;
        foreach (ChartPanel panel in chart.Panels)
        {
            int inside = CountInColumns(bitmap, panel, panel.PixelX(10.5), panel.PixelX(12.5), shade, tolerance: 6);
            int before = CountInColumns(bitmap, panel, panel.PixelX(1), panel.PixelX(9.5), shade, tolerance: 6);
            int after = CountInColumns(bitmap, panel, panel.PixelX(13.5), panel.PixelX(29), shade, tolerance: 6);
            Assert.True(inside > 1000, $"{panel.Name}: only {inside} shaded pixels inside the window");
            Assert.Equal(0, before);
            Assert.Equal(0, after);
        }

        ChartPanel throughput = chart.Panels[0];
        ChartPanel latency = chart.Panels[1];
        Color first = ChartPalette.SeriesColor(0);
        Color second = ChartPalette.SeriesColor(1);

        // The first series sits at 5,000 ops/s before the fault: its colour at that height, left of the window.
        int row = FirstRow(bitmap, (int)throughput.PixelX(5.5), first, throughput);
        Assert.InRange(row, throughput.PixelY(5_000) - 4, throughput.PixelY(5_000) + 4);

        // The second series is zero outside the window and 2,500 inside it.
        int lostRow = FirstRow(bitmap, (int)throughput.PixelX(11.5), second, throughput);
        Assert.InRange(lostRow, throughput.PixelY(2_500) - 4, throughput.PixelY(2_500) + 4);

        // p99 is drawn for the first series only (the second's latency means nothing), and jumps inside the window.
        Assert.True(CountInColumns(bitmap, latency, latency.Left, latency.Right, (first.R, first.G, first.B), tolerance: 40) > 100);
        Assert.Equal(0, CountInColumns(bitmap, latency, latency.Left, latency.Right, (second.R, second.G, second.B), tolerance: 40));
        int calm = FirstRow(bitmap, (int)latency.PixelX(5.5), first, latency);
        int spike = FirstRow(bitmap, (int)latency.PixelX(11.5), first, latency);
        Assert.InRange(calm, latency.PixelY(Math.Log10(4)) - 4, latency.PixelY(Math.Log10(4)) + 4);
        Assert.InRange(spike, latency.PixelY(Math.Log10(800)) - 4, latency.PixelY(Math.Log10(800)) + 4);

        AssertHasText(bitmap, 0, 0, bitmap.Width, (int)throughput.Top);                                   // the title
        AssertHasText(bitmap, (int)latency.Left, (int)latency.Bottom + 2, (int)latency.Right, bitmap.Height); // time ticks and axis label
        AssertHasText(bitmap, (int)throughput.PixelX(10), (int)throughput.Top, (int)throughput.PixelX(13), (int)throughput.PixelY(5_000) - 6,
            (ChartPalette.WindowLabel.R, ChartPalette.WindowLabel.G, ChartPalette.WindowLabel.B)); // "kill n2" above the lines
    }

    [Fact]
    public void The_p99_line_breaks_where_no_operation_completed_instead_of_drawing_a_slope_across()
    {
        TimeBucket[] buckets = [.. Enumerable.Range(0, 20).Select(s => new TimeBucket(s, s + 1, s is >= 8 and < 12 ? 0 : 1_000, s is >= 8 and < 12 ? null : 20))];

        RenderedChart chart = TimeSeriesChart.Render("gap", [new TimeSeries("answered", buckets)], [new ShadedWindow(8, 9, "kill n1", AftermathEndSecond: 12)]);

        using SKBitmap bitmap = SKBitmap.Decode(chart.Png);
        ChartPanel latency = chart.Panels[1];
        Color line = ChartPalette.SeriesColor(0);
        Assert.True(CountInColumns(bitmap, latency, latency.PixelX(2), latency.PixelX(7), (line.R, line.G, line.B), tolerance: 40) > 50);
        Assert.Equal(0, CountInColumns(bitmap, latency, latency.PixelX(8.6), latency.PixelX(11.4), (line.R, line.G, line.B), tolerance: 40));
        Assert.True(CountInColumns(bitmap, latency, latency.PixelX(9.2), latency.PixelX(11.8), ChartPalette.AftermathOverWhite, tolerance: 3) > 1000);
        Assert.Equal(0, CountInColumns(bitmap, latency, latency.PixelX(12.3), latency.PixelX(19), ChartPalette.AftermathOverWhite, tolerance: 3));
    }

    [Fact]
    public void Charts_of_nothing_still_render_and_say_so()
    {
        RenderedChart cdf = LatencyCdfChart.Render("nothing measured", [new LatencyCurve("strata", [])], width: 400, height: 300);
        RenderedChart series = TimeSeriesChart.Render("nothing measured", [new TimeSeries("strata", [])], [new ShadedWindow(0, 0, "crash n1")], width: 400, height: 300);

        AssertPng(cdf.Png, 400, 300);
        AssertPng(series.Png, 400, 300);
        using SKBitmap bitmap = SKBitmap.Decode(cdf.Png);
        ChartPanel panel = Assert.Single(cdf.Panels);
        AssertHasText(bitmap, (int)panel.Left, (int)panel.Top, (int)panel.Right, (int)panel.Bottom); // the legend's "strata: no data"
        Assert.Throws<ArgumentOutOfRangeException>(() => LatencyCdfChart.Render("too small", [], width: 100, height: 100));
    }

    [Fact]
    public void Without_a_font_the_error_says_what_to_install()
    {
        string empty = Directory.CreateDirectory(Path.Combine(_directory, "no-fonts")).FullName;

        PlotFontMissingException missing = Assert.Throws<PlotFontMissingException>(
            () => PlotFont.Find(null, [Path.Combine(empty, "DejaVuSans.ttf")], [empty]));

        Assert.Contains(PlotFont.DebianPackage, missing.Message, StringComparison.Ordinal);
        Assert.Contains(PlotFont.OverrideVariable, missing.Message, StringComparison.Ordinal);
        Assert.Contains(empty, missing.Message, StringComparison.Ordinal);

        string notAFont = Path.Combine(_directory, "not-a-font.ttf");
        File.WriteAllText(notAFont, "this is text, not a TrueType font");
        PlotFontMissingException bad = Assert.Throws<PlotFontMissingException>(() => PlotFont.Find(notAFont, PlotFont.KnownFiles, PlotFont.FontDirectories));
        Assert.Contains(notAFont, bad.Message, StringComparison.Ordinal);
        Assert.False(PlotFont.IsUsable(notAFont));
    }

    [Fact]
    public void A_font_is_found_by_searching_a_directory_when_no_known_file_exists()
    {
        (string regular, _) = PlotFont.Find(null, PlotFont.KnownFiles, PlotFont.FontDirectories);
        string nested = Directory.CreateDirectory(Path.Combine(_directory, "fonts", "truetype", "x")).FullName;
        string copy = Path.Combine(nested, "Some-Regular.ttf");
        File.Copy(regular, copy);
        File.WriteAllText(Path.Combine(nested, "Broken.ttf"), "not a font");

        (string found, string bold) = PlotFont.Find(null, [Path.Combine(_directory, "missing.ttf")], [Path.Combine(_directory, "fonts")]);

        Assert.Equal(copy, found);
        Assert.Equal(copy, bold);
    }

    [Fact]
    public void Bench_plots_are_written_for_every_target_and_linked_from_the_markdown()
    {
        BenchResult strata = LatencyReportTests.SampleResult() with
        {
            TargetName = "strata",
            LatencyDistribution = PercentilePoint.Distribution(Histogram(us => 500 + (us % 3_000))),
            Timeline = [.. Enumerable.Range(1, 10).Select(s => new TimelineSample(s, 1_000, 1_000, 0, 0.6, 3.1, 5))],
        };
        BenchResult redis = strata with
        {
            TargetName = "redis",
            LatencyDistribution = PercentilePoint.Distribution(Histogram(us => 100 + (us % 500))),
            Timeline = [.. Enumerable.Range(1, 10).Select(s => new TimelineSample(s, 3_000, 3_000, 0, 0.2, 0.6, 1))],
        };

        IReadOnlyList<ChartFile> plots = BenchPlots.Write([strata, redis], _directory, "c-closed-side-by-side");

        Assert.Equal(["c-closed-side-by-side-latency.png", "c-closed-side-by-side-timeline.png"], plots.Select(p => p.FileName));
        foreach (ChartFile plot in plots)
        {
            Assert.True(plot.Written, plot.Failure);
            byte[] png = File.ReadAllBytes(Path.Combine(_directory, plot.FileName));
            AssertPng(png, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
            using SKBitmap bitmap = SKBitmap.Decode(png);
            Assert.True(Count(bitmap, ChartPalette.SeriesColor(0)) > 200, $"{plot.FileName}: no strata line");
            Assert.True(Count(bitmap, ChartPalette.SeriesColor(1)) > 200, $"{plot.FileName}: no redis line");
        }

        string side = SideBySideReport.ToMarkdown(new SideBySide("strata bench --peers redis", [strata, redis]), plots);
        Assert.Contains("![latency by percentile](c-closed-side-by-side-latency.png)", side, StringComparison.Ordinal);
        Assert.Contains("![throughput and p99 over time](c-closed-side-by-side-timeline.png)", side, StringComparison.Ordinal);

        string single = BenchReport.ToMarkdown(strata, "strata bench", [new ChartFile("x-latency.png", "latency by percentile", "no font here")]);
        Assert.Contains("(latency by percentile: not drawn — no font here)", single, StringComparison.Ordinal);
        Assert.DoesNotContain("## Plots", BenchReport.ToMarkdown(strata, "strata bench"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_distribution_runs_from_the_minimum_to_the_maximum_at_one_in_count()
    {
        LongHistogram histogram = Histogram(us => (us + 1) * 1_000, count: 1_000); // 1 ms .. 1,000 ms, one each

        IReadOnlyList<PercentilePoint> points = PercentilePoint.Distribution(histogram);

        Assert.True(points.Count > 20, $"only {points.Count} points");
        Assert.Equal(points.OrderBy(p => p.Percentile).ToList(), points);
        Assert.Equal(points.Count, points.Select(p => p.Percentile).Distinct().Count());
        Assert.InRange(points[0].LatencyMs, 0.99, 1.01);
        Assert.Equal(99.9, points[^1].Percentile, 6);
        Assert.InRange(points[^1].LatencyMs, 999, 1_001);
        PercentilePoint median = points.First(p => p.Percentile >= 50);
        Assert.InRange(median.LatencyMs, 495, 510);
        Assert.Empty(PercentilePoint.Distribution(LatencySummary.NewHistogram()));
    }

    [Fact]
    public void A_short_trailing_interval_is_left_out_of_the_timeline()
    {
        TimelineSample[] timeline =
        [
            new(1, 100, 100, 0, 1, 2, 3),
            new(2, 100, 100, 0, 1, 2, 3),
            new(2.01, 40, 4_000, 0, 1, 2, 3), // completions after the window closed, over 10 ms
        ];

        IReadOnlyList<TimeBucket> buckets = BenchPlots.Buckets(timeline);

        Assert.Equal([new TimeBucket(0, 1, 100, 2), new TimeBucket(1, 2, 100, 2)], buckets);
        Assert.Equal(3, BenchPlots.Buckets([.. timeline.Take(2), new TimelineSample(2.9, 90, 100, 0, 1, 2, 3)]).Count);
    }

    private static LongHistogram Histogram(Func<long, long> microseconds, int count = 100_000)
    {
        LongHistogram histogram = LatencySummary.NewHistogram();
        for (long i = 0; i < count; i++)
        {
            histogram.RecordValue(microseconds(i));
        }

        return histogram;
    }

    private static void AssertPng(byte[] png, int width, int height)
    {
        Assert.True(png.Length > 1000, $"a {png.Length}-byte PNG");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        Assert.Equal(width, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(height, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        using SKBitmap? decoded = SKBitmap.Decode(png);
        Assert.NotNull(decoded);
        Assert.Equal((width, height), (decoded.Width, decoded.Height));
    }

    /// <summary>The topmost row of <paramref name="column"/> (±1) inside the panel with a pixel close to <paramref name="color"/>; -1 when none.</summary>
    private static int FirstRow(SKBitmap bitmap, int column, Color color, ChartPanel panel)
    {
        for (int y = (int)panel.Top; y <= (int)panel.Bottom; y++)
        {
            for (int x = column - 1; x <= column + 1; x++)
            {
                if (Near(bitmap.GetPixel(x, y), (color.R, color.G, color.B), 40))
                {
                    return y;
                }
            }
        }

        return -1;
    }

    private static int CountInColumns(SKBitmap bitmap, ChartPanel panel, float from, float to, (byte R, byte G, byte B) color, int tolerance)
    {
        int count = 0;
        for (int x = (int)Math.Ceiling(from); x <= (int)to; x++)
        {
            for (int y = (int)panel.Top + 1; y < (int)panel.Bottom; y++)
            {
                if (Near(bitmap.GetPixel(x, y), color, tolerance))
                {
                    count++;
                }
            }
        }

        return count;
    }

    private static int Count(SKBitmap bitmap, Color color)
    {
        int count = 0;
        for (int y = 0; y < bitmap.Height; y++)
        {
            for (int x = 0; x < bitmap.Width; x++)
            {
                if (Near(bitmap.GetPixel(x, y), (color.R, color.G, color.B), 30))
                {
                    count++;
                }
            }
        }

        return count;
    }

    /// <summary>Text was drawn in the rectangle: enough pixels of the text colour (dark grey by default) to be glyphs.</summary>
    private static void AssertHasText(SKBitmap bitmap, int left, int top, int right, int bottom, (byte R, byte G, byte B)? color = null)
    {
        int inked = 0;
        for (int y = Math.Max(0, top); y < Math.Min(bitmap.Height, bottom); y++)
        {
            for (int x = Math.Max(0, left); x < Math.Min(bitmap.Width, right); x++)
            {
                SKColor p = bitmap.GetPixel(x, y);
                bool ink = color is { } c ? Near(p, c, 60) : p.Red < 110 && p.Green < 110 && p.Blue < 110;
                if (ink)
                {
                    inked++;
                }
            }
        }

        Assert.True(inked >= 20, $"no text in ({left},{top})–({right},{bottom}): {inked} inked pixels");
    }

    private static bool Near(SKColor pixel, (byte R, byte G, byte B) color, int tolerance) =>
        Math.Abs(pixel.Red - color.R) <= tolerance && Math.Abs(pixel.Green - color.G) <= tolerance && Math.Abs(pixel.Blue - color.B) <= tolerance;
}
