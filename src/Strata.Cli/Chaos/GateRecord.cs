using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Strata.Cli.Chaos;

/// <summary>
/// One run of the release gate, as <c>scripts/chaos-gate.sh</c> records it: one tab-separated line per run with the
/// columns <c>mix seed exit verdict seconds report commit reads</c> (<see cref="GateRecord"/>).
/// </summary>
/// <param name="Mix">The fault mix (<c>kill-pause</c>, <c>skew-netns</c>, ...).</param>
/// <param name="Seed">The run's seed.</param>
/// <param name="Exit">The exit code of <c>strata chaos</c>.</param>
/// <param name="Verdict">The verdict in the run's <c>result.json</c>; <c>?</c> when it wrote none.</param>
/// <param name="Seconds">The run's wall time.</param>
/// <param name="Report">The run's report folder, on the machine that ran it (often gone later).</param>
/// <param name="Commit">The commit the run was built from (<c>+</c> when the tree had other changes).</param>
/// <param name="Reads">The run's <c>--reads</c>.</param>
internal sealed record GateRun(string Mix, int Seed, int Exit, string Verdict, int Seconds, string Report, string Commit, string Reads)
{
    /// <summary>Exit 0: linearizable, and for the namespace workload every invariant kept.</summary>
    public bool Clean => Exit == 0;

    /// <summary>When the run began, from its report folder's name (<c>chaos-20261127T092244Z-seed13</c>); null when the name has none.</summary>
    public DateTime? StartedUtc
    {
        get
        {
            string name = Path.GetFileName(Report.TrimEnd('/'));
            return name.Length >= 22 && name.StartsWith("chaos-", StringComparison.Ordinal)
                && DateTime.TryParseExact(name.AsSpan(6, 16), "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out DateTime started)
                ? started
                : null;
        }
    }
}

/// <summary>
/// A release gate's record (<c>docs/chaos-gate-runs.tsv</c>): every run of every sitting, the header line first. A
/// (mix, seed) is run once per commit (the gate script skips what is recorded); a record of superseded runs holds the
/// same (mix, seed) at several commits.
/// </summary>
internal static class GateRecord
{
    public const string Header = "mix\tseed\texit\tverdict\tseconds\treport\tcommit\treads";

    /// <summary>Reads <paramref name="path"/>; a malformed line is an <see cref="FormatException"/> naming the file and line.</summary>
    public static IReadOnlyList<GateRun> Read(string path)
    {
        var runs = new List<GateRun>();
        var seen = new HashSet<(string, int, string)>();
        foreach ((string[] f, string where) in Rows(path, Header))
        {
            var run = new GateRun(f[0], Number(f[1], "seed", where), Number(f[2], "exit", where), f[3], Number(f[4], "seconds", where), f[5], f[6], f[7]);
            if (!seen.Add((run.Mix, run.Seed, run.Commit)))
            {
                throw new FormatException($"{where}: {run.Mix} seed {run.Seed} at {run.Commit} is recorded twice");
            }

            runs.Add(run);
        }

        return runs;
    }

    /// <summary>
    /// The rows of a tab-separated file whose first line must be <paramref name="header"/>, each with its place
    /// (<c>file:line</c>) for error messages; blank lines are skipped; a missing header or a row with another number of
    /// columns is a <see cref="FormatException"/> naming the file and line.
    /// </summary>
    internal static IEnumerable<(string[] Fields, string Where)> Rows(string path, string header)
    {
        string[] lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0] != header)
        {
            throw new FormatException($"{path}: the first line must be the header '{header.Replace('\t', ' ')}' (tab-separated)");
        }

        int columns = header.Split('\t').Length;
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0)
            {
                continue;
            }

            string[] fields = lines[i].Split('\t');
            string where = $"{path}:{i + 1}";
            yield return fields.Length == columns
                ? (fields, where)
                : throw new FormatException($"{where}: {fields.Length} columns, expected {columns} ({header.Replace('\t', ' ')})");
        }
    }

    private static int Number(string text, string column, string where) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= 0
            ? value
            : throw new FormatException($"{where}: {column} '{text}' is not a whole number");
}

/// <summary>
/// What one gate run's report says about leases — the part of the gate that can show a lease bug — kept in a file of
/// its own (<c>docs/chaos-gate-runs-leases.tsv</c>) because the reports stay on the machine that ran them.
/// </summary>
/// <param name="Mix">The run's fault mix.</param>
/// <param name="Seed">The run's seed.</param>
/// <param name="Commit">The commit the run was built from.</param>
/// <param name="Hits">The faults that hit the bucket shard's leader (<see cref="LeaderHits"/>).</param>
/// <param name="SlowedCut">Skews with isolation whose slowed node still led, awake (not quiesced), when it was cut off: the case a lease must survive.</param>
/// <param name="SlowedHeld">Of those, the ones whose leader held its lease at the cut (a lease bug unless it expires before any successor serves).</param>
/// <param name="SpedCut">The same for sped-up clocks (a fast clock only shortens a lease: holding one is safe).</param>
/// <param name="SpedHeld">Of those, the ones whose leader held its lease at the cut.</param>
/// <param name="SlowedRates">The clock rates of the slowed cut-offs (<c>min-max</c> in the file, <c>-</c> when none).</param>
/// <param name="SpedRates">The clock rates of the sped-up cut-offs.</param>
internal sealed record GateLeases(string Mix, int Seed, string Commit, LeaderHits Hits, int SlowedCut, int SlowedHeld, int SpedCut, int SpedHeld, RateRange SlowedRates, RateRange SpedRates)
{
    public const string Header = "mix\tseed\tcommit\tleader_hits\twith_lease\tquiesced\tslowed_cut\tslowed_held\tsped_cut\tsped_held\tslowed_rates\tsped_rates";

