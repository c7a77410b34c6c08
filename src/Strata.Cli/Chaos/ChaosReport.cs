using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Strata.Linearizability;
using Strata.Linearizability.Models;

namespace Strata.Cli.Chaos;

/// <summary>
/// Judges a <see cref="ChaosRun"/> with the linearizability checker and writes its report folder:
/// <c>history.jsonl</c> (one operation per line), <c>faults.json</c> (plan and timeline), <c>result.json</c>
/// (verdict, explanation, counts, per-key results, final values), <c>explanation.txt</c> (the checker's
/// explanation, when the history is not linearizable or undecided), <c>plot.png</c> (<see cref="ChaosPlot"/>) and <c>summary.md</c>.
/// </summary>
/// <remarks>
/// Exit codes (<see cref="ChaosVerdict.ExitCode"/>): 0 linearizable and nothing else wrong; 1 not linearizable, or a
/// node process exited by itself; 3 the checker could not decide within its budget, or the run could not finish
/// (the cluster did not recover, a final read got no answer). Stateless.
/// </remarks>
internal static class ChaosReport
{
    public const int ExitLinearizable = 0;
    public const int ExitAnomaly = 1;
    public const int ExitUndecided = 3;

    public const string HistoryFile = "history.jsonl";
    public const string FaultsFile = "faults.json";
    public const string ResultFile = "result.json";
    public const string ExplanationFile = "explanation.txt";
    public const string SummaryFile = "summary.md";

    /// <summary>Indented JSON, camelCase, enums as camelCase strings, nulls left out.</summary>
    public static JsonSerializerOptions Json { get; } = CreateJson(indented: true);

    private static readonly JsonSerializerOptions JsonLine = CreateJson(indented: false);

