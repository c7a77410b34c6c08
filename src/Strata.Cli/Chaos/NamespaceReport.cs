using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Strata.Cli.Chaos;

/// <summary>
/// The namespace workload's part of a chaos report: the invariants' verdict folded into the run's
/// <see cref="ChaosVerdict"/> (a violated invariant is an anomaly, exit 1), <c>namespace-history.jsonl</c>, and its
/// sections of <c>summary.md</c> and of the console summary. Stateless.
/// </summary>
internal static class NamespaceReport
{
    public const string HistoryFile = "namespace-history.jsonl";

    // Violations shown per invariant in summary.md and on the console; result.json has them all.
    private const int ShownPerInvariant = 20;

    /// <summary>
    /// <paramref name="verdict"/> (the metadata registers' linearizability) with the namespace invariants' judgement of
    /// <paramref name="run"/>: a violation makes the verdict <see cref="ChaosVerdict.InvariantsViolated"/> and the exit
    /// code 1; a final state that was never read is a problem (exit 3 unless something worse). Unchanged for the register workload.
    /// </summary>
    public static ChaosVerdict Include(ChaosRun run, ChaosVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(verdict);
        if (run.Namespace is not { } ns)
        {
            return verdict;
        }

        NamespaceVerdict judged = NamespaceInvariants.Check(ns);
        var problems = new List<string>(verdict.Problems);
        int exit = verdict.ExitCode;
        if (!judged.Evaluated && run.Failure is null)
        {
            problems.Add("the final state of the namespace was not read: only the history was checked");
            exit = Math.Max(exit, ChaosReport.ExitUndecided);
        }

        if (judged.Violations.Count > 0)
        {
            return verdict with { Namespace = judged, Problems = problems, Verdict = ChaosVerdict.InvariantsViolated, ExitCode = ChaosReport.ExitAnomaly };
        }

        return verdict with { Namespace = judged, Problems = problems, ExitCode = exit };
    }

    /// <summary>Writes <see cref="HistoryFile"/> (one create, rename or listing per line, by index) when the run has a namespace part.</summary>
    public static async Task WriteHistoryAsync(ChaosRun run, string folder, JsonSerializerOptions json, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.Namespace is not { } ns)
        {
            return;
        }

        var line = new JsonSerializerOptions(json) { WriteIndented = false };
        var lines = new StringBuilder();
        foreach (NamespaceOperation op in ns.Operations)
        {
            lines.AppendLine(JsonSerializer.Serialize(op, line));
        }

        await File.WriteAllTextAsync(Path.Combine(folder, HistoryFile), lines.ToString(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The summary's workload line for a namespace run.</summary>
    public static string WorkloadLine(ChaosOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        string pace = o.Rate > 0 ? string.Create(CultureInfo.InvariantCulture, $"{o.Rate:0.#} ops/s offered") : "unpaced";
        return string.Create(CultureInfo.InvariantCulture,
            $"- Workload: namespace, {o.Operations:N0} operations (60% create-only puts in {NamespaceWorkload.DirectoryCount} moving directories, 10% directory renames, " +
            $"20% metadata register operations over {o.Keys} objects, 10% listings, plus listings to find moved directories) by {o.Clients} clients, {pace}; attempt deadline {o.AttemptTimeout.TotalSeconds:0.###} s, " +
            $"call budget {o.CallTimeout.TotalSeconds:0.###} s");
    }

    /// <summary>Appends the namespace section (operations, invariants, final tree, violations) to <paramref name="md"/>.</summary>
    public static void AppendMarkdown(StringBuilder md, ChaosVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(md);
        ArgumentNullException.ThrowIfNull(verdict);
        if (verdict.Namespace is not { } ns)
        {
            return;
        }

        CultureInfo c = CultureInfo.InvariantCulture;
        md.AppendLine();
        md.AppendLine("## Namespace");
        md.AppendLine();
        md.AppendLine("| operation | total | ok | failed | indeterminate |");
        md.AppendLine("|---|---:|---:|---:|---:|");
        foreach (OutcomeCounts count in ns.Counts)
        {
            md.AppendLine(string.Create(c, $"| {count.Kind} | {count.Total:N0} | {count.Ok:N0} | {count.Failed:N0} | {count.Indeterminate:N0} |"));
        }

        md.AppendLine();
        md.AppendLine(Totals(ns));
        md.AppendLine();
        md.AppendLine("| invariant | checked | violations |");
        md.AppendLine("|---|---:|---:|");
        foreach (InvariantCount invariant in ns.Invariants)
        {
            md.AppendLine(string.Create(c, $"| {invariant.Invariant} | {invariant.Checked:N0} | {invariant.Violations:N0} |"));
        }

        if (ns.FinalTree.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("Directories at the end: " + string.Join(", ", ns.FinalTree.Select(t => $"`{t}`")));
        }

        if (ns.Violations.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("### Violations");
            md.AppendLine();
            foreach (string line in ViolationLines(ns))
            {
                md.Append("- ").AppendLine(line.ReplaceLineEndings(" / "));
            }
        }
    }

    /// <summary>The console's lines for the namespace part of <paramref name="verdict"/> (none for the register workload).</summary>
    public static IReadOnlyList<string> ConsoleLines(ChaosVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        if (verdict.Namespace is not { } ns)
        {
            return [];
        }

        CultureInfo c = CultureInfo.InvariantCulture;
        var lines = new List<string>
        {
            "namespace operations: " + string.Join(", ", ns.Counts.Select(k => string.Create(c, $"{k.Kind} {k.Total:N0} ({k.Ok:N0} ok, {k.Failed:N0} failed, {k.Indeterminate:N0} indeterminate)"))),
            Totals(ns),
            "invariants: " + string.Join(", ", ns.Invariants.Select(i => string.Create(c, $"{i.Invariant} {i.Checked:N0} checked{(i.Violations > 0 ? $", {i.Violations:N0} VIOLATED" : "")}"))),
        };
        lines.AddRange(ViolationLines(ns).Select(v => "violation: " + v));
        return lines;
    }

    private static string Totals(NamespaceVerdict ns) => !ns.Evaluated
        ? "The final state was not read: only the history was checked."
        : string.Create(CultureInfo.InvariantCulture,
            $"Final state (read through the leader after the heal): {ns.EntriesListed:N0} entries in {ns.ListingPages:N0} listing pages; {ns.ObjectsFound:N0} objects, " +
            $"{ns.DirectoriesFound:N0} moving directories found; {ns.AcknowledgedCreates:N0} acknowledged creates checked; indeterminate creates: " +
            $"{ns.IndeterminateCreatesFound:N0} took effect, {ns.IndeterminateCreatesAbsent:N0} did not; renames: {ns.RenamesApplied:N0} applied, " +
            $"{ns.RenamesRefusedIntoOwnSubtree:N0} refused as moves into their own subtree.");

    private static IEnumerable<string> ViolationLines(NamespaceVerdict ns)
    {
        foreach (IGrouping<string, NamespaceViolation> invariant in ns.Violations.GroupBy(v => v.Invariant))
        {
            foreach (NamespaceViolation violation in invariant.Take(ShownPerInvariant))
            {
                yield return $"{violation.Invariant}: {violation.Explanation}";
            }

            if (invariant.Count() > ShownPerInvariant)
            {
                yield return string.Create(CultureInfo.InvariantCulture, $"{invariant.Key}: {invariant.Count() - ShownPerInvariant:N0} more (all in result.json)");
            }
        }
    }
}
