using System.Globalization;
using System.Text;
using System.Text.Json;
using Strata.Bench.Plots;

namespace Strata.Bench.Scale;

/// <summary>
/// Writes a <see cref="ScaleResult"/>: <c>{stem}.json</c>, <c>{stem}.md</c>, and two plots — the read latency CDF at
/// N/10 and at N (<c>{stem}-latency.png</c>) and the ingest rate and load-transaction p99 over the loading time
/// (<c>{stem}-ingest.png</c>). Stateless.
/// </summary>
public static class ScaleReport
{
    /// <summary>Suffix of the ingest plot.</summary>
    public const string IngestSuffix = "-ingest.png";

    /// <summary>The result as JSON (the shape of <see cref="BenchReport.JsonOptions"/>).</summary>
    public static string ToJson(ScaleResult result) => JsonSerializer.Serialize(result, BenchReport.JsonOptions);

    /// <summary>
    /// The result as Markdown: the command, the setup, the ingest table, the reads at N/10 and N side by side with the
    /// growth of each percentile, the disk usage, and the plots.
    /// </summary>
    public static string ToMarkdown(ScaleResult result, string? command = null, IReadOnlyList<ChartFile>? plots = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        var md = new StringBuilder();
        BenchResult tenth = result.ReadsAtTenth, full = result.ReadsAtFull;
        BenchOptions o = full.Options;
        BenchReport.AppendTitle(md, string.Create(CultureInfo.InvariantCulture, $"strata bench: scale, {result.Objects:N0} objects"), command);

        Line(md, $"- Target: {result.Target}");
        Line(md, $"- Durability: {result.Durability}");
        Line(md, $"- Machine: {result.Machine.ProcessorCount} cores, {result.Machine.OperatingSystem}, {result.Machine.Runtime}; started {result.StartedUtc}");
        Line(md, $"- Objects: {result.Objects:N0} over {result.Buckets:N0} buckets and {result.Directories:N0} directories, {Copies(result.Replicas)} each; loaded in transactions of {ScaleRun.BatchSize:N0} creates of one bucket, {o.LoadParallelism} in flight");
        Line(md, $"- Reads: stat of objects chosen uniformly among those loaded, {o.Mode.ToString().ToLowerInvariant()} loop, concurrency {o.Concurrency}, warm-up {o.Warmup.TotalSeconds:0.###} s, measured {o.Duration.TotalSeconds:0.###} s, seed {o.Seed}");
        md.AppendLine();
        md.AppendLine("## Ingest");
        md.AppendLine();
        md.AppendLine("| objects | seconds | objects/s | transactions | transaction p50 ms | p99 ms | max ms |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (LoadPhase load in result.Loads)
        {
            Line(md, $"| {load.From:N0} → {load.To:N0} | {load.Seconds:0.#} | {load.ObjectsPerSecond:N0} | {load.Transactions:N0} | {load.Transaction.P50Ms:0.###} | {load.Transaction.P99Ms:0.###} | {load.Transaction.MaxMs:0.###} |");
        }

        double seconds = result.Loads.Sum(l => l.Seconds);
        Line(md, $"| **all {result.Objects:N0}** | {seconds:0.#} | **{result.IngestPerSecond:N0}** | {result.Loads.Sum(l => l.Transactions):N0} | | | |");
        if (result.LoadErrorsByKind.Count > 0)
        {
            md.AppendLine();
            Line(md, $"Load transactions that failed and were retried: {string.Join(", ", result.LoadErrorsByKind.Select(p => $"{p.Key} {p.Value:N0}"))}");
        }

        md.AppendLine();
        md.AppendLine("## Point reads at N/10 and at N");
        md.AppendLine();
        md.AppendLine("| objects loaded | ops | ops/s | errors | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | load average at the end |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (BenchResult r in new[] { tenth, full })
        {
            LatencySummary l = r.Latency;
            string load = r.LoadAverage is double average ? average.ToString("0.##", CultureInfo.InvariantCulture) : "–";
            Line(md, $"| {r.TargetName} | {r.Operations:N0} | {r.Throughput:N0} | {r.Errors:N0} | {l.P50Ms:0.###} | {l.P90Ms:0.###} | {l.P99Ms:0.###} | {l.P999Ms:0.###} | {l.MaxMs:0.###} | {load} |");
        }

        md.AppendLine();
        Line(md, $"At N against N/10: p50 **{result.P50Growth:0.##}×**, p99 **{result.P99Growth:0.##}×**, throughput {(tenth.Throughput > 0 ? full.Throughput / tenth.Throughput : 0):0.##}×.");
        foreach (BenchResult r in new[] { tenth, full })
        {
            if (r.ErrorsByKind.Count > 0)
            {
                Line(md, $"Errors of the reads at {r.TargetName}: {string.Join(", ", r.ErrorsByKind.Select(p => $"{p.Key} {p.Value:N0}"))}");
            }
        }

        md.AppendLine();
        md.AppendLine("## On disk");
        md.AppendLine();
        if (result.DiskAtFull is not { } disk)
        {
            md.AppendLine("Not measured: the node's data directory is not on this machine (`--address`).");
        }
        else
        {
            md.AppendLine("| objects loaded | data directories | files | bytes | bytes / object / replica | sorted tables (.sst) | .sst bytes / object / replica |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
            foreach ((long objects, DiskUsage? usage) in new[] { (result.Tenth, result.DiskAtTenth), (result.Objects, result.DiskAtFull) })
            {
                if (usage is not null)
                {
                    Line(md, $"| {objects:N0} | {usage.Directories} | {usage.Files:N0} | {usage.TotalBytes:N0} | {usage.BytesPerObjectPerReplica(objects, result.Replicas ?? 1):N1} | {usage.TableBytes:N0} | {usage.TableBytesPerObjectPerReplica(objects, result.Replicas ?? 1):N1} |");
                }
            }

            md.AppendLine();
            Line(md, $"Measured right after each load, before the reads: every file of the {disk.Directories} data director{(disk.Directories == 1 ? "y" : "ies")} (sorted tables, RocksDB's write-ahead log with what is still in memtables, the Raft log, manifests, info logs), divided by objects × {Copies(result.Replicas)}.");
        }

        BenchReport.AppendPlots(md, plots);
        return md.ToString();
    }

    /// <summary>Draws the two plots into <paramref name="directory"/>; each is written or says why not.</summary>
    public static IReadOnlyList<ChartFile> WritePlots(ScaleResult result, string directory, string stem)
    {
        ArgumentNullException.ThrowIfNull(result);
        string what = string.Create(CultureInfo.InvariantCulture, $"scale, {result.Objects:N0} objects");
        return
        [
            ChartFile.Write(directory, stem + BenchPlots.LatencySuffix, "read latency by percentile at N/10 and N",
                () => BenchPlots.RenderLatency([result.ReadsAtTenth, result.ReadsAtFull], what + ", uniform stat")),
            ChartFile.Write(directory, stem + IngestSuffix, "ingest rate and load transaction p99 over time", () => RenderIngest(result, what)),
        ];
    }

    /// <summary>Objects per second and load-transaction p99 per interval; the second load continues the first's time axis.</summary>
    public static RenderedChart RenderIngest(ScaleResult result, string what)
    {
        ArgumentNullException.ThrowIfNull(result);
        var series = new List<TimeSeries>();
        double offset = 0;
        foreach (LoadPhase load in result.Loads)
        {
            IReadOnlyList<TimeBucket> buckets = [.. BenchPlots.Buckets(load.Timeline).Select(b => b with { StartSecond = b.StartSecond + offset, EndSecond = b.EndSecond + offset })];
            series.Add(new TimeSeries(string.Create(CultureInfo.InvariantCulture, $"load {load.From:N0} → {load.To:N0}"), buckets));
            offset += load.Seconds;
        }

        return TimeSeriesChart.Render($"strata bench {what}: objects/s and load transaction p99", series, [], "seconds of loading (reads at N/10 between the two loads not shown)");
    }

    /// <summary>Writes the JSON and Markdown files; returns both paths.</summary>
    public static async Task<(string Json, string Markdown)> WriteAsync(
        ScaleResult result, string directory, string stem, string? command, IReadOnlyList<ChartFile>? plots = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        return await BenchReport.WriteFilesAsync(directory, stem, ToJson(result), ToMarkdown(result, command, plots), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>"1 replica", "3 replicas", or "replicas not known" (a remote target).</summary>
    public static string Copies(int? replicas) => replicas switch
    {
        null => "replicas not known",
        1 => "1 replica",
        int n => string.Create(CultureInfo.InvariantCulture, $"{n} replicas"),
    };

    private static void Line(StringBuilder md, FormattableString text) => md.AppendLine(text.ToString(CultureInfo.InvariantCulture));
}