    /// <summary>Checks the run's history and says what it means (see the remarks for the exit codes).</summary>
    public static ChaosVerdict Judge(ChaosRun run, string folder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        long started = Stopwatch.GetTimestamp();
        (CheckResult result, int checkedCount) = HistoryCheck.Check(run.History, run.Options.CheckBudget, cancellationToken);
        double checkSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        ChaosPlot.Write(run, folder); // plot.png; summary.md links it or says why it was not drawn

        List<ChaosOperation> workload = [.. run.History.Where(o => !o.Final)];
        List<ChaosOperation> finals = [.. run.History.Where(o => o.Final)];
        var counts = new List<OutcomeCounts> { OutcomeCounts.Of("all", workload) };
        counts.AddRange(new[] { CasRegisterOp.Read, CasRegisterOp.Write, CasRegisterOp.Cas }
            .Select(k => OutcomeCounts.Of(OutcomeCounts.Name(k), workload.Where(o => o.Kind == k))));

        var problems = new List<string>();
        if (run.Failure is { } failure)
        {
            problems.Add("the run stopped early: " + failure);
        }

        foreach (FaultEvent crash in run.Faults.Where(f => f.Kind == "crash"))
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"node {crash.Node} (pid {crash.ProcessId}) exited by itself at {ChaosClock.Seconds(crash.StartNanos):0.0} s: {crash.Note}"));
        }

        foreach (ChaosOperation read in finals.Where(o => o.Outcome != ChaosOutcome.Ok))
        {
            problems.Add($"the final read of {read.Key} through node {read.Node} got no answer: {read.Error}");
        }

        if (run.Failure is null && finals.Count == 0)
        {
            problems.Add("no final reads were made");
        }

        bool crashed = run.Faults.Any(f => f.Kind == "crash");
        bool incomplete = run.Failure is not null || finals.Count == 0 || finals.Any(o => o.Outcome != ChaosOutcome.Ok);
        (string verdict, int exit) = result.Verdict switch
        {
            Verdict.Illegal => (ChaosVerdict.NotLinearizable, ExitAnomaly),
            Verdict.Unknown => (ChaosVerdict.Undecided, crashed ? ExitAnomaly : ExitUndecided),
            _ => (ChaosVerdict.Linearizable, crashed ? ExitAnomaly : incomplete ? ExitUndecided : ExitLinearizable),
        };

        return NamespaceReport.Include(run, new ChaosVerdict
        {
            Verdict = verdict,
            ExitCode = exit,
            Explanation = result.Explanation,
            Problems = problems,
            Counts = counts,
            FinalReads = OutcomeCounts.Of("final read", finals),
            HomeReads = OutcomeCounts.Of("read at home", workload.Where(o => o.Node is not null)),
            HomeNodes = [.. workload.Where(o => o.Node is not null).Select(o => o.Node!.Value).Distinct().Order()],
            LeaderHits = LeaderHits.Of(run.Faults),
            ErrorsByKind = workload.Where(o => o.Error is not null)
                .GroupBy(o => o.Error!.Split(':', 2)[0])
                .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
            CheckedOperations = checkedCount,
            CheckSeconds = checkSeconds,
            Keys = [.. result.Partitions.Select(p => new KeyVerdict(
                KeyOf(p.Name), p.Verdict switch { Verdict.Ok => ChaosVerdict.Linearizable, Verdict.Illegal => ChaosVerdict.NotLinearizable, _ => ChaosVerdict.Undecided },
                p.OperationCount, p.VisitedStates))],
            FinalValues = [.. finals.Select(o => new FinalValue(o.Key, o.Node ?? 0, o.Outcome == ChaosOutcome.Ok && o.Found == true ? o.ReadValue : null,
                o.Outcome == ChaosOutcome.Ok ? null : o.Error ?? o.Outcome.ToString()))],
            Folder = Path.GetFullPath(folder),
        });
    }

    /// <summary>Judges <paramref name="run"/> and writes the report folder <paramref name="folder"/> (created if missing).</summary>
    public static async Task<ChaosVerdict> CheckAndWriteAsync(ChaosRun run, string folder, CancellationToken cancellationToken)
    {
        ChaosVerdict verdict = Judge(run, folder, cancellationToken);
        await WriteAsync(run, verdict, cancellationToken).ConfigureAwait(false);
        return verdict;
    }

    /// <summary>Writes the report files of <paramref name="run"/> judged as <paramref name="verdict"/> into <see cref="ChaosVerdict.Folder"/>.</summary>
    public static async Task WriteAsync(ChaosRun run, ChaosVerdict verdict, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(verdict);
        string folder = verdict.Folder;
        Directory.CreateDirectory(folder);
        var lines = new StringBuilder();
        foreach (ChaosOperation op in run.History)
        {
            lines.AppendLine(JsonSerializer.Serialize(op, JsonLine));
        }

        await File.WriteAllTextAsync(Path.Combine(folder, HistoryFile), lines.ToString(), cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(folder, FaultsFile), JsonSerializer.Serialize(new { plan = run.Plan, timeline = run.Faults, members = run.Members, finalReplicas = run.FinalReplicas }, Json), cancellationToken).ConfigureAwait(false);
        var result = new
        {
            verdict.Verdict,
            verdict.ExitCode,
            run.Command,
            seed = run.Options.Seed,
            startedUtc = run.StartedUtc,
            seconds = Math.Round(run.Seconds, 3),
            options = Describe(run.Options),
            run.Bucket,
            verdict.Explanation,
            verdict.Problems,
            verdict.Counts,
            verdict.FinalReads,
            verdict.HomeReads,
            verdict.HomeNodes,
            verdict.ErrorsByKind,
            verdict.CheckedOperations,
            checkSeconds = Math.Round(verdict.CheckSeconds, 3),
            verdict.Keys,
            verdict.FinalValues,
            faults = run.Faults.Count(f => f.Kind != "crash"),
            crashes = run.Faults.Count(f => f.Kind == "crash"),
            crashPoints = run.Faults.Any(f => f.CrashPoint is not null)
                ? new { armed = run.Faults.Count(f => f.CrashPoint is not null), fired = run.Faults.Count(f => f.CrashPoint is not null && f.Fired == true) }
                : null,
            leaderHits = verdict.LeaderHits.Hit > 0 ? verdict.LeaderHits : (LeaderHits?)null,
            skews = run.Faults.Any(f => f.Kind == "skew")
                ? new
                {
                    skewed = run.Faults.Count(f => f.Kind == "skew"),
                    isolated = run.Faults.Count(f => f.Kind == "skew" && f.Sides is not null),
                    stillLedWhenCut = run.Faults.Count(f => f.Kind == "skew" && f.Sides is not null && f.LeaderAtCut == f.Node),
                }
                : null,
            flips = run.Faults.Any(f => f.Kind == "flip")
                ? new
                {
                    flipped = run.Faults.Count(f => f.Flip is not null),
                    live = run.Faults.Count(f => f.Live == true),
                    found = run.Faults.Count(f => f.Detected == true),
                    servedThrough = run.Faults.Count(f => f.Detected == false),
                }
                : null,
            failedSyncs = run.Faults.Any(f => f.FailedSync is not null)
                ? new { armed = run.Faults.Count(f => f.FailedSync is not null), fired = run.Faults.Count(f => f.FailedSync is not null && f.Fired == true) }
                : null,
            run.ClusterDirectory,
            run.Network,
            workload = ChaosOptions.Name(run.Options.Workload),
            @namespace = verdict.Namespace,
        };
        await File.WriteAllTextAsync(Path.Combine(folder, ResultFile), JsonSerializer.Serialize(result, Json), cancellationToken).ConfigureAwait(false);
        string explanationPath = Path.Combine(folder, ExplanationFile);
        if (verdict.Explanation is { } explanation)
        {
            await File.WriteAllTextAsync(explanationPath, Explain(run, verdict, explanation), cancellationToken).ConfigureAwait(false);
        }

        await NamespaceReport.WriteHistoryAsync(run, folder, Json, cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(folder, SummaryFile), ToMarkdown(run, verdict), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The report as Markdown: command, setup, counts, faults, final values, verdict and problems.</summary>
    public static string ToMarkdown(ChaosRun run, ChaosVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(verdict);
        var md = new StringBuilder();
        ChaosOptions o = run.Options;
        Line(md, $"# strata chaos: {verdict.Verdict}");
        md.AppendLine();
        Line(md, $"Command: `{run.Command}`");
        md.AppendLine();
        Line(md, $"- Started {run.StartedUtc:yyyy-MM-dd HH:mm:ss} UTC, {run.Seconds:0.0} s; seed {o.Seed}; exit code {verdict.ExitCode}");
        string where = run.Network is { } net
            ? $"each in its own network namespace on bridge `{net.Bridge}` ({net.Subnet}: {string.Join(", ", net.Nodes.Select(n => $"node {n.Node} {n.Address}"))})"
            : "on loopback";
        Line(md, $"- Cluster: {o.Nodes} `strata start` processes {where} (3 replicas per shard); bucket `{run.Bucket}`");
        string pace = o.Rate > 0 ? string.Create(CultureInfo.InvariantCulture, $"{o.Rate:0.#} ops/s offered") : "unpaced";
        if (o.Workload == ChaosWorkload.Namespace)
        {
            md.AppendLine(NamespaceReport.WorkloadLine(o));
        }
        else
        {
            Line(md, $"- Workload: {o.Operations:N0} register operations (50% read, 30% write, 20% cas) by {o.Clients} clients over {o.Keys} keys, {pace}; attempt deadline {o.AttemptTimeout.TotalSeconds:0.###} s, call budget {o.CallTimeout.TotalSeconds:0.###} s");
        }

        Line(md, $"- Reads: {ChaosOptions.Name(o.Reads)}: {HomeReadsLine(verdict)}");
        Line(md, $"- Faults: {(o.Faults.Count == 0 ? "none" : string.Join(", ", o.Faults.Select(ChaosOptions.Name)))}; {run.Faults.Count(f => f.Kind != "crash")} injected of {run.Plan.Count} planned");
        Line(md, $"- Leaders hit: {verdict.LeaderHits}");
        Line(md, $"- Checker: {verdict.CheckedOperations:N0} operations checked in {verdict.CheckSeconds:0.###} s (budget {o.CheckBudget.TotalSeconds:0} s), one partition per key");
        md.AppendLine(ChaosPlot.SummaryLine(verdict.Folder));
        md.AppendLine();
        md.AppendLine("## Operations");
        md.AppendLine();
        md.AppendLine("| kind | total | ok | failed | indeterminate |");
        md.AppendLine("|---|---:|---:|---:|---:|");
        foreach (OutcomeCounts c in verdict.Counts.Append(verdict.FinalReads))
        {
            Line(md, $"| {c.Kind} | {c.Total:N0} | {c.Ok:N0} | {c.Failed:N0} | {c.Indeterminate:N0} |");
        }

        md.AppendLine();
        if (verdict.ErrorsByKind.Count > 0)
        {
            Line(md, $"Errors by kind: {string.Join(", ", verdict.ErrorsByKind.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Key} {e.Value:N0}")))}");
            md.AppendLine();
        }

        md.AppendLine("Failed: refused by the node, definitely without effect (a cas whose generation no longer matched). " +
            "Indeterminate: no answer within the call budget; the checker lets such a write or cas take effect at any time after its call, or never.");
        md.AppendLine();
        md.AppendLine("## Faults");
        md.AppendLine();
        if (run.Faults.Count == 0)
        {
            md.AppendLine("None.");
        }
        else
        {
            md.AppendLine("| # | kind | node | pid | role | after ops | start s | healed s | serving again s |");
            md.AppendLine("|---:|---|---:|---:|---|---:|---:|---:|---:|");
            foreach (FaultEvent f in run.Faults)
            {
                string role = f.Kind == "crash" ? "exited by itself" : f.Kind == "join" ? "joining node" : f.Skipped ? "skipped" : f.WasLeader ? $"leader of shard {f.Shard}" : $"follower{(f.AimedAtLeader ? " (leader not seen)" : "")}";
                Line(md, $"| {f.Number} | {f.Kind} | {f.Node} | {f.ProcessId} | {role} | {f.OperationsBefore:N0} | {ChaosClock.Seconds(f.StartNanos):0.00} | {Seconds(f.HealNanos)} | {Seconds(f.ReadyNanos)} |");
            }

            foreach (FaultEvent slow in run.Faults.Where(f => f.WaitedFor is not null))
            {
                md.AppendLine();
                Line(md, $"Fault {slow.Number} ({slow.Kind}): serving again took long; readiness waited for: {slow.WaitedFor}");
            }

            FaultEvent[] changes = [.. run.Faults.Where(f => f.Kind is "join" or "decommission" or "transfer")];
            if (changes.Length > 0)
            {
                md.AppendLine();
                md.AppendLine("Membership changes (seconds after the change started; done = joined node balanced, decommissioned node stopped, leadership moved or given up):");
                md.AppendLine();
                md.AppendLine("| # | kind | node | what | shard leader before (term) | leader after (term) | listed s | hosting s | decommissioned s | done s | serving s |");
                md.AppendLine("|---:|---|---:|---|---|---|---:|---:|---:|---:|---:|");
                foreach (FaultEvent f in changes)
                {
                    string before = f.Term is null ? "not seen" : f.WasLeader ? $"node {f.Node} ({f.Term})" : $"another node ({f.Term})";
                    string after = f.LeaderAfter is { } l ? $"node {l} ({f.TermAfter})" : "not seen";
                    string what = f.Kind == "transfer" && !f.Skipped
                        ? $"to node {f.Target}: {(f.Moved == true ? "moved" : "did not move")}{(f.Note is null ? "" : "; " + f.Note)}"
                        : f.Note ?? "";
                    md.AppendLine(
                        string.Create(CultureInfo.InvariantCulture, $"| {f.Number} | {f.Kind}{(f.Skipped ? " (skipped)" : "")} | {f.Node} | {what.Replace("|", "\\|", StringComparison.Ordinal)} | {before} | {after} | ") +
                        string.Create(CultureInfo.InvariantCulture, $"{Since(f, f.ListedNanos)} | {Since(f, f.HostingNanos)} | {Since(f, f.DecommissionedNanos)} | {Since(f, f.HealNanos)} | {Since(f, f.ReadyNanos)} |"));
                }
            }

            if (run.Members.Count > 0)
            {
                md.AppendLine();
                string members = string.Join(", ", run.Members.Select(m => string.Create(CultureInfo.InvariantCulture,
                    $"node {m.Node} {m.State}{(m.Joined ? " (joined)" : "")}{(m.Running ? "" : " (stopped)")}")));
                Line(md, $"Members at the end: {members}; final reads through nodes {string.Join(", ", run.FinalReplicas)}.");
            }

            ArmedTable(md, [.. run.Faults.Where(f => f.CrashPoint is not null)], "point:hit", f => f.CrashPoint!,
                "Crash points ({0} of {1} fired; the node was killed, restarted at once with `STRATA_CRASH_POINT` armed, then restarted without it):");
            ArmedTable(md, [.. run.Faults.Where(f => f.FailedSync is not null)], "failing fsync",
                f => f.FailedSync!.Value.ToString(CultureInfo.InvariantCulture),
                "Failed fsyncs ({0} of {1} stopped the node; it was killed, restarted at once with `STRATA_POWERLOSS_FAIL_SYNC` armed, " +
                "its power cut once it stopped, then restarted without it):");

            FaultEvent[] flips = [.. run.Faults.Where(f => f.Kind == "flip")];
            if (flips.Length > 0)
            {
                md.AppendLine();
                Line(md, $"Bit flips ({flips.Count(f => f.Detected == true)} of {flips.Length} found by the node; the others were served through without a read of the flipped bytes or with DATA_LOSS; a wrong answer would fail the check above):");
                md.AppendLine();
                md.AppendLine("| # | node | bit | flipped | found | what happened |");
                md.AppendLine("|---:|---:|---|---|---|---|");
                foreach (FaultEvent f in flips)
                {
                    string found = f.Detected switch { true => "yes", false => "no", null => "" };
                    string when = f.Live switch { true => "running", false => "down", null => "" };
                    Line(md, $"| {f.Number} | {f.Node} | {f.Flip} | {when} | {found} | {f.Note?.Replace("|", "\\|", StringComparison.Ordinal)} |");
                }
            }

            FaultEvent[] partitions = [.. run.Faults.Where(f => f.Sides is not null)];
            if (partitions.Length > 0)
            {
                md.AppendLine();
                md.AppendLine("Partitions (packets dropped by iptables in the receivers' namespaces; the node column above is the node aimed at):");
                md.AppendLine();
                md.AppendLine("| # | kind | sides | what | shard leader before (term) | leader just before the heal (term) | links whole again s after the heal |");
                md.AppendLine("|---:|---|---|---|---|---|---:|");
                foreach (FaultEvent f in partitions)
                {
                    string before = f.WasLeader ? $"node {f.Node} ({f.Term})" : f.Term is null ? "not seen" : $"another node ({f.Term})";
                    if (f.Kind == "skew")
                    {
                        before += f.LeaderAtCut is { } cutLeader ? $"; at the cut node {cutLeader} ({f.TermAtCut})" : "; at the cut none seen";
                    }

                    string atHeal = f.LeaderBeforeHeal is { } l ? $"node {l} ({f.TermBeforeHeal})" : "none seen";
                    string connected = f.ConnectedNanos is long c && f.HealNanos is long h ? ChaosClock.Seconds(c - h).ToString("0.00", CultureInfo.InvariantCulture) : "";
                    Line(md, $"| {f.Number} | {f.Kind} | {f.Sides!.Replace("|", "\\|", StringComparison.Ordinal)} | {f.Note} | {before} | {atHeal} | {connected} |");
                }
            }
        }

        md.AppendLine();
        md.AppendLine("## Final reads (after healing, through every replica of the bucket's shard)");
        md.AppendLine();
        ulong[] nodes = [.. verdict.FinalValues.Select(v => v.Node).Distinct().Order()];
        if (nodes.Length == 0)
        {
            md.AppendLine("None.");
        }
        else
        {
            md.Append("| key |").AppendJoin("", nodes.Select(n => string.Create(CultureInfo.InvariantCulture, $" node {n} |"))).AppendLine();
            md.Append("|---|").AppendJoin("", nodes.Select(_ => "---:|")).AppendLine();
            foreach (IGrouping<string, FinalValue> key in verdict.FinalValues.GroupBy(v => v.Key))
            {
                md.Append("| ").Append(key.Key).Append(" |");
                foreach (ulong node in nodes)
                {
                    FinalValue? value = key.FirstOrDefault(v => v.Node == node);
                    md.Append(' ').Append(value is null ? "" : value.Error is not null ? "no answer" : value.Value?.ToString(CultureInfo.InvariantCulture) ?? "absent").Append(" |");
                }

                md.AppendLine();
            }
        }

        md.AppendLine();
        md.AppendLine("## Verdict");
        md.AppendLine();
        Line(md, $"**{verdict.Verdict}**");
        md.AppendLine();
        md.AppendLine("| key | operations checked | verdict | search states |");
        md.AppendLine("|---|---:|---|---:|");
        foreach (KeyVerdict key in verdict.Keys)
        {
            Line(md, $"| {key.Key} | {key.Operations:N0} | {key.Verdict} | {key.VisitedStates:N0} |");
        }

        if (verdict.Explanation is { } explanation)
        {
            md.AppendLine();
            md.AppendLine("The checker's explanation (times are nanoseconds since the run began, as in history.jsonl; `op N` is the operation's index there):");
            md.AppendLine();
            md.AppendLine("```");
            md.AppendLine(explanation);
            md.AppendLine("```");
        }

        NamespaceReport.AppendMarkdown(md, verdict);
        if (verdict.Problems.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("## Problems");
            md.AppendLine();
            foreach (string problem in verdict.Problems)
            {
                md.Append("- ").AppendLine(problem.ReplaceLineEndings(" / "));
            }
        }

        return md.ToString();
    }

    private static string Explain(ChaosRun run, ChaosVerdict verdict, string explanation) =>
        $"""
        strata chaos: {verdict.Verdict} (seed {run.Options.Seed})
        Command: {run.Command}
        Times are nanoseconds since the run began (as in {HistoryFile}); "op N" is the operation with index N there;
        "client" is the Jepsen process (client number, renumbered after each indeterminate operation; final reads are -node).

        {explanation}

        """;

    /// <summary>How many of the workload's reads went straight to a home node, and which nodes; one line for the console and the summary.</summary>
    public static string HomeReadsLine(ChaosVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        OutcomeCounts home = verdict.HomeReads;
        int reads = verdict.Counts.FirstOrDefault(c => c.Kind == OutcomeCounts.Name(CasRegisterOp.Read))?.Total ?? 0;
        return home.Total == 0
            ? "every read through the shard-aware route"
            : string.Create(CultureInfo.InvariantCulture,
                $"{home.Total:N0} of {reads:N0} sent straight to the client's home node (nodes {string.Join(", ", verdict.HomeNodes)}; {home.Ok:N0} ok, {home.Indeterminate:N0} indeterminate), the others through the shard-aware route");
    }

    private static object Describe(ChaosOptions o) => new
    {
        o.Nodes,
        operations = o.Operations,
        o.Clients,
        o.Keys,
        faults = o.Faults.Select(ChaosOptions.Name).ToArray(),
        network = ChaosOptions.Name(o.Network),
        reads = ChaosOptions.Name(o.Reads),
        faultCount = o.PlannedFaults,
        o.Rate,
        attemptTimeoutSeconds = o.AttemptTimeout.TotalSeconds,
        callTimeoutSeconds = o.CallTimeout.TotalSeconds,
        checkBudgetSeconds = o.CheckBudget.TotalSeconds,
    };

    private static string KeyOf(string partitionName) =>
        partitionName.StartsWith("key \"", StringComparison.Ordinal) && partitionName.EndsWith('"') ? partitionName[5..^1] : partitionName;

    /// <summary>Seconds from <paramref name="fault"/>'s start to <paramref name="at"/>; empty when not reached.</summary>
    private static string Since(FaultEvent fault, long? at) =>
        at is long t ? ChaosClock.Seconds(t - fault.StartNanos).ToString("0.00", CultureInfo.InvariantCulture) : "";

    private static string Seconds(long? nanos) => nanos is long n ? ChaosClock.Seconds(n).ToString("0.00", CultureInfo.InvariantCulture) : "";

    /// <summary>The table of the faults that armed a node to die (<paramref name="armed"/>), under <paramref name="title"/> ({0} fired of {1}).</summary>
    private static void ArmedTable(StringBuilder md, FaultEvent[] armed, string what, Func<FaultEvent, string> value, string title)
    {
        if (armed.Length == 0)
        {
            return;
        }

        md.AppendLine();
        md.AppendLine(string.Format(CultureInfo.InvariantCulture, title, armed.Count(f => f.Fired == true), armed.Length));
        md.AppendLine();
        Line(md, $"| # | node | {what} | armed pid | fired | died s after the armed start | what happened |");
        md.AppendLine("|---:|---:|---|---:|---|---:|---|");
        foreach (FaultEvent f in armed)
        {
            string fired = f.Fired switch { true => "yes", false => "no", null => "" };
            string died = f.DiedNanos is long d && f.ArmedNanos is long a ? ChaosClock.Seconds(d - a).ToString("0.00", CultureInfo.InvariantCulture) : "";
            Line(md, $"| {f.Number} | {f.Node} | {value(f)} | {f.ArmedProcessId} | {fired} | {died} | {f.Note?.Replace("|", "\\|", StringComparison.Ordinal)} |");
        }
    }

    private static void Line(StringBuilder md, FormattableString text) => md.AppendLine(text.ToString(CultureInfo.InvariantCulture));

    private static JsonSerializerOptions CreateJson(bool indented) => new(JsonSerializerDefaults.Web)
    {
        WriteIndented = indented,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };
}
