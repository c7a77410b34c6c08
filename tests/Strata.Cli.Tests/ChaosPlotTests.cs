using System.Buffers.Binary;
using SkiaSharp;
using Strata.Bench.Plots;
using Strata.Cli.Chaos;
using Strata.Linearizability.Models;

namespace Strata.Cli.Tests;

/// <summary>
/// The chaos report's plot from a hand-built run: judging it writes <c>plot.png</c> with the fault windows shaded
/// where the faults were, the summary links it, and the buckets count what the history says.
/// </summary>
public sealed class ChaosPlotTests : IDisposable
{
    private const long Second = 1_000_000_000;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "strata-chaos-plot-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public async Task Judging_a_run_writes_plot_png_with_each_fault_shaded_in_its_window_and_the_summary_links_it()
    {
        ChaosRun run = Run();

        ChaosVerdict verdict = await ChaosReport.CheckAndWriteAsync(run, _folder, CancellationToken.None);

        Assert.Equal(ChaosVerdict.Linearizable, verdict.Verdict);
        byte[] png = File.ReadAllBytes(Path.Combine(_folder, ChaosPlot.FileName));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        RenderedChart layout = ChaosPlot.Render(run); // the same chart, for where its panels are
        Assert.Equal(layout.Width, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(layout.Height, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));

        using SKBitmap bitmap = SKBitmap.Decode(png);
        (byte r, byte g, byte b) shade = ChartPalette.WindowOverWhite;
        foreach (ChartPanel panel in layout.Panels)
        {
            Assert.True(Shaded(bitmap, panel, 5.2, 7.8, shade) > 500, $"{panel.Name}: the kill (5–8 s) is not shaded");
            Assert.True(Shaded(bitmap, panel, 12.2, 14.8, shade) > 500, $"{panel.Name}: the pause (12–15 s) is not shaded");
            Assert.Equal(0, Shaded(bitmap, panel, 0.5, 4.5, shade));
            Assert.Equal(0, Shaded(bitmap, panel, 8.5, 11.5, shade));
            Assert.True(Shaded(bitmap, panel, 8.2, 8.8, ChartPalette.AftermathOverWhite, tolerance: 3) > 100, $"{panel.Name}: the kill's aftermath (8–9 s) is not shaded");
            Assert.Equal(0, Shaded(bitmap, panel, 9.3, 11.5, ChartPalette.AftermathOverWhite, tolerance: 3));
            Assert.Equal(0, Shaded(bitmap, panel, 15.5, 19.5, shade));
        }

        ScottPlot.Color answered = ChartPalette.SeriesColor(0);
        ChartPanel throughput = layout.Panels[0];
        Assert.True(Shaded(bitmap, throughput, 0.5, 19.5, (answered.R, answered.G, answered.B), tolerance: 40) > 200, "no throughput line");

        string summary = File.ReadAllText(Path.Combine(_folder, ChaosReport.SummaryFile));
        Assert.Contains($"- Plot: ![throughput and p99 latency over time, faults shaded]({ChaosPlot.FileName})", summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_that_stopped_before_any_operation_still_gets_a_plot()
    {
        ChaosRun stopped = Run() with { History = [], Failure = "the cluster did not start", Faults = [new FaultEvent { Number = 0, Kind = "crash", Node = 1, StartNanos = 2 * Second }] };

        ChartFile plot = ChaosPlot.Write(stopped, _folder);

        Assert.True(plot.Written, plot.Failure);
        byte[] png = File.ReadAllBytes(Path.Combine(_folder, ChaosPlot.FileName));
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        Assert.Equal("- Plot: ![throughput and p99 latency over time, faults shaded](plot.png)", ChaosPlot.SummaryLine(_folder));
    }

    [Fact]
    public void Buckets_count_answers_by_answer_time_and_unanswered_calls_by_call_time()
    {
        ChaosOperation[] history =
        [
            Op(0, call: 100_000_000, ret: 200_000_000),                         // bucket 0, 100 ms
            Op(1, call: 300_000_000, ret: 1_300_000_000),                       // bucket 1, 1,000 ms
            Op(2, call: 1_400_000_000, ret: 1_410_000_000, ChaosOutcome.Failed), // bucket 1, 10 ms
            Op(3, call: 3_500_000_000, ret: null),                              // no answer, called in bucket 3
            Op(4, call: 3_600_000_000, ret: 3_700_000_000) with { Final = true }, // a final read: not load
        ];

        IReadOnlyList<TimeSeries> series = ChaosPlot.Series([.. history.Where(o => !o.Final)], bucketSeconds: 1);

        Assert.Equal(2, series.Count);
        Assert.Equal(
            [new TimeBucket(0, 1, 1, 100), new TimeBucket(1, 2, 2, 1_000), new TimeBucket(2, 3, 0, null), new TimeBucket(3, 4, 0, null)],
            series[0].Buckets);
        Assert.Equal([0.0, 0, 0, 1], series[1].Buckets.Select(b => b.OperationsPerSecond));
        Assert.False(series[1].ShowLatency);
        Assert.Single(ChaosPlot.Series([history[0]], 1)); // nothing unanswered: one series
        Assert.Equal(1, ChaosPlot.BucketSeconds(299));
        Assert.Equal(2, ChaosPlot.BucketSeconds(301));
    }

    [Fact]
    public void Windows_run_from_each_fault_to_its_heal_and_skipped_faults_are_left_out()
    {
        IReadOnlyList<ShadedWindow> windows = ChaosPlot.Windows(
        [
            new FaultEvent { Number = 2, Kind = "pause", Node = 1, StartNanos = 12 * Second, HealNanos = 15 * Second },
            new FaultEvent { Number = 1, Kind = "kill", Node = 2, WasLeader = true, StartNanos = 5 * Second, HealNanos = 8 * Second, ReadyNanos = 9 * Second },
            new FaultEvent { Number = 3, Kind = "decommission", Node = 3, Skipped = true, StartNanos = 16 * Second },
            new FaultEvent { Number = 0, Kind = "crash", Node = 3, StartNanos = 17 * Second },
        ]);

        Assert.Equal(
            [new ShadedWindow(5, 8, "kill n2 (leader)", 9), new ShadedWindow(12, 15, "pause n1"), new ShadedWindow(17, 17, "crash n3")],
            windows);
    }

    private static ChaosRun Run()
    {
        // 20 s of writes to one key, one every 100 ms, each answered 5 ms after its call (50 ms during the faults);
        // two calls during the kill got no answer.
        var history = new List<ChaosOperation>();
        long value = 0;
        for (long at = 50_000_000; at < 20 * Second; at += 100_000_000)
        {
            bool faulted = at is >= 5 * Second and < 8 * Second or >= 12 * Second and < 15 * Second;
            bool lost = at is >= 6 * Second and < 6 * Second + 200_000_000;
            long latency = faulted ? 50_000_000 : 5_000_000;
            history.Add(new ChaosOperation
            {
                Index = history.Count, Process = 0, Client = 0, Key = "registers/r000", Kind = CasRegisterOp.Write, Value = ++value, CallNanos = at,
                ReturnNanos = lost ? null : at + latency, Outcome = lost ? ChaosOutcome.Indeterminate : ChaosOutcome.Ok,
                Generation = lost ? null : (ulong)(1000 + history.Count), Error = lost ? "DeadlineExceeded: no answer" : null,
            });
        }

        history.Add(new ChaosOperation
        {
            Index = history.Count, Process = -1, Client = -1, Key = "registers/r000", Kind = CasRegisterOp.Read, CallNanos = 20 * Second + 1,
            ReturnNanos = 20 * Second + 2, Outcome = ChaosOutcome.Ok, Found = true, ReadValue = value, Node = 1, Final = true,
        });

        return new ChaosRun
        {
            Command = "strata chaos --seed 9 (synthetic)",
            Options = new ChaosOptions { Seed = 9, Keys = 1, Faults = [FaultKind.Kill, FaultKind.Pause] },
            Bucket = "chaos",
            StartedUtc = DateTimeOffset.UnixEpoch,
            Seconds = 20,
            History = history,
            Plan = [],
            Faults =
            [
                new FaultEvent { Number = 1, Kind = "kill", Node = 2, WasLeader = true, StartNanos = 5 * Second, HealNanos = 8 * Second, ReadyNanos = 9 * Second },
                new FaultEvent { Number = 2, Kind = "pause", Node = 1, StartNanos = 12 * Second, HealNanos = 15 * Second, ReadyNanos = 15 * Second },
            ],
        };
    }

    private static ChaosOperation Op(int index, long call, long? ret, ChaosOutcome outcome = ChaosOutcome.Ok) => new()
    {
        Index = index, Process = 0, Client = 0, Key = "registers/r000", Kind = CasRegisterOp.Write, Value = index + 1, CallNanos = call, ReturnNanos = ret,
        Outcome = ret is null ? ChaosOutcome.Indeterminate : outcome,
    };

    /// <summary>Pixels of <paramref name="color"/> inside <paramref name="panel"/> between two times (seconds).</summary>
    private static int Shaded(SKBitmap bitmap, ChartPanel panel, double from, double to, (byte R, byte G, byte B) color, int tolerance = 6)
    {
        int count = 0;
        for (int x = (int)Math.Ceiling(panel.PixelX(from)); x <= (int)panel.PixelX(to); x++)
        {
            for (int y = (int)panel.Top + 1; y < (int)panel.Bottom; y++)
            {
                SKColor p = bitmap.GetPixel(x, y);
                if (Math.Abs(p.Red - color.R) <= tolerance && Math.Abs(p.Green - color.G) <= tolerance && Math.Abs(p.Blue - color.B) <= tolerance)
                {
                    count++;
                }
            }
        }

        return count;
    }
}
