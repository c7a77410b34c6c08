using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Strata.Bench;

/// <summary>
/// The results of one workload run against Strata and its peers in one invocation (same options, seed, concurrency
/// and load), as one table: throughput, latency percentiles, errors, conflicts, and each figure's ratio to Strata's.
/// </summary>
/// <param name="Command">The command line that produced it.</param>
/// <param name="Results">One result per target, Strata's first; each carries its target name and durability.</param>
public sealed record SideBySide(string? Command, IReadOnlyList<BenchResult> Results)
{
    /// <summary>The first result (the baseline of the ratios: Strata's when the bench ran it).</summary>
    public BenchResult Baseline => Results[0];
}

/// <summary>Writes a <see cref="SideBySide"/> as JSON and as Markdown.</summary>
public static class SideBySideReport
{
    /// <summary>The whole comparison as JSON (every target's full result).</summary>
    public static string ToJson(SideBySide comparison)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        return JsonSerializer.Serialize(comparison, BenchReport.JsonOptions);
    }

    /// <summary>
    /// The comparison as Markdown: the command, the load, one row per target (all operations), one row per target and
    /// operation kind when the workload mixes kinds, what each target was and how durable its writes are, and the
    /// plots (links, or why they are missing).
    /// </summary>
    public static string ToMarkdown(SideBySide comparison, IReadOnlyList<Plots.ChartFile>? plots = null)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        if (comparison.Results.Count == 0)
        {
            throw new ArgumentException("a comparison needs at least one result", nameof(comparison));
        }

        var md = new StringBuilder();
        BenchResult first = comparison.Baseline;
        BenchOptions o = first.Options;
        BenchReport.AppendTitle(md, $"strata bench side by side: {BenchReport.Name(first.Workload)} ({first.Mode.ToString().ToLowerInvariant()} loop)", comparison.Command);

        string rate = first.Mode == LoadMode.Open ? $", rate {o.Rate:0.#}/s" : "";
        string keys = BenchReport.KeysOf(o);
        Line(md, $"- Machine: {first.Machine.ProcessorCount} cores, {first.Machine.OperatingSystem}, {first.Machine.Runtime}; every target on this machine, on loopback, one after another");
        Line(md, $"- Load, the same for every target: concurrency {o.Concurrency}{rate}, warm-up {o.Warmup.TotalSeconds:0.###} s, measured {first.MeasuredSeconds:0.###} s, keys {keys}, seed {o.Seed}");
        if (first.Preload.Objects > 0)
        {
            Line(md, $"- Preload: {first.Preload.Objects:N0} objects per target (not measured)");
        }

        md.AppendLine();
        string baseline = NameOf(first);
        Line(md, $"| target | ops | ops/s | ops/s ÷ {baseline} | p50 ms | p99 ms | p99.9 ms | max ms | p99 ÷ {baseline} | errors | conflicts |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (BenchResult r in comparison.Results)
        {
            Line(md, $"| {NameOf(r)} | {r.Operations:N0} | {r.Throughput:N0} | {Ratio(r.Throughput, first.Throughput)} | {r.Latency.P50Ms:0.###} | {r.Latency.P99Ms:0.###} | {r.Latency.P999Ms:0.###} | {r.Latency.MaxMs:0.###} | {Ratio(r.Latency.P99Ms, first.Latency.P99Ms)} | {r.Errors:N0} | {r.Conflicts:N0} |");
        }

        if (comparison.Results.Any(r => r.ByOperation.Count > 1))
        {
            md.AppendLine();
            md.AppendLine("| target | operation | ops | ops/s | p50 ms | p99 ms | p99.9 ms | errors | conflicts |");
            md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
            foreach (BenchResult r in comparison.Results)
            {
                foreach (OperationResult op in r.ByOperation)
                {
                    Line(md, $"| {NameOf(r)} | {BenchReport.Name(op.Operation)} | {op.Operations:N0} | {op.Throughput:N0} | {op.Latency.P50Ms:0.###} | {op.Latency.P99Ms:0.###} | {op.Latency.P999Ms:0.###} | {op.Errors:N0} | {op.Conflicts:N0} |");
                }
            }
        }

        if (comparison.Results.Any(r => r.Listing is not null))
        {
            md.AppendLine();
            md.AppendLine("| target | pages | entries listed | entries/s | entries/s ÷ " + baseline + " |");
            md.AppendLine("|---|---:|---:|---:|---:|");
            foreach (BenchResult r in comparison.Results.Where(r => r.Listing is not null))
            {
                Line(md, $"| {NameOf(r)} | {r.Listing!.Pages:N0} | {r.Listing.Entries:N0} | {r.Listing.EntriesPerSecond:N0} | {Ratio(r.Listing.EntriesPerSecond, first.Listing?.EntriesPerSecond ?? 0)} |");
            }
        }

        if (comparison.Results.Any(r => r.BySize is { Count: > 0 }))
        {
            md.AppendLine();
            md.AppendLine("Rename latency per directory size (the ratio to the smallest size is ≈ 1 when a rename's cost does not grow with the directory):");
            md.AppendLine();
            bool header = true;
            foreach (BenchResult r in comparison.Results.Where(r => r.BySize is { Count: > 0 }))
            {
                var table = new StringBuilder();
                BenchReport.AppendBySize(table, r.BySize!, NameOf(r));
                string[] rows = table.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
                foreach (string row in header ? rows : rows[2..])
                {
                    md.AppendLine(row.TrimEnd('\r'));
                }

                header = false;
            }
        }

        if (first.Limits is { } limits)
        {
            md.AppendLine();
            md.Append(limits.ToMarkdown(null));
            md.AppendLine();
            md.AppendLine("| target | operation | p50 ÷ floor | p99 ÷ floor |");
            md.AppendLine("|---|---|---:|---:|");
            foreach (BenchResult r in comparison.Results)
            {
                foreach (Limits.LimitMultiple m in r.AgainstLimits ?? [])
                {
                    Line(md, $"| {NameOf(r)} | {BenchReport.Name(m.Operation)} (floor: {m.Floor}) | {m.P50Multiple:0.#}× | {m.P99Multiple:0.#}× |");
                }
            }
        }

        List<BenchResult> failing = [.. comparison.Results.Where(r => r.ErrorsByKind.Count > 0)];
        if (failing.Count > 0)
        {
            md.AppendLine();
            foreach (BenchResult r in failing)
            {
                Line(md, $"Errors of {NameOf(r)}: {string.Join(", ", r.ErrorsByKind.Select(p => $"{p.Key} {p.Value:N0}"))}");
            }
        }

        md.AppendLine();
        md.AppendLine("Targets and durability:");
        md.AppendLine();
        foreach (BenchResult r in comparison.Results)
        {
            string load = r.LoadAverage is double l ? $" Load average (1 min) when its run ended: {l:0.##}." : "";
            Line(md, $"- **{NameOf(r)}**: {r.Target}. Durability: {r.Durability ?? "not stated"}.{load}");
        }

        BenchReport.AppendPlots(md, plots);
        return md.ToString();
    }

    /// <summary>
    /// Writes <c>{stem}.json</c> and <c>{stem}.md</c> into <paramref name="directory"/> (created if missing); returns
    /// both paths. <paramref name="plots"/>, files already written in the same directory, are linked from the Markdown.
    /// </summary>
    public static async Task<(string Json, string Markdown)> WriteAsync(
        SideBySide comparison, string directory, string stem, IReadOnlyList<Plots.ChartFile>? plots = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        return await BenchReport.WriteFilesAsync(directory, stem, ToJson(comparison), ToMarkdown(comparison, plots), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The target's name in tables.</summary>
    public static string NameOf(BenchResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.TargetName ?? "target";
    }

    /// <summary><paramref name="value"/> as a multiple of <paramref name="baseline"/>, e.g. "0.42×"; "–" when the baseline is 0.</summary>
    public static string Ratio(double value, double baseline) =>
        baseline > 0 ? (value / baseline).ToString("0.00", CultureInfo.InvariantCulture) + "×" : "–";

    private static void Line(StringBuilder md, FormattableString text) => md.AppendLine(text.ToString(CultureInfo.InvariantCulture));
}
