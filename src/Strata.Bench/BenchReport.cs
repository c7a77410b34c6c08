using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Strata.Bench;

/// <summary>Writes a <see cref="BenchResult"/> as the JSON results file and as a Markdown summary.</summary>
public static class BenchReport
{
    /// <summary>The JSON shape of results: camelCase names, enums as strings, indented.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        // Results are files for people and tools, not HTML: keep '+' and non-ASCII names readable.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The result as JSON.</summary>
    public static string ToJson(BenchResult result) => JsonSerializer.Serialize(result, JsonOptions);

    /// <summary>
    /// The result as Markdown: the command that produced it, the setup, one latency table (all operations and each
    /// kind), errors by kind, the OCC and open-loop figures when present, and the plots (links, or why they are missing).
    /// </summary>
    public static string ToMarkdown(BenchResult result, string? command = null, IReadOnlyList<Plots.ChartFile>? plots = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        var md = new StringBuilder();
        BenchOptions o = result.Options;
        AppendTitle(md, $"strata bench: {Name(result.Workload)} ({result.Mode.ToString().ToLowerInvariant()} loop)", command);

        Line(md, $"- Target: {result.Target}; bucket `{result.Bucket}`");
        if (result.Durability is not null)
        {
            Line(md, $"- Durability: {result.Durability}");
        }

        string load = result.LoadAverage is double l ? $"; load average {l:0.##} at the end" : "";
        Line(md, $"- Machine: {result.Machine.ProcessorCount} cores, {result.Machine.OperatingSystem}, {result.Machine.Runtime}; started {result.StartedUtc}{load}");
        string rate = result.Mode == LoadMode.Open ? $", rate {o.Rate:0.#}/s" : "";
        string keys = KeysOf(o);
        Line(md, $"- Load: concurrency {o.Concurrency}{rate}, warm-up {o.Warmup.TotalSeconds:0.###} s, measured {result.MeasuredSeconds:0.###} s, keys {keys}, seed {o.Seed}");
        if (result.Preload.Objects > 0)
        {
            Line(md, $"- Preload: {result.Preload.Objects:N0} object{(result.Preload.Objects == 1 ? "" : "s")} in {result.Preload.Seconds:0.##} s ({result.Preload.ObjectsPerSecond:N0}/s)");
        }

        Line(md, $"- Operations: {result.Operations:N0} ({result.Successes:N0} ok, {result.Conflicts:N0} conflicts, {result.Errors:N0} errors); throughput {result.Throughput:N0} ops/s; warm-up operations {result.WarmupOperations:N0}");
        md.AppendLine();
        md.AppendLine("| operation | ops | ops/s | errors | conflicts | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        Row(md, "all", result.Operations, result.Throughput, result.Errors, result.Conflicts, result.Latency);
        foreach (OperationResult op in result.ByOperation)
        {
            Row(md, Name(op.Operation), op.Operations, op.Throughput, op.Errors, op.Conflicts, op.Latency);
        }

        if (result.ErrorsByKind.Count > 0)
        {
            md.AppendLine();
            Line(md, $"Errors by kind: {string.Join(", ", result.ErrorsByKind.Select(p => $"{p.Key} {p.Value:N0}"))}");
        }

        if (result.Occ is { } occ)
        {
            md.AppendLine();
            Line(md, $"Conditional updates: {occ.Attempts:N0} attempts, {occ.Commits:N0} commits, {occ.Conflicts:N0} conflicts ({occ.ConflictRatio:P1}), {occ.Errors:N0} errors; goodput {occ.GoodputPerSecond:N0} commits/s");
        }

        if (result.OpenLoop is { } open)
        {
            md.AppendLine();
            Line(md, $"Open loop: offered {open.TargetRate:N0}/s, completed {open.AchievedRate:N0}/s; start lag p50 {open.StartLag.P50Ms:0.###} ms, p99 {open.StartLag.P99Ms:0.###} ms, max {open.StartLag.MaxMs:0.###} ms (latencies are measured from the intended start)");
        }

        if (result.Listing is { } listing)
        {
            md.AppendLine();
            Line(md, $"Listing: {listing.Pages:N0} full pages of {listing.PageSize:N0} from a directory of {listing.DirectoryEntries:N0} entries, {listing.Entries:N0} entries listed, {listing.EntriesPerSecond:N0} entries/s");
        }

        if (result.BySize is { Count: > 0 } sizes)
        {
            md.AppendLine();
            AppendBySize(md, sizes);
        }

        if (result.Limits is { } limits)
        {
            md.AppendLine();
            md.Append(limits.ToMarkdown(result.AgainstLimits));
        }

        AppendPlots(md, plots);
        return md.ToString();
    }

    /// <summary>
    /// Writes <c>{stem}.json</c> and <c>{stem}.md</c> into <paramref name="directory"/> (created if missing); returns
    /// both paths. <paramref name="plots"/>, files already written in the same directory, are linked from the Markdown.
    /// </summary>
    public static async Task<(string Json, string Markdown)> WriteAsync(
        BenchResult result, string directory, string stem, string? command, IReadOnlyList<Plots.ChartFile>? plots = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        return await WriteFilesAsync(directory, stem, ToJson(result), ToMarkdown(result, command, plots), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes <c>{stem}.json</c> and <c>{stem}.md</c> into <paramref name="directory"/> (created if missing); returns both paths.</summary>
    internal static async Task<(string Json, string Markdown)> WriteFilesAsync(string directory, string stem, string json, string markdown, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        string jsonPath = Path.Combine(directory, stem + ".json");
        string markdownPath = Path.Combine(directory, stem + ".md");
        await File.WriteAllTextAsync(jsonPath, json, cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(markdownPath, markdown, cancellationToken).ConfigureAwait(false);
        return (jsonPath, markdownPath);
    }

    /// <summary>A report's first lines: its title as a heading, then the command that produced it, when known.</summary>
    internal static void AppendTitle(StringBuilder md, string title, string? command)
    {
        md.Append("# ").AppendLine(title);
        md.AppendLine();
        if (command is not null)
        {
            md.Append("Command: `").Append(command).AppendLine("`");
            md.AppendLine();
        }
    }

    /// <summary>A "Plots" section: an image link per written plot, and why any other is missing. Nothing when there are none.</summary>
    internal static void AppendPlots(StringBuilder md, IReadOnlyList<Plots.ChartFile>? plots)
    {
        if (plots is null || plots.Count == 0)
        {
            return;
        }

        md.AppendLine();
        md.AppendLine("## Plots");
        foreach (Plots.ChartFile plot in plots)
        {
            md.AppendLine();
            md.AppendLine(plot.ToMarkdown());
        }
    }

    /// <summary>The directory rename's table: one row per directory size, with p50 and p99 against the smallest size's.</summary>
    internal static void AppendBySize(StringBuilder md, IReadOnlyList<DirectorySizeResult> sizes, string? target = null)
    {
        string first = target is null ? "" : "target | ";
        string rule = target is null ? "" : "---|";
        md.AppendLine($"| {first}directory entries | renames | errors | p50 ms | p90 ms | p99 ms | max ms | p50 ÷ smallest | p99 ÷ smallest |");
        md.AppendLine($"|{rule}---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (DirectorySizeResult s in sizes)
        {
            string cell = target is null ? "" : target + " | ";
            Line(md, $"| {cell}{s.Entries:N0} | {s.Operations:N0} | {s.Errors:N0} | {s.Latency.P50Ms:0.###} | {s.Latency.P90Ms:0.###} | {s.Latency.P99Ms:0.###} | {s.Latency.MaxMs:0.###} | {s.P50VsSmallest:0.##}× | {s.P99VsSmallest:0.##}× |");
        }
    }

    /// <summary>How the run chose its keys, for the setup line of the reports.</summary>
    internal static string KeysOf(BenchOptions o) => o.Workload switch
    {
        BenchWorkload.DirectoryListing => string.Create(CultureInfo.InvariantCulture,
            $"pages of {o.PageSize:N0} starting uniformly over a directory of {o.DirectoryEntries:N0} entries"),
        BenchWorkload.DirectoryRename => string.Create(CultureInfo.InvariantCulture,
            $"directories of {string.Join(", ", o.RenameSizes.Order().Select(n => n.ToString("N0", CultureInfo.InvariantCulture)))} entries renamed in turn"),
        BenchWorkload.Scale => "uniform over every object loaded so far",
        _ => o.Distribution == KeyDistribution.Zipfian ? string.Create(CultureInfo.InvariantCulture, $"Zipfian θ={o.ZipfTheta:0.###}") : "uniform",
    };

    /// <summary>The workload's name as on the command line.</summary>
    public static string Name(BenchWorkload workload) => workload switch
    {
        BenchWorkload.HotReads => "a-hot-reads",
        BenchWorkload.Creates => "b-creates",
        BenchWorkload.ViralMix => "c-viral",
        BenchWorkload.OccContention => "e-occ",
        BenchWorkload.DirectoryListing => "d-listing",
        BenchWorkload.DirectoryRename => "f-dir-rename",
        BenchWorkload.Scale => "scale",
        _ => workload.ToString(),
    };

    /// <summary>The operation's name in tables.</summary>
    public static string Name(OperationKind kind) => kind switch
    {
        OperationKind.Stat => "stat",
        OperationKind.Create => "create",
        OperationKind.List => "list",
        OperationKind.Rename => "rename",
        OperationKind.ConditionalUpdate => "conditional update",
        _ => kind.ToString(),
    };

    private static void Row(StringBuilder md, string name, long ops, double rate, long errors, long conflicts, LatencySummary l) =>
        Line(md, $"| {name} | {ops:N0} | {rate:N0} | {errors:N0} | {conflicts:N0} | {l.P50Ms:0.###} | {l.P90Ms:0.###} | {l.P99Ms:0.###} | {l.P999Ms:0.###} | {l.MaxMs:0.###} |");

    private static void Line(StringBuilder md, FormattableString text) => md.AppendLine(text.ToString(CultureInfo.InvariantCulture));
}
