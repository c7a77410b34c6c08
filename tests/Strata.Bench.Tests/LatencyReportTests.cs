using System.Text.Json;
using HdrHistogram;

namespace Strata.Bench.Tests;

public sealed class LatencyReportTests
{
    [Fact]
    public void Percentiles_of_known_values_are_within_histogram_precision()
    {
        LongHistogram histogram = LatencySummary.NewHistogram();
        for (long us = 1; us <= 10_000; us++)
        {
            histogram.RecordValue(us); // 1 µs .. 10 ms, one each
        }

        LatencySummary summary = LatencySummary.Of(histogram);
        Assert.Equal(10_000, summary.Count);
        AssertClose(5.0, summary.P50Ms);
        AssertClose(9.0, summary.P90Ms);
        AssertClose(9.9, summary.P99Ms);
        AssertClose(9.99, summary.P999Ms);
        AssertClose(10.0, summary.MaxMs);
        AssertClose(5.0, summary.MeanMs);
    }

    [Fact]
    public void Nothing_recorded_summarises_as_zeros()
    {
        Assert.Equal(LatencySummary.Empty, LatencySummary.Of(LatencySummary.NewHistogram()));
    }

    [Fact]
    public void Recorder_counts_outcomes_per_kind_and_harvests_every_value_once()
    {
        var recorder = new LatencyRecorder();
        recorder.Record(OperationKind.Stat, OperationOutcome.Success, 100);
        recorder.Record(OperationKind.Stat, OperationOutcome.Error, 200, "NotFound");
        HistogramBase first = recorder.Harvest();
        recorder.Record(OperationKind.ConditionalUpdate, OperationOutcome.Conflict, 3_000);
        recorder.Record(OperationKind.Create, OperationOutcome.Error, 0, "Unavailable"); // clamped to 1 µs
        recorder.RecordWarmup();
        HistogramBase second = recorder.Harvest();

        Assert.Equal(2, first.TotalCount);
        Assert.Equal(2, second.TotalCount);
        Assert.Equal(4, recorder.TotalLatency.TotalCount);
        Assert.Equal(2, recorder.TotalLatencyOf(OperationKind.Stat).TotalCount);
        Assert.Equal(1, recorder.Count(OperationKind.Stat, OperationOutcome.Success));
        Assert.Equal(1, recorder.Count(OperationKind.ConditionalUpdate, OperationOutcome.Conflict));
        Assert.Equal(2, recorder.Count(OperationOutcome.Error));
        Assert.Equal(new Dictionary<string, long> { ["NotFound"] = 1, ["Unavailable"] = 1 }, recorder.ErrorsByKind());
        Assert.Equal(1, recorder.WarmupOperations);
        Assert.Equal(1, recorder.TotalLatency.GetValueAtPercentile(0));
    }

    [Fact]
    public void Concurrent_writers_lose_nothing()
    {
        var recorder = new LatencyRecorder();
        Parallel.For(0, 8, worker =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                recorder.Record(OperationKind.Stat, OperationOutcome.Success, 1 + i);
            }
        });
        recorder.Harvest();
        Assert.Equal(80_000, recorder.TotalLatency.TotalCount);
        Assert.Equal(80_000, recorder.Count(OperationKind.Stat, OperationOutcome.Success));
    }

    [Fact]
    public void Json_and_markdown_carry_the_figures()
    {
        BenchResult result = SampleResult();
        using JsonDocument json = JsonDocument.Parse(BenchReport.ToJson(result));
        JsonElement root = json.RootElement;
        Assert.Equal("ViralMix", root.GetProperty("workload").GetString());
        Assert.Equal(1000, root.GetProperty("operations").GetInt64());
        Assert.Equal(2.5, root.GetProperty("latency").GetProperty("p99Ms").GetDouble());
        Assert.Equal(3, root.GetProperty("errorsByKind").GetProperty("NotFound").GetInt64());
        Assert.Equal("ConditionalUpdate", root.GetProperty("byOperation")[1].GetProperty("operation").GetString());
        Assert.False(root.TryGetProperty("openLoop", out _));

        string markdown = BenchReport.ToMarkdown(result, "strata bench -w c");
        Assert.Contains("Command: `strata bench -w c`", markdown, StringComparison.Ordinal);
        Assert.Contains("| all | 1,000 | 100 | 3 | 7 | 0.5 | 1.2 | 2.5 | 4 | 9.75 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| conditional update | 20 | 2 | 0 | 7 |", markdown, StringComparison.Ordinal);
        Assert.Contains("Errors by kind: NotFound 3", markdown, StringComparison.Ordinal);
        Assert.Contains("20 attempts, 13 commits, 7 conflicts", markdown, StringComparison.Ordinal);
    }

    internal static BenchResult SampleResult()
    {
        var latency = new LatencySummary(1000, 0.7, 0.5, 1.2, 2.5, 4, 9.75);
        return new BenchResult
        {
            Workload = BenchWorkload.ViralMix,
            Mode = LoadMode.Closed,
            Options = new BenchOptions { Workload = BenchWorkload.ViralMix, Duration = TimeSpan.FromSeconds(10) },
            Bucket = "b",
            Target = "test",
            StartedUtc = "2026-01-01T00:00:00.0000000+00:00",
            Machine = new MachineInfo("m", 2, "linux", ".NET"),
            Preload = new PreloadInfo(100, 1, 100),
            WarmupOperations = 5,
            MeasuredSeconds = 10,
            ElapsedSeconds = 10,
            Operations = 1000,
            Successes = 990,
            Conflicts = 7,
            Errors = 3,
            Throughput = 100,
            Latency = latency,
            ByOperation =
            [
                new OperationResult(OperationKind.Stat, 980, 977, 0, 3, 98, latency),
                new OperationResult(OperationKind.ConditionalUpdate, 20, 13, 7, 0, 2, latency),
            ],
            ErrorsByKind = new Dictionary<string, long> { ["NotFound"] = 3 },
            Occ = new OccResult(20, 13, 7, 0, 0.35, 1.3, 100),
            Timeline = [new TimelineSample(1, 100, 100, 0, 0.5, 2.5, 9.75)],
        };
    }

    private static void AssertClose(double expected, double actual) =>
        Assert.InRange(actual, expected * 0.995, expected * 1.005);
}
