using System.Text.Json;
using Strata.Cli.Chaos;

namespace Strata.Cli.Tests;

/// <summary>
/// <c>strata chaos gate</c>: the release gate's figures from its record, and the lease figures kept from the runs'
/// reports (which stay on the machine that ran them).
/// </summary>
public sealed class ChaosGateTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("strata-gate-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string RecordOf(params string[] lines)
    {
        string path = Path.Combine(_dir, "runs.tsv");
        File.WriteAllLines(path, [GateRecord.Header, .. lines]);
        return path;
    }

    private static string Line(string mix, int seed, int exit, string report, int seconds = 120, string verdict = "linearizable", string commit = "523b79d") =>
        $"{mix}\t{seed}\t{exit}\t{verdict}\t{seconds}\t{report}\t{commit}\tmixed";

    /// <summary>A report folder holding just a <c>faults.json</c> of <paramref name="timeline"/> over a plan of one skew per entry with <paramref name="salts"/>.</summary>
    private string ReportWith(string name, int[] salts, params FaultEvent[] timeline)
    {
        string folder = Path.Combine(_dir, name);
        Directory.CreateDirectory(folder);
        PlannedFault[] plan = [.. salts.Select((salt, i) => new PlannedFault(i + 1, FaultKind.Skew, 100 * (i + 1), AtLeader: true, NodeIndex: 0, TimeSpan.FromSeconds(4), salt))];
        File.WriteAllText(Path.Combine(folder, ChaosReport.FaultsFile), JsonSerializer.Serialize(new { plan, timeline }, ChaosReport.Json));
        return folder;
    }

    private static FaultEvent SkewCut(int number, ulong node, ulong? leaderAtCut, bool? held, bool? quiesced = false) => new()
    {
        Number = number, Kind = "skew", Node = node, StartNanos = number * 1_000_000_000L, Sides = $"{node} | 2 3",
        LeaderAtCut = leaderAtCut, LeaderHeldLease = held, LeaderQuiesced = held is null ? null : quiesced,
    };

    private static int SaltWhere(Func<double, bool> rate) => Enumerable.Range(1, 1000).First(salt => rate(ClockSkew.Of(salt).Rate));

    [Fact]
    public async Task The_summary_counts_runs_per_mix_in_the_record_s_order_with_seed_ranges_and_names_every_run_not_clean()
    {
        string record = RecordOf(
            Line("kill-pause", 1, 0, "/gone/kill-pause/chaos-20261127T061615Z-seed1", seconds: 103),
            Line("flip", 1, 0, "/gone/flip/chaos-20261127T061800Z-seed1", seconds: 150),
            Line("kill-pause", 2, 0, "/gone/kill-pause/chaos-20261127T062000Z-seed2", seconds: 140),
            Line("kill-pause", 3, 0, "/gone/kill-pause/chaos-20261127T062300Z-seed3", seconds: 111),
            Line("kill-pause", 41, 0, "/gone/kill-pause/chaos-20261127T070000Z-seed41", seconds: 122),
            Line("flip", 2, 1, "/gone/flip/chaos-20261127T071000Z-seed2", seconds: 181, verdict: "not linearizable"),
            Line("namespace", 1, 0, "/gone/namespace/chaos-20261127T071100Z-seed1", seconds: 99));

        CliResult result = await Cli.RunAsync("chaos", "gate", "--record", record, "--leases", Path.Combine(_dir, "leases.tsv"));

        Assert.True(result.ExitCode == 0, result.ToString());
        result.AssertSectionsInOrder(
            "Built from 523b79d (7); reads: mixed 7; from 2026-11-27 06:16 to 2026-11-27 07:13 UTC.",
            "| kill-pause | 4 | 4 of 4 | 1–3, 41 | 103–140 s |",
            "| flip | 2 | 1 of 2 | 1–2 | 150–181 s |",
            "| namespace | 1 | 1 of 1 | 1 | 99 s |",
            "**7 histories, 6 clean, 1 not clean.**",
            "- not clean: flip seed 2: exit 1, not linearizable (/gone/flip/chaos-20261127T071000Z-seed2)",
            "No lease figures: no run's report was read.");
        Assert.False(File.Exists(Path.Combine(_dir, "leases.tsv")), "nothing to keep: no file written");
    }

    [Fact]
    public async Task A_superseded_record_holds_a_mix_and_seed_once_per_commit()
    {
        string record = RecordOf(Line("flip", 3, 0, "/gone/flip/chaos-20261127T061615Z-seed3"), Line("flip", 3, 0, "/gone/flip/chaos-20261127T111500Z-seed3", commit: "bd09e6e"));

        CliResult result = await Cli.RunAsync("chaos", "gate", "--record", record);

        Assert.True(result.ExitCode == 0, result.ToString());
        result.AssertSectionsInOrder("Built from 523b79d (1), bd09e6e (1)", "| flip | 2 | 2 of 2 | 3 |");
    }

    [Fact]
    public async Task A_record_of_one_run_says_history_and_its_one_wall_time()
    {
        CliResult result = await Cli.RunAsync("chaos", "gate", "--record", RecordOf(Line("kill-pause", 3, 0, "/gone/kill-pause/chaos-20261127T061615Z-seed3", seconds: 80)));

        Assert.True(result.ExitCode == 0, result.ToString());
        result.AssertSectionsInOrder("| kill-pause | 1 | 1 of 1 | 3 | 80 s |", "**1 history, 1 clean, 0 not clean.**");
    }

    [Fact]
    public async Task Lease_figures_are_read_from_the_reports_kept_in_the_leases_file_and_outlive_the_reports()
    {
        int slow = SaltWhere(r => r < 1), fast = SaltWhere(r => r > 1), slow2 = Enumerable.Range(slow + 1, 1000).First(s => ClockSkew.Of(s).Rate < 1);
        string skewed = ReportWith("skew-netns/chaos-20261127T080000Z-seed7", [slow, fast, slow2, slow],
            SkewCut(1, node: 1, leaderAtCut: 1, held: false),         // slowed, still leading, awake, no lease: as it must be
            SkewCut(2, node: 2, leaderAtCut: 2, held: true),          // sped up, still leading, holding its lease: safe
            SkewCut(3, node: 3, leaderAtCut: 1, held: null),          // another node led by the cut: not a cut-off leader
            SkewCut(4, node: 1, leaderAtCut: 1, held: false, quiesced: true)); // quiesced: asleep, not counted as awake
        string killed = ReportWith("kill-pause/chaos-20261127T080300Z-seed7", [],
            new FaultEvent { Number = 1, Kind = "kill", Node = 1, StartNanos = 1, LeaderHeldLease = true, LeaderQuiesced = false },
            new FaultEvent { Number = 2, Kind = "pause", Node = 2, StartNanos = 2, LeaderHeldLease = false, LeaderQuiesced = true },
            new FaultEvent { Number = 3, Kind = "kill", Node = 3, StartNanos = 3 });
        string record = RecordOf(Line("kill-pause", 7, 0, killed), Line("skew-netns", 7, 0, skewed), Line("flip", 7, 0, "/gone/flip/chaos-20261127T080600Z-seed7"));
        string leases = Path.Combine(_dir, "runs-leases.tsv"); // beside the record by default

        CliResult first = await Cli.RunAsync("chaos", "gate", "--record", record);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("lease figures of 2 runs added", first.Error, StringComparison.Ordinal);
        string[] kept = File.ReadAllLines(leases);
        Assert.Equal(GateLeases.Header, kept[0]);
        Assert.Equal($"kill-pause\t7\t523b79d\t2\t1\t1\t0\t0\t0\t0\t-\t-", kept[1]);
        string slowRate = ClockSkew.Of(slow).Rate.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
        string fastRate = ClockSkew.Of(fast).Rate.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal($"skew-netns\t7\t523b79d\t3\t1\t1\t1\t0\t1\t1\t{slowRate}-{slowRate}\t{fastRate}-{fastRate}", kept[2]);
        string figures = $"Lease figures of 2 of the 3 runs (those whose reports were read): 5 faults hit the bucket shard's leader, 2 while it held its lease (2 found it quiesced). " +
            $"Skewed leaders cut off while leading, awake: 1 after a slow-down ({slowRate}–{slowRate}×), 0 of them holding a lease; 1 after a speed-up ({fastRate}–{fastRate}×), 1 holding one.";
        Assert.Contains(figures, first.Out, StringComparison.Ordinal);

        Directory.Delete(Path.Combine(_dir, "skew-netns"), recursive: true);
        Directory.Delete(Path.Combine(_dir, "kill-pause"), recursive: true);
        CliResult again = await Cli.RunAsync("chaos", "gate", "--record", record, "--leases", leases);

        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("lease figures of 0 runs added", again.Error, StringComparison.Ordinal);
        Assert.Equal(kept, File.ReadAllLines(leases));
        Assert.Contains(figures, again.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("kill-pause\t1\t0\tlinearizable\t120\t/r\t523b79d", "runs.tsv:3: 7 columns, expected 8")]
    [InlineData("kill-pause\tone\t0\tlinearizable\t120\t/r\t523b79d\tmixed", "runs.tsv:3: seed 'one' is not a whole number")]
    [InlineData("kill-pause\t1\t0\tlinearizable\t-5\t/r\t523b79d\tmixed", "runs.tsv:3: seconds '-5' is not a whole number")]
    public async Task A_malformed_record_line_is_a_usage_error_naming_the_line_and_writes_nothing(string line, string message)
    {
        string report = ReportWith("kill-pause/chaos-20261127T080300Z-seed1", [], new FaultEvent { Number = 1, Kind = "kill", Node = 1, StartNanos = 1, LeaderHeldLease = true });
        string record = RecordOf(Line("kill-pause", 2, 0, report), line);
        string leases = Path.Combine(_dir, "leases.tsv");

        CliResult result = await Cli.RunAsync("chaos", "gate", "--record", record, "--leases", leases);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
        Assert.False(File.Exists(leases));
    }

    [Fact]
    public async Task A_run_recorded_twice_a_missing_header_a_missing_record_and_a_malformed_leases_file_are_usage_errors()
    {
        string twice = RecordOf(Line("flip", 3, 0, "/r1"), Line("flip", 3, 0, "/r2"));
        CliResult duplicate = await Cli.RunAsync("chaos", "gate", "--record", twice, "--leases", Path.Combine(_dir, "l.tsv"));
        Assert.Equal(2, duplicate.ExitCode);
        Assert.Contains("runs.tsv:3: flip seed 3 at 523b79d is recorded twice", duplicate.Error, StringComparison.Ordinal);

        string headless = Path.Combine(_dir, "headless.tsv");
        File.WriteAllLines(headless, [Line("flip", 3, 0, "/r1")]);
        CliResult noHeader = await Cli.RunAsync("chaos", "gate", "--record", headless, "--leases", Path.Combine(_dir, "l.tsv"));
        Assert.Equal(2, noHeader.ExitCode);
        Assert.Contains("headless.tsv: the first line must be the header", noHeader.Error, StringComparison.Ordinal);

        CliResult missing = await Cli.RunAsync("chaos", "gate", "--record", Path.Combine(_dir, "absent.tsv"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("absent.tsv", missing.Error, StringComparison.Ordinal);

        string leases = Path.Combine(_dir, "bad-leases.tsv");
        File.WriteAllLines(leases, [GateLeases.Header, "flip\t3\t523b79d\t1\t1\t0\t0\t0\t0\t0\t0.5-0.2\t-"]);
        CliResult badLeases = await Cli.RunAsync("chaos", "gate", "--record", RecordOf(Line("flip", 3, 0, "/r1")), "--leases", leases);
        Assert.Equal(2, badLeases.ExitCode);
        Assert.Contains("bad-leases.tsv:2: rates '0.5-0.2' are not 'min-max' or '-'", badLeases.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new int[0], "")]
    [InlineData(new[] { 5 }, "5")]
    [InlineData(new[] { 3, 1, 2, 2, 41, 5, 42 }, "1–3, 5, 41–42")]
    public void Seeds_are_written_as_ranges(int[] seeds, string expected) => Assert.Equal(expected, GateSummary.Ranges(seeds));
}
