using System.Globalization;
using Strata.Bench.Plots;

namespace Strata.Cli.Chaos;

/// <summary>
/// The plot of a chaos run, <c>plot.png</c> in its report folder: throughput and p99 latency per time bucket over
/// the run, with every fault's window (from its start to its heal; lighter until the cluster served again) shaded and
/// labelled by kind and node — what the
/// clients saw while the cluster was being broken. Drawn by the <see cref="TimeSeriesChart"/> that
/// <c>strata bench</c> uses.
/// </summary>
/// <remarks>
/// <para>Series: <b>answered</b> — workload operations that got an answer (ok or failed), counted in the bucket of
/// their answer, with the p99 of their latency (answer − call); <b>no answer</b> — indeterminate operations, counted
/// in the bucket of their call (they have no answer time), drawn only when there are any. Final reads are left out:
/// they check the cluster after the heal, they are not load.</para>
/// <para>Buckets are 1 s, wider for runs over 300 s (at most 300 buckets). Time is seconds since the run began, the
/// clock of <c>history.jsonl</c> and <c>faults.json</c>. Stateless.</para>
/// </remarks>
internal static class ChaosPlot
{
    public const string FileName = "plot.png";

    private const string Title = "throughput and p99 latency over time, faults shaded";

    /// <summary>Renders the plot into <paramref name="folder"/>/<see cref="FileName"/>; a missing font is returned as the failure, not thrown.</summary>
    public static ChartFile Write(ChaosRun run, string folder)
    {
        ArgumentNullException.ThrowIfNull(run);
        return ChartFile.Write(folder, FileName, Title, () => Render(run));
    }

    /// <summary>The summary's line about the plot: an image link, or why there is none.</summary>
    public static string SummaryLine(string folder) => File.Exists(Path.Combine(folder, FileName))
        ? $"- Plot: ![{Title}]({FileName})"
        : $"- Plot: not drawn ({ChartFile.RendererProblem() ?? "the run stopped before it was judged"})";

    /// <summary>The chart of <paramref name="run"/>.</summary>
    public static RenderedChart Render(ChaosRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        List<ChaosOperation> workload = [.. run.History.Where(o => !o.Final)];
        long end = Math.Max(
            workload.Select(o => o.ReturnNanos ?? o.CallNanos).DefaultIfEmpty(0).Max(),
            run.Faults.Select(f => f.HealNanos ?? f.StartNanos).DefaultIfEmpty(0).Max());
        double bucket = BucketSeconds(ChaosClock.Seconds(end));
        ChaosOptions o = run.Options;
        string faults = o.Faults.Count == 0 ? "no faults" : "faults " + string.Join(",", o.Faults.Select(ChaosOptions.Name));
        string title = string.Create(CultureInfo.InvariantCulture,
            $"strata chaos, {o.Nodes} nodes, {faults}, seed {o.Seed}: {Title}");
        return TimeSeriesChart.Render(title, Series(workload, bucket), Windows(run.Faults),
            "seconds since the run began; shaded: each fault from its start to its heal, lighter until the cluster served again");
    }

    /// <summary>The bucket width for a run of <paramref name="seconds"/>: 1 s, or wider to keep at most 300 buckets.</summary>
    public static double BucketSeconds(double seconds) => Math.Max(1, Math.Ceiling(seconds / 300));

    /// <summary>The answered operations (by answer time, with p99) and, when any, the unanswered ones (by call time).</summary>
    public static IReadOnlyList<TimeSeries> Series(IReadOnlyList<ChaosOperation> workload, double bucketSeconds)
    {
        ArgumentNullException.ThrowIfNull(workload);
        var answered = new SortedDictionary<long, List<double>>();
        var unanswered = new SortedDictionary<long, int>();
        long last = 0;
        foreach (ChaosOperation op in workload)
        {
            if (op.ReturnNanos is long returned && op.Outcome != ChaosOutcome.Indeterminate)
            {
                long b = BucketOf(returned, bucketSeconds);
                if (!answered.TryGetValue(b, out List<double>? latencies))
                {
                    answered[b] = latencies = [];
                }

                latencies.Add((returned - op.CallNanos) / 1e6);
                last = Math.Max(last, b);
            }
            else
            {
                long b = BucketOf(op.CallNanos, bucketSeconds);
                unanswered[b] = unanswered.GetValueOrDefault(b) + 1;
                last = Math.Max(last, b);
            }
        }

        // Every bucket up to the last, empty ones included: a stall is a drop to zero, not a line across it.
        var answeredBuckets = new List<TimeBucket>();
        var unansweredBuckets = new List<TimeBucket>();
        for (long b = 0; b <= last && workload.Count > 0; b++)
        {
            double start = b * bucketSeconds;
            List<double>? latencies = answered.GetValueOrDefault(b);
            answeredBuckets.Add(new TimeBucket(start, start + bucketSeconds, (latencies?.Count ?? 0) / bucketSeconds, latencies is null ? null : P99(latencies)));
            unansweredBuckets.Add(new TimeBucket(start, start + bucketSeconds, unanswered.GetValueOrDefault(b) / bucketSeconds, null));
        }

        var series = new List<TimeSeries> { new("answered (ok or failed)", answeredBuckets) };
        if (unanswered.Count > 0)
        {
            series.Add(new TimeSeries("no answer (by call time)", unansweredBuckets, ShowLatency: false));
        }

        return series;
    }

    /// <summary>
    /// One window per fault that happened (skipped ones left out), from its start to its heal, labelled "kind nN",
    /// with a lighter tail until the cluster was seen serving again.
    /// </summary>
    public static IReadOnlyList<ShadedWindow> Windows(IReadOnlyList<FaultEvent> faults)
    {
        ArgumentNullException.ThrowIfNull(faults);
        return [.. faults.Where(f => !f.Skipped).OrderBy(f => f.StartNanos).Select(f => new ShadedWindow(
            ChaosClock.Seconds(f.StartNanos),
            ChaosClock.Seconds(f.HealNanos ?? f.StartNanos),
            string.Create(CultureInfo.InvariantCulture, $"{f.Kind} n{f.Node}{(f.WasLeader ? " (leader)" : "")}"),
            f.ReadyNanos is long ready && ready > (f.HealNanos ?? f.StartNanos) ? ChaosClock.Seconds(ready) : null))];
    }

    /// <summary>Nearest-rank p99 of <paramref name="latencies"/> (sorted in place).</summary>
    private static double P99(List<double> latencies)
    {
        latencies.Sort();
        int rank = (int)Math.Ceiling(0.99 * latencies.Count);
        return latencies[Math.Clamp(rank - 1, 0, latencies.Count - 1)];
    }

    private static long BucketOf(long nanos, double bucketSeconds) => (long)Math.Floor(Math.Max(0, ChaosClock.Seconds(nanos)) / bucketSeconds);
}
