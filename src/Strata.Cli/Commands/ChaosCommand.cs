using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Strata.Cli.Chaos;
using Strata.Cli.Cluster;

namespace Strata.Cli.Commands;

/// <summary>
/// <c>strata chaos</c>: breaks a local cluster of real node processes on purpose while clients read, write and
/// compare-and-set registers, then checks the recorded history for linearizability (see <see cref="ChaosRunner"/>)
/// and writes a report folder into <c>--out</c>.
/// </summary>
/// <remarks>
/// Exit codes: 0 linearizable (and no node crashed, every final read answered; with <c>--workload namespace</c> also no
/// namespace invariant violated); 1 not linearizable, a namespace invariant violated, or a node
/// process exited by itself; 2 usage error; 3 undecided (the checker's budget ran out, or the run could not
/// finish: the cluster did not start or recover, a final read got no answer, the namespace network was left
/// behind), or <c>--network netns</c> cannot work here (not Linux, not root, ip or iptables missing: checked
/// before anything starts).
/// </remarks>
internal static class ChaosCommand
{
    public static Command Create(CliEnvironment env)
    {
        var defaults = new ChaosOptions();
        var nodes = new Option<int>("--nodes") { Description = $"Node processes (3..{LocalCluster.MaxNodes} with faults)", DefaultValueFactory = _ => defaults.Nodes };
        var ops = new Option<int>("--ops") { Description = "Register operations in total (the final reads come on top)", DefaultValueFactory = _ => defaults.Operations };
        var clients = new Option<int>("--clients") { Description = "Concurrent clients, each with its own client id and connections", DefaultValueFactory = _ => defaults.Clients };
        var keys = new Option<int>("--keys") { Description = "Registers (objects) the operations spread over", DefaultValueFactory = _ => defaults.Keys };
        var faults = new Option<string>("--faults")
        {
            Description = "Faults to inject, in turn: kill (SIGKILL, restart), power-loss (SIGKILL, what the node had not fsynced is dropped, restart), pause (SIGSTOP ~2-3 s, SIGCONT), the partitions isolate, split, " +
                "bridge, asymmetric (3-5 s each; 'partition' = all four; need --network netns), the membership changes join (a new node joins), " +
                "decommission (a node is drained, then stopped for good; a node joins first if fewer than 3 would stay), transfer (the bucket's shard " +
                "leader hands over) ('membership' = all three; join and decommission need --network loopback), skew (the node's clock runs " +
                "0.1-0.5x or 2-4x real time, wall clock off up to 10 s, for 3-5 s; with --network netns the node is also isolated after 1 s), " +
                "crash-point (SIGKILL, restart at once with STRATA_CRASH_POINT set to a seeded point - log-before-fsync, log-after-fsync, " +
                "apply-before or apply-after - and hit 20-100: the node dies there while serving, or is killed if it has not within 6-10 s of answering again; " +
                "then restarted without it), fsync-fail (SIGKILL, restart at once with a seeded fsync of a data file, 20-150, failing with EIO and " +
                "its pages counted clean: the node must stop with exit 4; its power is then cut and it is restarted), flip (one seeded bit flipped: " +
                "half the time of an SST under the running node, otherwise of a WAL, SST or MANIFEST file with the node killed and restarted: the node " +
                "must refuse to open or stop naming the corruption, or serve without reading it; after 6-10 s it is repaired - the bit flipped back " +
                "where that restores its files exactly - and restarted), or none",
            DefaultValueFactory = _ => "kill,pause",
        };
        var faultCount = new Option<int?>("--fault-count") { Description = "Faults over the run (default: one per 400 operations)", HelpName = "N" };
        var seed = new Option<int>("--seed") { Description = "Seed of the operations, keys, values and fault plan", DefaultValueFactory = _ => defaults.Seed };
        var rate = new Option<double>("--rate") { Description = "Operations per second offered by all clients together; 0: unpaced", DefaultValueFactory = _ => defaults.Rate };
        var attempt = new Option<double>("--attempt-timeout")
        {
            Description = "Seconds each attempt of a call may take before it is retried on another node",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => defaults.AttemptTimeout.TotalSeconds,
        };
        var call = new Option<double>("--call-timeout")
        {
            Description = "Seconds one operation may take over all attempts; then its outcome is unknown",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => defaults.CallTimeout.TotalSeconds,
        };
        var budget = new Option<double>("--check-budget")
        {
            Description = "Seconds the linearizability checker may spend before answering 'undecided' (exit 3)",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => defaults.CheckBudget.TotalSeconds,
        };
        var network = new Option<string>("--network")
        {
            Description = "loopback: every node on 127.0.0.1; netns: every node in its own network namespace behind a bridge (needed by partitions; root, ip and iptables)",
            DefaultValueFactory = _ => ChaosOptions.Name(defaults.Network),
        };
        var workload = new Option<string>("--workload")
        {
            Description = "register: reads, writes and compare-and-sets on registers; namespace: creates, directory renames, listings and conditional " +
                "metadata updates, checked against the namespace invariants (--keys = metadata registers)",
            DefaultValueFactory = _ => ChaosOptions.Name(defaults.Workload),
        };
        var reads = new Option<string>("--reads")
        {
            Description = "Where reads go: leader (through the shard-aware route, to the shard's leader), home (each client to its own node among the " +
                "bucket's replicas: follower reads, and reads at nodes just restarted, continued or cut off) or mixed (each read one or the other, seeded)",
            DefaultValueFactory = _ => ChaosOptions.Name(defaults.Reads),
        };
        var output = new Option<string>("--out") { Description = "Directory in which the run's report folder is created", HelpName = "DIR", DefaultValueFactory = _ => defaults.OutDirectory };
        var command = new Command("chaos", "Kill (also at seeded crash points), pause and partition nodes of a local cluster, and change its membership, under a register or namespace workload, then check the history for linearizability (and the namespace invariants)")
        {
            nodes, ops, clients, keys, faults, faultCount, seed, rate, attempt, call, budget, network, workload, reads, output,
            ChaosGateCommand.Create(env),
        };
        command.SetGuardedAction(env, async (parse, cancellationToken) =>
        {
            ChaosOptions options;
            try
            {
                options = new ChaosOptions
                {
                    Nodes = parse.GetValue(nodes),
                    Operations = parse.GetValue(ops),
                    Clients = parse.GetValue(clients),
                    Keys = parse.GetValue(keys),
                    Faults = ChaosOptions.ParseFaults(parse.GetValue(faults)!),
                    FaultCount = parse.GetValue(faultCount),
                    Seed = parse.GetValue(seed),
                    Rate = parse.GetValue(rate),
                    AttemptTimeout = Seconds("--attempt-timeout", parse.GetValue(attempt)),
                    CallTimeout = Seconds("--call-timeout", parse.GetValue(call)),
                    CheckBudget = Seconds("--check-budget", parse.GetValue(budget)),
                    OutDirectory = parse.GetValue(output)!,
                    Network = ChaosOptions.ParseNetwork(parse.GetValue(network)!),
                    Workload = ChaosOptions.ParseWorkload(parse.GetValue(workload)!),
                    Reads = ChaosOptions.ParseReads(parse.GetValue(reads)!),
                };
                options.Validate();
            }
            catch (ArgumentException e)
            {
                throw new UsageException(e.Message);
            }

            if (options.Network == ChaosNetwork.Namespaces)
            {
                // Fails at once, before anything is started or written, when namespaces cannot be built here.
                _ = NetworkTools.Require();
            }

            string commandLine = "strata " + string.Join(' ', parse.Tokens.Select(t => t.Value));
            ChaosVerdict verdict = await new ChaosRunner(env, options, commandLine).RunAsync(cancellationToken).ConfigureAwait(false);
            WriteSummary(env, verdict);
            return verdict.ExitCode;
        });
        return command;
    }