    /// <summary>The figures of <paramref name="run"/>, from the <c>faults.json</c> in its report folder.</summary>
    public static GateLeases Of(GateRun run)
    {
        string report = run.Report;
        using JsonDocument faults = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, ChaosReport.FaultsFile)));
        PlannedFault[] plan = faults.RootElement.GetProperty("plan").Deserialize<PlannedFault[]>(ChaosReport.Json)
            ?? throw new FormatException($"{report}: faults.json has no plan");
        FaultEvent[] timeline = faults.RootElement.GetProperty("timeline").Deserialize<FaultEvent[]>(ChaosReport.Json)
            ?? throw new FormatException($"{report}: faults.json has no timeline");

        // A skewed node cut off while still leading, awake: its lease state at the cut is what the gate is after.
        var cutOff = timeline
            .Where(f => f.Kind == "skew" && f.Sides is not null && f.LeaderAtCut == f.Node && f.LeaderQuiesced != true && f.Number > 0 && f.Number <= plan.Length)
            .Select(f => (Rate: ClockSkew.Of(plan[f.Number - 1].Salt).Rate, Held: f.LeaderHeldLease == true))
            .ToArray();
        var slowed = cutOff.Where(c => c.Rate < 1).ToArray();
        var sped = cutOff.Where(c => c.Rate > 1).ToArray();
        return new GateLeases(run.Mix, run.Seed, run.Commit, LeaderHits.Of(timeline),
            slowed.Length, slowed.Count(c => c.Held), sped.Length, sped.Count(c => c.Held),
            RateRange.Of(slowed.Select(c => c.Rate)), RateRange.Of(sped.Select(c => c.Rate)));
    }

    public string ToLine() => string.Join('\t', Mix, Seed.ToString(CultureInfo.InvariantCulture), Commit,
        Hits.Hit.ToString(CultureInfo.InvariantCulture), Hits.WithLease.ToString(CultureInfo.InvariantCulture), Hits.Quiesced.ToString(CultureInfo.InvariantCulture),
        SlowedCut.ToString(CultureInfo.InvariantCulture), SlowedHeld.ToString(CultureInfo.InvariantCulture),
        SpedCut.ToString(CultureInfo.InvariantCulture), SpedHeld.ToString(CultureInfo.InvariantCulture), SlowedRates.ToString(), SpedRates.ToString());

    /// <summary>Reads <paramref name="path"/> (an absent file is empty); a malformed line is a <see cref="FormatException"/>.</summary>
    public static IReadOnlyList<GateLeases> Read(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        var figures = new List<GateLeases>();
        foreach ((string[] f, string where) in GateRecord.Rows(path, Header))
        {
            int[] n = [.. new[] { 1, 3, 4, 5, 6, 7, 8, 9 }.Select(c => int.TryParse(f[c], NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 0
                ? v
                : throw new FormatException($"{where}: column {c + 1} '{f[c]}' is not a whole number"))];
            figures.Add(new GateLeases(f[0], n[0], f[2], new LeaderHits(n[1], n[2], n[3]), n[4], n[5], n[6], n[7],
                RateRange.Parse(f[10], where), RateRange.Parse(f[11], where)));
        }

        return figures;
    }
}

/// <summary>The lowest and highest of some clock rates, or none.</summary>
internal readonly record struct RateRange(double Min, double Max)
{
    public static RateRange None => new(double.NaN, double.NaN);

    public bool IsNone => double.IsNaN(Min);

    public static RateRange Of(IEnumerable<double> rates)
    {
        double[] all = [.. rates];
        return all.Length == 0 ? None : new RateRange(all.Min(), all.Max());
    }

    public RateRange Merge(RateRange other) =>
        IsNone ? other : other.IsNone ? this : new RateRange(Math.Min(Min, other.Min), Math.Max(Max, other.Max));

    public override string ToString() => IsNone ? "-" : string.Create(CultureInfo.InvariantCulture, $"{Min:0.00}-{Max:0.00}");

    public static RateRange Parse(string text, string where)
    {
        if (text == "-")
        {
            return None;
        }

        string[] parts = text.Split('-');
        return parts.Length == 2
            && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double min)
            && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double max) && min <= max
            ? new RateRange(min, max)
            : throw new FormatException($"{where}: rates '{text}' are not 'min-max' or '-'");
    }
}

