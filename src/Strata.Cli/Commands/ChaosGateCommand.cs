using System.CommandLine;
using System.Globalization;
using Strata.Cli.Chaos;

namespace Strata.Cli.Commands;

/// <summary>
/// <c>strata chaos gate</c>: the release gate's figures for docs/TESTING.md, from the gate record that
/// <c>scripts/chaos-gate.sh</c> writes (<see cref="GateRecord"/>). The lease figures come from the runs' reports, which
/// stay on the machine that ran them: every run whose report is still there and whose figures are not yet kept is
/// added to <c>--leases</c> (beside the record by default), so the figures outlive the reports.
/// </summary>
/// <remarks>Exit codes: 0 summarised (whatever the runs' verdicts: the summary says which were not clean); 2 a file unreadable or malformed.</remarks>
internal static class ChaosGateCommand
{
    public static Command Create(CliEnvironment env)
    {
        var record = new Option<string>("--record") { Description = "The gate record (scripts/chaos-gate.sh's RECORD)", HelpName = "FILE", DefaultValueFactory = _ => "docs/chaos-gate-runs.tsv" };
        var leases = new Option<string>("--leases")
        {
            Description = "The lease figures kept per run (default: the record's name with -leases, e.g. docs/chaos-gate-runs-leases.tsv); runs whose reports are here are added",
            HelpName = "FILE",
        };
        var command = new Command("gate", "Summarise a release gate record (runs, clean runs, seeds and wall time per mix; lease figures from the runs' reports) as Markdown")
        {
            record, leases,
        };
        command.SetGuardedAction(env, async (parse, cancellationToken) =>
        {
            string recordPath = parse.GetValue(record)!;
            string leasesPath = parse.GetValue(leases) ?? LeasesBeside(recordPath);
            IReadOnlyList<GateRun> runs;
            List<GateLeases> kept;
            try
            {
                runs = GateRecord.Read(recordPath);
                kept = [.. GateLeases.Read(leasesPath)];
            }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
            {
                throw new UsageException(e.Message);
            }

            var known = kept.Select(l => (l.Mix, l.Seed, l.Commit)).ToHashSet();
            var added = new List<GateLeases>();
            foreach (GateRun run in runs.Where(r => !known.Contains((r.Mix, r.Seed, r.Commit)) && File.Exists(Path.Combine(r.Report, ChaosReport.FaultsFile))))
            {
                try
                {
                    added.Add(GateLeases.Of(run));
                }
                catch (Exception e) when (e is System.Text.Json.JsonException or FormatException or IOException)
                {
                    throw new UsageException($"{run.Report}: {ChaosReport.FaultsFile} is unreadable: {e.Message}");
                }
            }

            if (added.Count > 0)
            {
                bool fresh = !File.Exists(leasesPath) || new FileInfo(leasesPath).Length == 0;
                await File.AppendAllLinesAsync(leasesPath, (fresh ? [GateLeases.Header] : Array.Empty<string>()).Concat(added.Select(l => l.ToLine())), cancellationToken)
                    .ConfigureAwait(false);
                kept.AddRange(added);
            }

            await env.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{runs.Count} runs in {recordPath}; lease figures of {added.Count} runs added to {leasesPath} from their reports")).ConfigureAwait(false);
            await env.Out.WriteAsync(GateSummary.ToMarkdown(runs, kept)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The lease figures kept beside a record: <c>docs/chaos-gate-runs.tsv</c> → <c>docs/chaos-gate-runs-leases.tsv</c>.</summary>
    public static string LeasesBeside(string recordPath) =>
        Path.Combine(Path.GetDirectoryName(recordPath) ?? "", Path.GetFileNameWithoutExtension(recordPath) + "-leases" + Path.GetExtension(recordPath));
}
