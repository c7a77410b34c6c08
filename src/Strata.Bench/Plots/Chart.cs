using System.Globalization;
using ScottPlot;
using SkiaSharp;

namespace Strata.Bench.Plots;

/// <summary>A rendered chart: the PNG, and where each panel's data area landed (to map data to pixels, e.g. in tests).</summary>
/// <param name="Png">The image, PNG-encoded.</param>
/// <param name="Width">Image width, pixels.</param>
/// <param name="Height">Image height, pixels.</param>
/// <param name="Panels">Each panel of the chart, top to bottom.</param>
public sealed record RenderedChart(byte[] Png, int Width, int Height, IReadOnlyList<ChartPanel> Panels);

/// <summary>One panel of a <see cref="RenderedChart"/>: its data area in image pixels and the axis limits drawn there.</summary>
/// <param name="Name">What the panel shows (e.g. <c>throughput</c>).</param>
/// <param name="Left">Left edge of the data area, pixels.</param>
/// <param name="Top">Top edge of the data area, pixels.</param>
/// <param name="Right">Right edge of the data area, pixels.</param>
/// <param name="Bottom">Bottom edge of the data area, pixels.</param>
/// <param name="XMin">Data value at the left edge.</param>
/// <param name="XMax">Data value at the right edge.</param>
/// <param name="YMin">Data value at the bottom edge (for a log axis: its log10).</param>
/// <param name="YMax">Data value at the top edge (for a log axis: its log10).</param>
public sealed record ChartPanel(string Name, float Left, float Top, float Right, float Bottom, double XMin, double XMax, double YMin, double YMax)
{
    /// <summary>The pixel column of data value <paramref name="x"/>.</summary>
    public float PixelX(double x) => Left + (float)((x - XMin) / (XMax - XMin) * (Right - Left));

    /// <summary>The pixel row of data value <paramref name="y"/> (in axis units: log10 for a log axis).</summary>
    public float PixelY(double y) => Bottom - (float)((y - YMin) / (YMax - YMin) * (Bottom - Top));
}

/// <summary>A chart written to a file next to a report (or why it could not be drawn).</summary>
/// <param name="FileName">The file's name, relative to the report (so Markdown can link it).</param>
/// <param name="Title">What it shows, for the link text.</param>
/// <param name="Failure">Null when the file was written; otherwise why not (e.g. no font), in words.</param>
public sealed record ChartFile(string FileName, string Title, string? Failure = null)
{
    /// <summary>Whether the file was written.</summary>
    public bool Written => Failure is null;

    /// <summary>A Markdown image link to the file, or a line saying why there is none.</summary>
    public string ToMarkdown() => Written ? $"![{Title}]({FileName})" : $"({Title}: not drawn — {Failure})";

    /// <summary>
    /// Why charts cannot be drawn on this machine (no usable font, the native renderer does not load), or null when
    /// they can. The same reason <see cref="Write"/> returns as its <see cref="Failure"/>.
    /// </summary>
    public static string? RendererProblem()
    {
        try
        {
            PlotFont.Ensure();
            using var surface = SKSurface.Create(new SKImageInfo(1, 1));
            return surface is null ? "SkiaSharp could not make a surface" : null;
        }
        catch (PlotFontMissingException e)
        {
            return e.Message;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or BadImageFormatException)
        {
            return Unloadable(e);
        }
    }

    /// <summary>
    /// Renders with <paramref name="render"/> and writes the PNG to <paramref name="directory"/>/<paramref name="fileName"/>.
    /// A missing font or a renderer that cannot load (native library) is returned as <see cref="Failure"/>, not thrown:
    /// a report without its plot is still a report. Any other exception propagates (a bug).
    /// </summary>
    public static ChartFile Write(string directory, string fileName, string title, Func<RenderedChart> render)
    {
        ArgumentNullException.ThrowIfNull(render);
        try
        {
            RenderedChart chart = render();
            Directory.CreateDirectory(directory);
            File.WriteAllBytes(Path.Combine(directory, fileName), chart.Png);
            return new ChartFile(fileName, title);
        }
        catch (PlotFontMissingException e)
        {
            return new ChartFile(fileName, title, e.Message);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or BadImageFormatException)
        {
            return new ChartFile(fileName, title, Unloadable(e));
        }
    }

    private static string Unloadable(Exception e) => $"the plot renderer (SkiaSharp) could not load: {e.GetBaseException().Message}";
}

/// <summary>The colours charts draw with (also what tests look for in the pixels).</summary>
public static class ChartPalette
{
    /// <summary>Series colours, in order: the first (Strata's, by convention) blue, then the peers.</summary>
    public static IReadOnlyList<Color> Series { get; } =
    [
        Color.FromHex("#1f77b4"), // blue
        Color.FromHex("#ff7f0e"), // orange
        Color.FromHex("#2ca02c"), // green
        Color.FromHex("#9467bd"), // purple
        Color.FromHex("#8c564b"), // brown
        Color.FromHex("#17becf"), // cyan
    ];

    /// <summary>The colour of series <paramref name="index"/> (cycling).</summary>
    public static Color SeriesColor(int index) => Series[index % Series.Count];

    /// <summary>Fill of a shaded window (a fault): red, mostly transparent, so series stay visible through it.</summary>
    public static Color Window { get; } = Color.FromHex("#d62728").WithAlpha(0.18);

    /// <summary>Fill of the lighter tail after a window (a fault healed, the cluster not serving yet).</summary>
    public static Color Aftermath { get; } = Color.FromHex("#d62728").WithAlpha(0.07);