/// <summary>
/// The release gate's figures for docs/TESTING.md: per mix the runs, how many were clean, their seeds and wall times;
/// when the record's runs ran; and the lease figures of the runs whose reports were read (<see cref="GateLeases"/>).
/// </summary>
internal static class GateSummary
{
    /// <summary>The summary; mixes in the order they first appear in the record (the gate script's order).</summary>
    public static string ToMarkdown(IReadOnlyList<GateRun> runs, IReadOnlyList<GateLeases> leases)
    {
        CultureInfo c = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        if (runs.Count == 0)
        {
            return "No runs recorded.\n";
        }

        (DateTime Start, DateTime End)[] dated = [.. runs.Where(r => r.StartedUtc is not null)
            .Select(r => (r.StartedUtc!.Value, r.StartedUtc!.Value.AddSeconds(r.Seconds)))];
        string commits = string.Join(", ", runs.GroupBy(r => r.Commit).Select(g => $"{g.Key} ({g.Count()})"));
        string reads = string.Join(", ", runs.GroupBy(r => r.Reads).Select(g => $"{g.Key} {g.Count()}"));
        md.Append(c, $"Built from {commits}; reads: {reads}");
        if (dated.Length > 0)
        {
            md.Append(c, $"; from {dated.Min(d => d.Start):yyyy-MM-dd HH:mm} to {dated.Max(d => d.End):yyyy-MM-dd HH:mm} UTC");
        }

        md.Append(".\n\n| mix | runs | clean | seeds | wall time each |\n| --- | ---: | --- | --- | --- |\n");
        foreach (IGrouping<string, GateRun> mix in runs.GroupBy(r => r.Mix))
        {
            int fastest = mix.Min(r => r.Seconds), slowest = mix.Max(r => r.Seconds);
            string wall = fastest == slowest ? $"{fastest} s" : $"{fastest}–{slowest} s";
            md.Append(c, $"| {mix.Key} | {mix.Count()} | {mix.Count(r => r.Clean)} of {mix.Count()} | {Ranges(mix.Select(r => r.Seed))} | {wall} |\n");
        }

        int clean = runs.Count(r => r.Clean);
        md.Append(c, $"\n**{runs.Count} {(runs.Count == 1 ? "history" : "histories")}, {clean} clean, {runs.Count - clean} not clean.**");
        foreach (GateRun bad in runs.Where(r => !r.Clean))
        {
            md.Append(c, $"\n- not clean: {bad.Mix} seed {bad.Seed}: exit {bad.Exit}, {bad.Verdict} ({bad.Report})");
        }

        var recorded = runs.Select(r => (r.Mix, r.Seed, r.Commit)).ToHashSet();
        GateLeases[] figures = [.. leases.Where(l => recorded.Contains((l.Mix, l.Seed, l.Commit)))];
        md.Append('\n');
        if (figures.Length == 0)
        {
            md.Append("\nNo lease figures: no run's report was read.\n");
            return md.ToString();
        }

        int hit = figures.Sum(f => f.Hits.Hit), withLease = figures.Sum(f => f.Hits.WithLease), quiesced = figures.Sum(f => f.Hits.Quiesced);
        md.Append(c, $"\nLease figures of {figures.Length} of the {runs.Count} runs (those whose reports were read): {hit:N0} faults hit the bucket shard's leader, ");
        md.Append(c, $"{withLease:N0} while it held its lease ({quiesced:N0} found it quiesced).");
        GateLeases[] skews = [.. figures.Where(f => f.SlowedCut + f.SpedCut > 0)];
        if (skews.Length > 0)
        {
            RateRange slowRates = skews.Aggregate(RateRange.None, (r, f) => r.Merge(f.SlowedRates));
            RateRange fastRates = skews.Aggregate(RateRange.None, (r, f) => r.Merge(f.SpedRates));
            md.Append(c, $" Skewed leaders cut off while leading, awake: {skews.Sum(f => f.SlowedCut)} after a slow-down ({Times(slowRates)}), ");
            md.Append(c, $"{skews.Sum(f => f.SlowedHeld)} of them holding a lease; {skews.Sum(f => f.SpedCut)} after a speed-up ({Times(fastRates)}), ");
            md.Append(c, $"{skews.Sum(f => f.SpedHeld)} holding one.");
        }

        md.Append('\n');
        return md.ToString();
    }

    private static string Times(RateRange rates) => rates.IsNone ? "none" : string.Create(CultureInfo.InvariantCulture, $"{rates.Min:0.00}–{rates.Max:0.00}×");

    /// <summary>Seeds as ranges: 1, 2, 3, 5, 41, 42 → <c>1–3, 5, 41–42</c>.</summary>
    public static string Ranges(IEnumerable<int> seeds)
    {
        int[] sorted = [.. seeds.Distinct().Order()];
        var parts = new List<string>();
        for (int i = 0; i < sorted.Length;)
        {
            int j = i;
            while (j + 1 < sorted.Length && sorted[j + 1] == sorted[j] + 1)
            {
                j++;
            }

            parts.Add(j == i ? sorted[i].ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{sorted[i]}–{sorted[j]}"));
            i = j + 1;
        }

        return string.Join(", ", parts);
    }
}
