using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using Strata.Cli.Chaos;
using Strata.Client;
using Strata.Linearizability.Models;

namespace Strata.Cli.Tests;

/// <summary>
/// <c>strata chaos</c> against real node processes: a short run with one kill and one pause ends linearizable with
/// a complete report, and an interrupted run leaves no node process behind (paused ones included).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class ChaosTests : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), "strata-chaos-cli-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }

    [Fact]
    public async Task A_short_run_with_a_kill_and_a_pause_is_linearizable_and_its_report_adds_up()
    {
        CliResult result = await Cli.RunAsync(
            "chaos", "--nodes", "3", "--ops", "300", "--clients", "4", "--keys", "4", "--faults", "kill,pause", "--fault-count", "2",
            "--seed", "7", "--out", _out);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("linearizable: ", result.Out, StringComparison.Ordinal);
        string folder = Assert.Single(Directory.GetDirectories(_out));
        Assert.Contains("seed7", Path.GetFileName(folder), StringComparison.Ordinal);
        foreach (string file in new[] { ChaosReport.HistoryFile, ChaosReport.FaultsFile, ChaosReport.ResultFile, ChaosReport.SummaryFile })
        {
            Assert.True(File.Exists(Path.Combine(folder, file)), $"{file} is missing");
        }

        Assert.False(File.Exists(Path.Combine(folder, ChaosReport.ExplanationFile)), "a linearizable run has no explanation");

        using JsonDocument report = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, ChaosReport.ResultFile)));
        JsonElement root = report.RootElement;
        Assert.Equal("linearizable", root.GetProperty("verdict").GetString());
        Assert.Equal(0, root.GetProperty("exitCode").GetInt32());
        Assert.Empty(root.GetProperty("problems").EnumerateArray());
        JsonElement[] counts = [.. root.GetProperty("counts").EnumerateArray()];
        Assert.Equal(["all", "read", "write", "cas"], counts.Select(c => c.GetProperty("kind").GetString()));
        Assert.All(counts, c => Assert.Equal(
            c.GetProperty("total").GetInt32(),
            c.GetProperty("ok").GetInt32() + c.GetProperty("failed").GetInt32() + c.GetProperty("indeterminate").GetInt32()));
        Assert.Equal(300, counts[0].GetProperty("total").GetInt32());
        Assert.Equal(300, counts.Skip(1).Sum(c => c.GetProperty("total").GetInt32()));
        Assert.True(counts[0].GetProperty("ok").GetInt32() > 0);
        JsonElement finals = root.GetProperty("finalReads");
        Assert.Equal(3 * 4, finals.GetProperty("total").GetInt32());
        Assert.Equal(3 * 4, finals.GetProperty("ok").GetInt32());
        Assert.Equal(4, root.GetProperty("keys").GetArrayLength());
        Assert.All(root.GetProperty("keys").EnumerateArray(), k => Assert.Equal("linearizable", k.GetProperty("verdict").GetString()));

        // Every node answers the same value for every key once healed.
        foreach (IGrouping<string, JsonElement> key in root.GetProperty("finalValues").EnumerateArray().GroupBy(v => v.GetProperty("key").GetString()!))
        {
            Assert.Equal(3, key.Count());
            Assert.Single(key.Select(v => v.TryGetProperty("value", out JsonElement value) ? value.GetInt64() : -1).Distinct());
        }

        string[] history = File.ReadAllLines(Path.Combine(folder, ChaosReport.HistoryFile));
        Assert.Equal(300 + 12, history.Length);
        Assert.Equal(Enumerable.Range(0, 312), history.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("index").GetInt32()));

        // Mixed reads (the default): some went straight to the client's home node, the others through the shard-aware
        // route; writes and cas never went straight to a node, and the report counts the home reads.
        JsonElement[] workload = [.. history.Select(line => JsonDocument.Parse(line).RootElement.Clone()).Where(op => !op.GetProperty("final").GetBoolean())];
        JsonElement[] home = [.. workload.Where(op => op.TryGetProperty("node", out JsonElement node) && node.ValueKind == JsonValueKind.Number)];
        Assert.All(home, op => Assert.Equal("read", op.GetProperty("kind").GetString()));
        Assert.InRange(home.Length, 1, counts[1].GetProperty("total").GetInt32() - 1);
        Assert.Equal(home.Length, root.GetProperty("homeReads").GetProperty("total").GetInt32());
        Assert.Equal(home.Select(op => op.GetProperty("node").GetInt32()).Distinct().Order(),
            root.GetProperty("homeNodes").EnumerateArray().Select(n => n.GetInt32()));
        Assert.Equal("mixed", root.GetProperty("options").GetProperty("reads").GetString());
        Assert.Contains($"reads: {home.Length:N0} of ", result.Out, StringComparison.Ordinal);

        using JsonDocument faults = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, ChaosReport.FaultsFile)));
        JsonElement[] timeline = [.. faults.RootElement.GetProperty("timeline").EnumerateArray()];
        Assert.Equal(["kill", "pause"], timeline.Select(f => f.GetProperty("kind").GetString()).Order());
        foreach (JsonElement fault in timeline)
        {
            long start = fault.GetProperty("startNanos").GetInt64();
            long heal = fault.GetProperty("healNanos").GetInt64();
            long ready = fault.GetProperty("readyNanos").GetInt64();
            Assert.True(start < heal && heal <= ready, fault.ToString());
            Assert.InRange(fault.GetProperty("operationsBefore").GetInt32(), 1, 299);
        }

        // The faults that hit the shard's leader say whether it held its lease then, and the report counts them. The
        // plan's first fault (seed 7) kills the leader a hundred operations in: the clients run on while a fault is put in
        // place, so that leader is awake and holds its lease (a leader just elected after a recovery may not have one yet).
        JsonElement[] leaderHits = [.. timeline.Where(f => f.GetProperty("wasLeader").GetBoolean())];
        Assert.All(timeline.Except(leaderHits), f => Assert.False(f.TryGetProperty("leaderHeldLease", out _), f.ToString()));
        JsonElement first = timeline.Single(f => f.GetProperty("number").GetInt32() == 1);
        Assert.True(first.GetProperty("aimedAtLeader").GetBoolean() && first.GetProperty("wasLeader").GetBoolean(), first.ToString());
        Assert.True(first.GetProperty("leaderHeldLease").GetBoolean(), first.ToString());
        Assert.False(first.GetProperty("leaderQuiesced").GetBoolean(), first.ToString());
        int withLease = leaderHits.Count(f => f.GetProperty("leaderHeldLease").GetBoolean());
        JsonElement hits = root.GetProperty("leaderHits");
        Assert.Equal(leaderHits.Length, hits.GetProperty("hit").GetInt32());
        Assert.Equal(withLease, hits.GetProperty("withLease").GetInt32());
        Assert.Contains($"leaders hit: {leaderHits.Length} fault(s) hit the bucket shard's leader: {withLease} while it held its lease", result.Out, StringComparison.Ordinal);

        // Never two nodes down at once: each fault began after the previous one was healed and the cluster served.
        Assert.True(timeline[0].GetProperty("readyNanos").GetInt64() <= timeline[1].GetProperty("startNanos").GetInt64());
        Assert.Empty(NodeProcessesUnder(_out));
        // A clean run keeps the node logs and deletes their data.
        Assert.True(File.Exists(Path.Combine(folder, "cluster", "node-1.log")));
        Assert.False(Directory.Exists(Path.Combine(folder, "cluster", "node-1")));
    }

    [Fact]
    public async Task A_short_run_with_clock_skews_is_linearizable_and_records_each_skew()
    {
        CliResult result = await Cli.RunAsync(
            "chaos", "--nodes", "3", "--ops", "300", "--clients", "4", "--keys", "4", "--faults", "skew", "--fault-count", "2",
            "--seed", "7", "--out", _out);

        Assert.True(result.ExitCode == 0, result.ToString());
        string folder = Assert.Single(Directory.GetDirectories(_out));
        using JsonDocument faults = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, ChaosReport.FaultsFile)));
        JsonElement[] timeline = [.. faults.RootElement.GetProperty("timeline").EnumerateArray()];
        Assert.Equal(["skew", "skew"], timeline.Select(f => f.GetProperty("kind").GetString()));
        foreach (JsonElement fault in timeline)
        {
            Assert.StartsWith("clock at ", fault.GetProperty("note").GetString(), StringComparison.Ordinal);
            Assert.True(fault.GetProperty("healNanos").GetInt64() > fault.GetProperty("startNanos").GetInt64());
        }

        // Set right at the end: every node's control file says real time.
        foreach (string control in Directory.GetFiles(Path.Combine(folder, "cluster"), "node-*.clock"))
        {
            Assert.Equal("rate=1 offset=0ms", File.ReadAllText(control));
        }
    }

    [Fact]
    public async Task A_short_run_with_crash_points_is_linearizable_and_records_each_armed_point_and_whether_it_fired()
    {
        ChaosRunFiles run = await ChaosRunFiles.RunAsync(_out, "crash-point", faultCount: 2, seed: 2, extra: ["--rate", "100"]);

        Assert.Contains("with STRATA_CRASH_POINT=", run.Result.Out, StringComparison.Ordinal);
        foreach (JsonElement fault in run.Timeline)
        {
            // The point armed is the one the seed chose for this fault, on the node the timeline names.
            ArmedCrashPoint armed = ArmedCrashPoint.Of(run.SaltOf(fault));
            Assert.Equal(armed.Value, fault.GetProperty("crashPoint").GetString());
            Assert.True(fault.GetProperty("healNanos").GetInt64() > fault.GetProperty("armedNanos").GetInt64(), fault.ToString());
            AssertArmedEntry(fault, $"crash point {armed.Value} ");
        }

        // Not vacuous: at least one node really died at its armed point, and its log says so.
        JsonElement[] fired = Fired(run.Timeline, "no armed crash point fired");
        foreach (JsonElement fault in fired)
        {
            string point = fault.GetProperty("crashPoint").GetString()!;
            Assert.Contains($"crash point {point.Split(':')[0]} reached (hit {point.Split(':')[1]})", run.LogOf(fault), StringComparison.Ordinal);
        }

        AssertTally(run, "crashPoints", fired.Length, $"{fired.Length} of 2 fired");
    }

    [Fact]
    public async Task A_short_run_with_failed_fsyncs_is_linearizable_and_each_node_stopped_at_its_fsync_and_lost_its_unsynced_pages()
    {
        ChaosRunFiles run = await ChaosRunFiles.RunAsync(_out, "fsync-fail", faultCount: 2, seed: 3, extra: ["--rate", "100"]);

        Assert.Contains("with STRATA_POWERLOSS_FAIL_SYNC=", run.Result.Out, StringComparison.Ordinal);
        foreach (JsonElement fault in run.Timeline)
        {
            // The sync armed is the one the seed chose for this fault.
            ArmedSyncFailure armed = ArmedSyncFailure.Of(run.SaltOf(fault));
            Assert.Equal(armed.Sync, fault.GetProperty("failedSync").GetInt32());
            AssertArmedEntry(fault, $"a failed fsync {armed.Sync} ");
        }

        // Not vacuous: at least one node stopped at its failed fsync, said why, and had its power cut before the restart.
        JsonElement[] fired = Fired(run.Timeline, "no armed fsync failed");
        foreach (JsonElement fault in fired)
        {
            Assert.Contains("; power cut: ", fault.GetProperty("note").GetString(), StringComparison.Ordinal);
            string log = run.LogOf(fault);
            Assert.Contains(log.Split('\n'), line => line.Contains(ArmedSyncFailure.StoppedLine, StringComparison.Ordinal)
                && line.Contains(ArmedSyncFailure.SyncError, StringComparison.Ordinal));
            Assert.Contains("--- power loss: ", log, StringComparison.Ordinal);
        }

        AssertTally(run, "failedSyncs", fired.Length, $"Failed fsyncs ({fired.Length} of 2 stopped the node");
    }

    [Fact]
    public async Task A_short_run_with_bit_flips_is_linearizable_and_each_flip_is_found_or_served_through_and_repaired()
    {
        ChaosRunFiles run = await ChaosRunFiles.RunAsync(_out, "flip", faultCount: 2, seed: 3, extra: ["--rate", "100"]);

        foreach (JsonElement fault in run.Timeline)
        {
            // A bit of a checksummed file, and a verdict on whether it was found.
            string flip = fault.GetProperty("flip").GetString()!;
            Assert.Matches(@"^(\d+\.(sst|log)|MANIFEST-\d+)@\d+ bit [0-7]$", flip);
            Assert.StartsWith(flip + " (", fault.GetProperty("note").GetString(), StringComparison.Ordinal);
            Assert.EndsWith("; restarted", fault.GetProperty("note").GetString(), StringComparison.Ordinal);
            // Flipped under the running node (a table: the same process is watched) or while it was down (the node
            // restarted as a new process), and the note says which. Whether a seeded live flip finds a table depends
            // on whether the node has flushed one yet, so either may happen in this run.
            bool live = fault.GetProperty("live").GetBoolean();
            if (live)
            {
                Assert.Equal(fault.GetProperty("processId").GetInt32(), fault.GetProperty("armedProcessId").GetInt32());
            }
            else
            {
                AssertRestartedAsNewProcess(fault);
            }

            Assert.Equal(live, fault.GetProperty("note").GetString()!.Contains("flipped under the running node", StringComparison.Ordinal));
            Assert.True(!live || flip.Contains(".sst@", StringComparison.Ordinal), flip);
            if (fault.GetProperty("detected").GetBoolean())
            {
                // Found: the node's own log names the corruption.
                Assert.Contains("corrupt", run.LogOf(fault), StringComparison.OrdinalIgnoreCase);
            }
        }

        JsonElement flips = run.Outcome.GetProperty("flips");
        Assert.Equal(2, flips.GetProperty("flipped").GetInt32());
        Assert.Equal(2, flips.GetProperty("found").GetInt32() + flips.GetProperty("servedThrough").GetInt32());
        Assert.Equal(run.Timeline.Count(f => f.GetProperty("live").GetBoolean()), flips.GetProperty("live").GetInt32());
        Assert.Contains("Bit flips (", run.Summary, StringComparison.Ordinal);
        Assert.Empty(NodeProcessesUnder(_out));
    }

    private static void AssertRestartedAsNewProcess(JsonElement fault) =>
        Assert.NotEqual(fault.GetProperty("processId").GetInt32(), fault.GetProperty("armedProcessId").GetInt32());

    /// <summary>An armed death's entry: a new process, a note naming what was armed, a death time exactly when it fired.</summary>
    private static void AssertArmedEntry(JsonElement fault, string notePrefix)
    {
        AssertRestartedAsNewProcess(fault);
        Assert.StartsWith(notePrefix, fault.GetProperty("note").GetString(), StringComparison.Ordinal);
        Assert.Equal(fault.GetProperty("fired").GetBoolean(), fault.TryGetProperty("diedNanos", out _));
    }

    /// <summary>Two armed, <paramref name="fired"/> fired in <c>result.json</c>'s <paramref name="tally"/>, the summary says so, no node left running.</summary>
    private void AssertTally(ChaosRunFiles run, string tally, int fired, string summary)
    {
        Assert.Equal(2, run.Outcome.GetProperty(tally).GetProperty("armed").GetInt32());
        Assert.Equal(fired, run.Outcome.GetProperty(tally).GetProperty("fired").GetInt32());
        Assert.Contains(summary, run.Summary, StringComparison.Ordinal);
        Assert.Empty(NodeProcessesUnder(_out));
    }

    /// <summary>The entries that fired; fails with <paramref name="none"/> and the timeline when there is none.</summary>
    private static JsonElement[] Fired(JsonElement[] timeline, string none)
    {
        JsonElement[] fired = [.. timeline.Where(f => f.GetProperty("fired").GetBoolean())];
        Assert.True(fired.Length > 0, none + ": " + string.Join(Environment.NewLine, timeline.Select(f => f.ToString())));
        return fired;
    }

    [Fact]
    public async Task The_help_names_the_crash_point_fault_and_the_points_it_arms()
    {
        CliResult result = await Cli.RunAsync("chaos", "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("crash-point", result.Out, StringComparison.Ordinal);
        Assert.All(ArmedCrashPoint.Points, point => Assert.Contains(point, result.Out, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_interrupted_run_stops_every_node_even_a_paused_one()
    {
        using var interrupt = new CancellationTokenSource();
        (Task<int> exit, SignallingWriter output, SignallingWriter error) = Cli.Start(interrupt.Token,
            "chaos", "--nodes", "3", "--ops", "2000", "--clients", "2", "--faults", "pause", "--fault-count", "3", "--rate", "200",
            "--seed", "3", "--out", _out);

        await output.WaitForAsync("SIGSTOP node", exit, TimeSpan.FromSeconds(60));
        Assert.NotEmpty(NodeProcessesUnder(_out));
        await interrupt.CancelAsync();
        int code = await exit.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(code == 1, $"exit {code}\n{output.Text}\n{error.Text}");
        Assert.Contains("interrupted", error.Text, StringComparison.Ordinal);
        Assert.Empty(NodeProcessesUnder(_out));
    }

    [Theory]
    [InlineData("--faults", "clock", "is not a fault this runner injects")]
    [InlineData("--faults", "crashpoint", "crash-point, fsync-fail, flip, or none")]
    [InlineData("--faults", "partition", "needs --network netns")]
    [InlineData("--network", "docker", "is not loopback or netns")]
    [InlineData("--reads", "followers", "is not leader, home or mixed")]
    [InlineData("--nodes", "2", "majority")]
    [InlineData("--ops", "0", "--ops")]
    [InlineData("--fault-count", "500", "must be below --ops")]
    public async Task Bad_usage_exits_2_and_says_why(string option, string value, string reason)
    {
        CliResult result = await Cli.RunAsync("chaos", "--ops", "300", option, value, "--out", _out);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(reason, result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_out), "nothing is started or written on a usage error");
    }

    /// <summary>The ids of running processes whose command line names <paramref name="directory"/> (the nodes' --data); empty where /proc does not exist.</summary>
    internal static List<int> NodeProcessesUnder(string directory)
    {
        var found = new List<int>();
        if (!Directory.Exists("/proc"))
        {
            return found;
        }

        foreach (string entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out int pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                string commandLine = File.ReadAllText(Path.Combine(entry, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains(directory, StringComparison.Ordinal) && commandLine.Contains(" start ", StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
                // Not ours.
            }
        }

        return found;
    }
}

/// <summary>The chaos report's judgement from synthetic histories: the real checker decides, the exit code and files follow.</summary>
public sealed class ChaosReportTests : IDisposable
{
    private const string Key = "registers/r000";
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "strata-chaos-report-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_stale_read_after_an_acknowledged_write_is_reported_as_an_anomaly_with_the_checkers_explanation()
    {
        ChaosRun run = Run(
            Write(0, client: 0, value: 1, call: 10, ret: 20),
            Write(1, client: 1, value: 2, call: 30, ret: 40),
            Read(2, client: 2, value: 1, call: 50, ret: 60), // 2 was acknowledged before this read began
            Final(3, value: 2, call: 70, ret: 80));

        ChaosVerdict verdict = await ChaosReport.CheckAndWriteAsync(run, _folder, CancellationToken.None);

        Assert.Equal(ChaosReport.ExitAnomaly, verdict.ExitCode);
        Assert.Equal(ChaosVerdict.NotLinearizable, verdict.Verdict);
        Assert.Contains("not linearizable", verdict.Explanation, StringComparison.Ordinal);
        Assert.Contains("op 2: read -> 1", verdict.Explanation, StringComparison.Ordinal);
        string explanation = File.ReadAllText(Path.Combine(_folder, ChaosReport.ExplanationFile));
        Assert.Contains("seed 42", explanation, StringComparison.Ordinal);
        Assert.Contains(verdict.Explanation!, explanation, StringComparison.Ordinal);
        using JsonDocument result = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, ChaosReport.ResultFile)));
        Assert.Equal("not linearizable", result.RootElement.GetProperty("verdict").GetString());
        Assert.Equal(1, result.RootElement.GetProperty("exitCode").GetInt32());
        Assert.Contains("**not linearizable**", File.ReadAllText(Path.Combine(_folder, ChaosReport.SummaryFile)), StringComparison.Ordinal);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(_folder, ChaosReport.HistoryFile)).Length);
    }

    [Fact]
    public void A_write_whose_outcome_is_unknown_may_take_effect_late_and_is_counted_as_indeterminate()
    {
        ChaosRun run = Run(
            Write(0, client: 0, value: 1, call: 10, ret: 20),
            Write(1, client: 1, value: 2, call: 30, ret: null), // timed out: may land at any time after 30
            Read(2, client: 2, value: 1, call: 50, ret: 60),
            Read(3, client: 2, value: 2, call: 70, ret: 80),
            Read(4, client: 0, value: null, call: 85, ret: null) with { Error = "DeadlineExceeded: no answer" }, // a read without an answer constrains nothing
            Final(5, value: 2, call: 90, ret: 95));

        ChaosVerdict verdict = ChaosReport.Judge(run, _folder, CancellationToken.None);

        Assert.Equal(ChaosReport.ExitLinearizable, verdict.ExitCode);
        Assert.Null(verdict.Explanation);
        Assert.Equal(5, verdict.CheckedOperations); // the unanswered read is left out
        OutcomeCounts all = verdict.Counts[0];
        Assert.Equal((5, 3, 0, 2), (all.Total, all.Ok, all.Failed, all.Indeterminate));
        Assert.Equal(1, verdict.FinalReads.Ok);
        Assert.Equal(1, Assert.Single(verdict.ErrorsByKind, e => e.Key == "DeadlineExceeded").Value);
    }

    [Fact]
    public void A_cas_refused_while_the_register_held_its_expected_value_is_an_anomaly()
    {
        ChaosOperation refused = new()
        {
            Index = 1, Process = 1, Client = 1, Key = Key, Kind = CasRegisterOp.Cas, Value = 2, Expected = 1, ExpectedGeneration = 100,
            CallNanos = 30, ReturnNanos = 40, Outcome = ChaosOutcome.Failed, PreconditionFailed = true, Generation = 100,
        };
        ChaosRun run = Run(Write(0, client: 0, value: 1, call: 10, ret: 20), refused, Final(2, value: 1, call: 50, ret: 60));

        ChaosVerdict verdict = ChaosReport.Judge(run, _folder, CancellationToken.None);

        Assert.Equal(ChaosReport.ExitAnomaly, verdict.ExitCode);
        Assert.Contains("op 1: cas 1 -> 2 failed", verdict.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_linearizable_run_without_final_reads_is_undecided_and_a_crashed_node_is_a_problem()
    {
        ChaosRun noFinals = Run(Write(0, client: 0, value: 1, call: 10, ret: 20));
        ChaosRun crashed = Run(Write(0, client: 0, value: 1, call: 10, ret: 20), Final(1, value: 1, call: 30, ret: 40)) with
        {
            Faults = [new FaultEvent { Number = 0, Kind = "crash", Node = 2, ProcessId = 4242, StartNanos = 25, Note = "exited by itself with code 134" }],
        };

        ChaosVerdict incomplete = ChaosReport.Judge(noFinals, _folder, CancellationToken.None);
        ChaosVerdict crash = ChaosReport.Judge(crashed, _folder, CancellationToken.None);

        Assert.Equal((ChaosVerdict.Linearizable, ChaosReport.ExitUndecided), (incomplete.Verdict, incomplete.ExitCode));
        Assert.Contains("no final reads", Assert.Single(incomplete.Problems), StringComparison.Ordinal);
        Assert.Equal((ChaosVerdict.Linearizable, ChaosReport.ExitAnomaly), (crash.Verdict, crash.ExitCode));
        Assert.Contains("node 2 (pid 4242) exited by itself", Assert.Single(crash.Problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(CasRegisterOp.Read, StatusCode.NotFound, "Ok")]
    [InlineData(CasRegisterOp.Cas, StatusCode.FailedPrecondition, "Failed")]
    [InlineData(CasRegisterOp.Write, StatusCode.InvalidArgument, "Failed")]
    [InlineData(CasRegisterOp.Write, StatusCode.Unavailable, "Indeterminate")]
    [InlineData(CasRegisterOp.Cas, StatusCode.DeadlineExceeded, "Indeterminate")]
    [InlineData(CasRegisterOp.Write, StatusCode.Internal, "Indeterminate")]
    [InlineData(CasRegisterOp.Read, StatusCode.Unavailable, "Indeterminate")]
    public void Failed_calls_are_classified_by_what_they_prove(CasRegisterOp kind, StatusCode status, string outcome)
    {
        ChaosOutcome expected = Enum.Parse<ChaosOutcome>(outcome);
        var call = new ChaosOperation
        {
            Index = 0, Process = 0, Client = 0, Key = Key, Kind = kind, Value = kind == CasRegisterOp.Read ? null : 5,
            Expected = kind == CasRegisterOp.Cas ? 4 : null, ExpectedGeneration = kind == CasRegisterOp.Cas ? 9 : null,
            CallNanos = 100, Outcome = ChaosOutcome.Indeterminate,
        };

        ChaosOperation done = RegisterWorkload.Classify(call, new StrataException(new RpcException(new Status(status, "refused")), attempts: 1), answered: 200);

        Assert.Equal(expected, done.Outcome);
        Assert.Equal(expected == ChaosOutcome.Indeterminate ? null : 200L, done.ReturnNanos);
        Assert.Equal(kind == CasRegisterOp.Read && status == StatusCode.NotFound ? false : null, done.Found);
        Assert.Equal(kind == CasRegisterOp.Cas && status == StatusCode.FailedPrecondition ? true : null, done.PreconditionFailed);
    }

    [Fact]
    public void The_fault_plan_is_a_function_of_the_seed_and_takes_every_kind_once_per_round()
    {
        var options = new ChaosOptions { Operations = 5000, FaultCount = 10, Seed = 11 };

        IReadOnlyList<PlannedFault> plan = FaultPlan.Create(options);

        Assert.Equal(plan, FaultPlan.Create(options));
        Assert.NotEqual(plan, FaultPlan.Create(options with { Seed = 12 }));
        Assert.Equal(10, plan.Count);
        for (int round = 0; round < 5; round++)
        {
            Assert.Equal([FaultKind.Kill, FaultKind.Pause], plan.Skip(2 * round).Take(2).Select(f => f.Kind).Order());
        }

        Assert.Equal(plan.Select(f => f.AfterOperations).Order(), plan.Select(f => f.AfterOperations));
        Assert.All(plan, f => Assert.InRange(f.AfterOperations, 1, 4999));
        Assert.All(plan.Where(f => f.Kind == FaultKind.Pause), f => Assert.InRange(f.Duration, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3)));
        Assert.All(plan, f => Assert.InRange(f.NodeIndex, 0, options.Nodes - 1));
        Assert.Contains(plan, f => f.AtLeader);
        Assert.Contains(plan, f => !f.AtLeader);
    }

    [Fact]
    public void Crash_point_faults_arm_a_seeded_point_that_a_serving_node_reaches_and_leave_other_plans_as_they_were()
    {
        (_, PlannedFault[] armed) = HalfPlanOf(FaultKind.CrashPoint, FaultKind.Kill);
        ArmedCrashPoint[] points = [.. armed.Select(f => ArmedCrashPoint.Of(f.Salt))];
        Assert.Equal(points, armed.Select(f => ArmedCrashPoint.Of(f.Salt)));
        Assert.True(points.Select(p => p.Value).Distinct().Count() > 1, "every fault armed the same point");
        foreach (ArmedCrashPoint point in points)
        {
            // A point the node really has (a node with an unknown one refuses to start), in the form it parses.
            Assert.Contains(point.Point, Strata.Replication.CrashPoints.Names);
            Assert.Equal((point.Point, (long)point.Hit), Strata.Replication.CrashPoints.Parse(point.Environment[Strata.Replication.CrashPoints.Variable]));
            Assert.InRange(point.Hit, ArmedCrashPoint.MinHit, ArmedCrashPoint.MaxHit);
        }

        // Chaos runs make no snapshots (no --compaction-threshold): a point no node reaches would never fire.
        Assert.DoesNotContain("snapshot-install", ArmedCrashPoint.Points);
        Assert.All(armed, f => Assert.InRange(f.Duration, TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(10)));
        // Salts are drawn for crash points only: the kills of a plan without them are what they were.
        var kills = new ChaosOptions { Operations = 5000, FaultCount = 12, Seed = 11, Faults = [FaultKind.Kill, FaultKind.Pause] };
        Assert.All(FaultPlan.Create(kills), f => Assert.Equal(0, f.Salt));
    }

    [Fact]
    public void Failed_fsync_faults_arm_a_seeded_sync_past_the_opening_and_the_run_starts_its_nodes_under_the_power_loss_library()
    {
        (ChaosOptions options, PlannedFault[] armed) = HalfPlanOf(FaultKind.SyncFailure, FaultKind.Kill);
        ArmedSyncFailure[] syncs = [.. armed.Select(f => ArmedSyncFailure.Of(f.Salt))];
        Assert.True(syncs.Distinct().Count() > 1, "every fault armed the same sync");
        Assert.All(syncs, s => Assert.InRange(s.Sync, ArmedSyncFailure.MinSync, ArmedSyncFailure.MaxSync));
        Assert.All(syncs, s => Assert.Equal(s.Sync.ToString(CultureInfo.InvariantCulture), s.Environment["STRATA_POWERLOSS_FAIL_SYNC"]));
        Assert.All(armed, f => Assert.InRange(f.Duration, TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(10)));
        Assert.True(options.NeedsPowerLoss);
        Assert.False(new ChaosOptions { Faults = [FaultKind.Kill, FaultKind.CrashPoint] }.NeedsPowerLoss);
        Assert.Equal([FaultKind.SyncFailure], ChaosOptions.ParseFaults("fsync-fail"));
        Assert.Equal("fsync-fail", ChaosOptions.Name(FaultKind.SyncFailure));
    }

    [Fact]
    public void Bit_flips_are_seeded_watched_restarts_with_a_window_that_need_no_power_loss_library()
    {
        (ChaosOptions options, PlannedFault[] flips) = HalfPlanOf(FaultKind.BitFlip, FaultKind.Pause);
        Assert.True(flips.Select(f => f.Salt).Distinct().Count() == flips.Length, "two flips drew the same salt");
        Assert.All(flips, f => Assert.InRange(f.Duration, TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(10)));
        Assert.True(ChaosOptions.IsWatchedRestart(FaultKind.BitFlip));
        Assert.False(ChaosOptions.IsArmedDeath(FaultKind.BitFlip));
        Assert.False(options.NeedsPowerLoss);
        Assert.Equal([FaultKind.BitFlip], ChaosOptions.ParseFaults("flip"));
        Assert.Equal("flip", ChaosOptions.Name(FaultKind.BitFlip));
    }

    /// <summary>
    /// The seeded plan of 12 faults of <paramref name="kind"/> and <paramref name="other"/> over 5,000 operations, and its
    /// faults of <paramref name="kind"/>: the plan is a function of the seed, half of it of that kind.
    /// </summary>
    private static (ChaosOptions Options, PlannedFault[] OfKind) HalfPlanOf(FaultKind kind, FaultKind other)
    {
        var options = new ChaosOptions { Operations = 5000, FaultCount = 12, Seed = 11, Faults = [kind, other] };

        IReadOnlyList<PlannedFault> plan = FaultPlan.Create(options);

        Assert.Equal(plan, FaultPlan.Create(options));
        PlannedFault[] ofKind = [.. plan.Where(f => f.Kind == kind)];
        Assert.Equal(6, ofKind.Length);
        return (options, ofKind);
    }

    private static ChaosRun Run(params ChaosOperation[] history) => new()
    {
        Command = "strata chaos --seed 42 (synthetic)",
        Options = new ChaosOptions { Seed = 42, Keys = 1 },
        Bucket = "chaos",
        StartedUtc = DateTimeOffset.UnixEpoch,
        Seconds = 1,
        History = history,
        Plan = [],
        Faults = [],
    };

    private static ChaosOperation Write(int index, int client, long value, long call, long? ret) => new()
    {
        Index = index, Process = client, Client = client, Key = Key, Kind = CasRegisterOp.Write, Value = value, CallNanos = call, ReturnNanos = ret,
        Outcome = ret is null ? ChaosOutcome.Indeterminate : ChaosOutcome.Ok, Generation = ret is null ? null : (ulong)(1000 + index),
    };

    private static ChaosOperation Read(int index, int client, long? value, long call, long? ret) => new()
    {
        Index = index, Process = client, Client = client, Key = Key, Kind = CasRegisterOp.Read, CallNanos = call, ReturnNanos = ret,
        Outcome = ret is null ? ChaosOutcome.Indeterminate : ChaosOutcome.Ok, Found = ret is null ? null : value is not null, ReadValue = value,
    };

    private static ChaosOperation Final(int index, long value, long call, long ret) =>
        Read(index, client: -1, value, call, ret) with { Process = -1, Node = 1, Final = true };
}