    /// <summary>What <see cref="Window"/> looks like over the white data background.</summary>
    public static (byte R, byte G, byte B) WindowOverWhite => OverWhite(Window);

    /// <summary>What <see cref="Aftermath"/> looks like over the white data background.</summary>
    public static (byte R, byte G, byte B) AftermathOverWhite => OverWhite(Aftermath);

    /// <summary>What a translucent <paramref name="color"/> looks like drawn over white.</summary>
    public static (byte R, byte G, byte B) OverWhite(Color color)
    {
        double a = color.A / 255.0;
        return (Blend(color.R, a), Blend(color.G, a), Blend(color.B, a));

        static byte Blend(byte channel, double alpha) => (byte)Math.Round((channel * alpha) + (255 * (1 - alpha)));
    }

    /// <summary>Label text of shaded windows.</summary>
    public static Color WindowLabel { get; } = Color.FromHex("#a01010");
}

/// <summary>Rendering shared by the charts: fonts, fixed layout so stacked panels align, PNG encoding, log-axis ticks.</summary>
internal static class ChartCanvas
{
    /// <summary>
    /// Held while a chart is built and drawn: ScottPlot's font lookups go through process-wide state that is not
    /// documented as thread-safe, and drawing takes milliseconds, so charts are simply drawn one at a time.
    /// </summary>
    public static readonly Lock Gate = new();

    /// <summary>Fixed padding around every panel's data area, so stacked panels line up and tests can find them.</summary>
    public const float PadLeft = 78, PadRight = 40, PadTop = 42, PadBottom = 50;

    /// <summary>A new plot with the chart font on every text and the fixed layout.</summary>
    public static Plot NewPlot(string family)
    {
        var plot = new Plot();
        plot.Font.Set(family);
        plot.Layout.Fixed(new PixelPadding(PadLeft, PadRight, PadBottom, PadTop));
        plot.FigureBackground.Color = Colors.White;
        plot.DataBackground.Color = Colors.White;
        plot.Grid.MajorLineColor = Color.FromHex("#e4e4e4");
        plot.Axes.Title.Label.FontSize = 15;
        plot.Legend.FontName = family;
        plot.Legend.FontSize = 11;
        return plot;
    }

    /// <summary>Renders the panels one above the other (heights in proportion to their weights) and encodes a PNG.</summary>
    public static RenderedChart Render(int width, int height, IReadOnlyList<(string Name, Plot Plot, double Weight)> panels)
    {
        if (width < 200 || height < 150)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"a chart needs at least 200 × 150 pixels, not {width} × {height}");
        }

        double total = panels.Sum(p => p.Weight);
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        if (surface is null)
        {
            throw new InvalidOperationException($"SkiaSharp could not make a {width} × {height} surface");
        }

        surface.Canvas.Clear(SKColors.White);
        var layout = new List<ChartPanel>();
        float top = 0;
        foreach ((string name, Plot plot, double weight) in panels)
        {
            float bottom = top + (float)(height * weight / total);
            // A plot clears its figure before drawing: clip it to its own panel so it leaves the others alone.
            surface.Canvas.Save();
            surface.Canvas.ClipRect(new SKRect(0, top, width, bottom));
            plot.Render(surface.Canvas, new PixelRect(0, width, bottom, top));
            surface.Canvas.Restore();
            PixelRect data = plot.LastRender.DataRect;
            AxisLimits limits = plot.Axes.GetLimits();
            layout.Add(new ChartPanel(name, data.Left, data.Top, data.Right, data.Bottom, limits.Left, limits.Right, limits.Bottom, limits.Top));
            top = bottom;
        }

        using SKImage image = surface.Snapshot();
        using SKData png = image.Encode(SKEncodedImageFormat.Png, 100);
        return new RenderedChart(png.ToArray(), width, height, layout);
    }

    /// <summary>
    /// Log10 ticks for a latency axis in milliseconds: a labelled tick per decade (0.01, 0.1, 1, 10, ... ms) and minor
    /// ticks at 2..9 of each; returns the axis limits (log10 of ms): from the decade at or below the smallest value to
    /// a little above the largest, so no line runs along the frame.
    /// </summary>
    public static (double Min, double Max) LogMillisecondsAxis(IAxis axis, IEnumerable<double> milliseconds)
    {
        double[] values = [.. milliseconds.Where(v => v > 0 && double.IsFinite(v)).Select(Log)];
        double smallest = values.Length == 0 ? 0 : values.Min();
        double largest = values.Length == 0 ? 1 : values.Max();
        double low = Math.Floor(smallest);
        if (smallest - low < 0.02)
        {
            low -= 0.1;
        }

        double high = Math.Max(largest + 0.12, low + 1);
        // Over few decades a label per decade is too sparse to read values off: label 2 and 5 of each too.
        bool few = high - low < 2.5;
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int decade = (int)Math.Floor(low); decade <= (int)Math.Ceiling(high); decade++)
        {
            for (int k = 1; k <= 9; k++)
            {
                double ms = k * Math.Pow(10, decade);
                double at = decade + Math.Log10(k);
                if (k == 1 || (few && k is 2 or 5))
                {
                    ticks.AddMajor(at, ms.ToString(ms < 1 ? "0.###" : "#,0", CultureInfo.InvariantCulture));
                }
                else
                {
                    ticks.AddMinor(at);
                }
            }
        }

        axis.TickGenerator = ticks;
        return (low, high);
    }

    /// <summary>log10 of a positive latency (clamped at 1 µs so a 0 cannot leave the axis).</summary>
    public static double Log(double milliseconds) => Math.Log10(Math.Max(milliseconds, 0.001));
}