    private static void WriteSummary(CliEnvironment env, ChaosVerdict verdict)
    {
        CultureInfo c = CultureInfo.InvariantCulture;
        var table = new Table().Border(TableBorder.Rounded);
        foreach (string column in new[] { "operations", "total", "ok", "failed", "indeterminate" })
        {
            table.AddColumn(new TableColumn(column) { Alignment = column == "operations" ? Justify.Left : Justify.Right });
        }

        foreach (OutcomeCounts count in verdict.Counts.Append(verdict.FinalReads))
        {
            table.AddRow(count.Kind, count.Total.ToString("N0", c), count.Ok.ToString("N0", c), count.Failed.ToString("N0", c), count.Indeterminate.ToString("N0", c));
        }

        env.Console.Write(table);
        env.Console.MarkupLine(Markup.Escape("reads: " + ChaosReport.HomeReadsLine(verdict)));
        if (verdict.LeaderHits.Hit > 0)
        {
            env.Console.MarkupLine(Markup.Escape("leaders hit: " + verdict.LeaderHits));
        }
        if (verdict.ErrorsByKind.Count > 0)
        {
            env.Console.MarkupLine(Markup.Escape("errors by kind: " + string.Join(", ", verdict.ErrorsByKind.Select(e => string.Create(c, $"{e.Key} {e.Value:N0}")))));
        }

        string colour = verdict.ExitCode switch { ChaosReport.ExitLinearizable => "green", ChaosReport.ExitAnomaly => "red", _ => "yellow" };
        env.Console.MarkupLine($"[{colour} bold]{Markup.Escape(verdict.Verdict)}[/]" + Markup.Escape(string.Create(c,
            $": {verdict.CheckedOperations:N0} operations checked over {verdict.Keys.Count} keys in {verdict.CheckSeconds:0.###} s")));
        if (verdict.Explanation is { } explanation)
        {
            env.Console.WriteLine(explanation);
        }

        foreach (string line in NamespaceReport.ConsoleLines(verdict))
        {
            env.Console.MarkupLine(Markup.Escape(line));
        }

        foreach (string problem in verdict.Problems)
        {
            env.Console.MarkupLine("[red]problem:[/] " + Markup.Escape(problem));
        }

        env.Console.MarkupLine("report: " + Markup.Escape(verdict.Folder));
    }

    private static TimeSpan Seconds(string option, double seconds) =>
        seconds > 0 && seconds < TimeSpan.MaxValue.TotalSeconds
            ? TimeSpan.FromSeconds(seconds)
            : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{option} {seconds} must be a positive number of seconds"));
}
