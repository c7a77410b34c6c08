using System.Text.Json;
using Grpc.Core;
using Strata.Cli.Chaos;
using Strata.Client;
using Strata.Linearizability.Models;

namespace Strata.Cli.Tests;

/// <summary>
/// The namespace invariants over hand-built histories and final states: a consistent run passes with every invariant
/// evaluated, and each kind of violation is reported as exactly that invariant, with an explanation naming what broke.
/// </summary>
public sealed class NamespaceInvariantsTests : IDisposable
{
    private static readonly NamespaceDirectory Root = new("tree", "tree", 1, 10);
    private static readonly NamespaceDirectory D0 = new("d0", "tree/d0", 100, 11);
    private static readonly NamespaceDirectory D1 = new("d1", "tree/d1", 101, 12);
    private static readonly NamespaceDirectory D2 = new("d2", "tree/d2", 102, 13);

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "strata-ns-report-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void A_consistent_run_breaks_no_invariant_and_evaluates_every_one()
    {
        NamespaceVerdict verdict = NamespaceInvariants.Check(Consistent());

        Assert.Empty(verdict.Violations);
        Assert.True(verdict.Evaluated);
        Assert.Equal(NamespaceInvariants.All, verdict.Invariants.Select(i => i.Invariant));
        Assert.All(verdict.Invariants, i => Assert.True(i.Checked > 0, $"{i.Invariant} checked nothing"));
        Assert.Equal((2, 1, 1), (verdict.AcknowledgedCreates, verdict.IndeterminateCreatesFound, verdict.IndeterminateCreatesAbsent));
        Assert.Equal((3, 3, 6), (verdict.ObjectsFound, verdict.DirectoriesFound, verdict.EntriesListed));
        Assert.Equal((1, 1), (verdict.RenamesApplied, verdict.RenamesRefusedIntoOwnSubtree));
        Assert.Equal(["tree/d0 (d0)", "tree/d0/d1 (d1)", "tree/d2 (d2)"], verdict.FinalTree);
        Assert.Equal([8, 5, 2, 1], verdict.Counts.Select(c => c.Total));
    }

    [Fact]
    public void An_acknowledged_create_missing_at_the_end_is_a_lost_create()
    {
        NamespaceRun run = Consistent().WithFinal(entries => entries.Where(e => e.Path != "tree/d0/k0"));

        NamespaceViolation lost = Assert.Single(NamespaceInvariants.Check(run).Violations);

        Assert.Equal(NamespaceInvariants.CreatesKept, lost.Invariant);
        Assert.Contains("op 0 (client 0, create of 'k0' in d0", lost.Explanation, StringComparison.Ordinal);
        Assert.Contains("its object is gone", lost.Explanation, StringComparison.Ordinal);
        Assert.Contains("nothing is at 'tree/d0/k0'", lost.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void An_acknowledged_object_not_where_its_directory_moved_is_misplaced()
    {
        // d1 moved under d0, so op 3's object belongs at tree/d0/d1/n1-3; here it stayed at d1's first path.
        NamespaceRun run = Consistent().WithFinal(entries => entries.Select(e => e.Path == "tree/d0/d1/n1-3" ? e with { Path = "tree/d0/n1-3" } : e));

        NamespaceViolation misplaced = Assert.Single(NamespaceInvariants.Check(run).Violations);

        Assert.Equal(NamespaceInvariants.CreatesKept, misplaced.Invariant);
        Assert.Contains("'tree/d0/n1-3' of op 3", misplaced.Explanation, StringComparison.Ordinal);
        Assert.Contains("belongs at 'tree/d0/d1/n1-3'", misplaced.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_path_listed_twice_is_a_duplicate()
    {
        NamespaceRun run = Consistent();
        NamespaceEntry k2 = run.Final!.Listing.Single(e => e.Path == "tree/d2/k2");
        run = run with { Final = run.Final with { Listing = [.. run.Final.Listing, k2] } };

        NamespaceViolation duplicate = Assert.Single(NamespaceInvariants.Check(run).Violations);

        Assert.Equal(NamespaceInvariants.NoDuplicates, duplicate.Invariant);
        Assert.Contains("the recursive listing returned 'tree/d2/k2' 2 times", duplicate.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void One_create_found_at_two_places_is_a_duplicate()
    {
        // The same object (op 0's mark and generation) under d0 and under d2: a copy, not a move.
        NamespaceRun run = Consistent();
        NamespaceEntry copy = run.Final!.Listing.Single(e => e.Path == "tree/d0/k0") with { Path = "tree/d2/k0" };
        run = run.WithFinal(entries => entries.Append(copy));

        NamespaceViolation[] violations = [.. NamespaceInvariants.Check(run).Violations];

        // The copy is also out of place for op 0 (its directory d0 is at tree/d0).
        Assert.Equal([NamespaceInvariants.CreatesKept, NamespaceInvariants.NoDuplicates, NamespaceInvariants.NoDuplicates], violations.Select(v => v.Invariant));
        Assert.Contains(violations, v => v.Explanation.Contains("the object of op 0", StringComparison.Ordinal) && v.Explanation.Contains("at 2 places", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Explanation.Contains("generation 1000 is at 2 places", StringComparison.Ordinal));
    }

    [Fact]
    public void A_directory_no_listing_reaches_is_orphaned()
    {
        NamespaceRun run = Consistent().WithFinal(entries => entries.Where(e => !e.Path.StartsWith("tree/d2", StringComparison.Ordinal)));

        NamespaceVerdict verdict = NamespaceInvariants.Check(run);

        NamespaceViolation orphan = Assert.Single(verdict.Violations);
        Assert.Equal(NamespaceInvariants.Reachable, orphan.Invariant);
        Assert.Contains("directory d2 (id 102", orphan.Explanation, StringComparison.Ordinal);
        Assert.Contains("orphaned", orphan.Explanation, StringComparison.Ordinal);
        Assert.Equal((0, 2), (verdict.IndeterminateCreatesFound, verdict.IndeterminateCreatesAbsent)); // d2's indeterminate k2 cannot be found
    }

    [Fact]
    public void A_directory_on_its_own_path_is_a_cycle()
    {
        // A listing that walks d0 -> d1 -> d0 again: d0 is its own ancestor (and, in a listing, at two places).
        NamespaceRun run = Consistent();
        NamespaceEntry d0 = run.Final!.Listing.Single(e => e.Path == "tree/d0");
        run = run.WithFinal(entries => entries.Append(d0 with { Path = "tree/d0/d1/d0" }));

        NamespaceViolation[] violations = [.. NamespaceInvariants.Check(run).Violations];

        Assert.Equal([NamespaceInvariants.NoDuplicates, NamespaceInvariants.NoCycles], violations.Select(v => v.Invariant));
        NamespaceViolation cycle = violations[1];
        Assert.Contains("directory d0 (id 100) is its own ancestor on 'tree/d0/d1/d0'", cycle.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_listed_entry_whose_parent_is_not_listed_is_unreachable()
    {
        NamespaceRun run = Consistent().WithFinal(entries => entries.Where(e => e.Path != "tree/d0/d1"), keepStatsOf: "tree/d0/d1");

        NamespaceViolation[] violations = [.. NamespaceInvariants.Check(run).Violations];

        Assert.All(violations, v => Assert.Equal(NamespaceInvariants.Reachable, v.Invariant));
        Assert.Contains(violations, v => v.Explanation.Contains("directory d1 (id 101", StringComparison.Ordinal) && v.Explanation.Contains("orphaned", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Explanation.Contains("'tree/d0/d1/n1-3' is listed, but its ancestor 'tree/d0/d1' is not listed", StringComparison.Ordinal));
    }

    [Fact]
    public void A_listed_entry_a_stat_answers_differently_is_a_listing_stat_disagreement()
    {
        NamespaceRun run = Consistent();
        NamespaceEntry k0 = run.Final!.Stats["tree/d0/k0"]!;
        var stats = new Dictionary<string, NamespaceEntry?>(run.Final.Stats, StringComparer.Ordinal) { ["tree/d0/k0"] = k0 with { Metageneration = 2 } };
        run = run with { Final = run.Final with { Stats = stats } };

        NamespaceViolation disagreement = Assert.Single(NamespaceInvariants.Check(run).Violations);

        Assert.Equal(NamespaceInvariants.ListingsMatchStats, disagreement.Invariant);
        Assert.Contains("'tree/d0/k0' was listed as object generation 1000, metageneration 1", disagreement.Explanation, StringComparison.Ordinal);
        Assert.Contains("a stat of it returns object generation 1000, metageneration 2", disagreement.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_listed_entry_a_stat_does_not_find_or_the_walk_does_not_return_disagrees()
    {
        NamespaceRun run = Consistent();
        var stats = new Dictionary<string, NamespaceEntry?>(run.Final!.Stats, StringComparer.Ordinal) { ["tree/d2/k2"] = null };
        run = run with { Final = run.Final with { Stats = stats, Walk = [.. run.Final.Walk.Where(e => e.Path != "tree/d0/k0")] } };

        NamespaceViolation[] violations = [.. NamespaceInvariants.Check(run).Violations];

        Assert.Equal([NamespaceInvariants.ListingsMatchStats, NamespaceInvariants.ListingsMatchStats], violations.Select(v => v.Invariant));
        Assert.Contains(violations, v => v.Explanation.Contains("'tree/d0/k0' was returned by the recursive paged listing", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Explanation.Contains("'tree/d2/k2' was listed", StringComparison.Ordinal) && v.Explanation.Contains("NOT_FOUND", StringComparison.Ordinal));
    }

    [Fact]
    public void Two_acknowledged_creates_of_one_name_break_create_only()
    {
        // Op 1 (same name, same directory) acknowledged too: one of the two objects cannot be there.
        NamespaceRun run = Consistent().WithOperation(1, o => o with { Outcome = ChaosOutcome.Ok, Refusal = null, Error = null, Generation = 1001 });

        NamespaceViolation[] violations = [.. NamespaceInvariants.Check(run).Violations];

        Assert.Equal([NamespaceInvariants.CreatesKept, NamespaceInvariants.CreateOnly], violations.Select(v => v.Invariant));
        Assert.Contains("'k0' in d0 was created 2 times with if-generation-match 0, each acknowledged", violations[1].Explanation, StringComparison.Ordinal);
        Assert.Contains("'tree/d0/k0' holds the object of op 0", violations[0].Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_create_refused_as_existing_before_anyone_created_the_name_breaks_create_only()
    {
        NamespaceRun run = Consistent().WithOperation(1, o => o with { CallNanos = 2, ReturnNanos = 5 });

        NamespaceViolation refused = Assert.Single(NamespaceInvariants.Check(run).Violations);

        Assert.Equal(NamespaceInvariants.CreateOnly, refused.Invariant);
        Assert.Contains("op 1", refused.Explanation, StringComparison.Ordinal);
        Assert.Contains("no other create of 'k0' in d0 that could have taken effect was called before that answer at 5 ns", refused.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void An_object_no_create_made_or_a_refused_create_made_is_a_phantom()
    {
        NamespaceRun run = Consistent();
        NamespaceEntry stray = new("tree/d2/zz", false, 5000, 1, 0, 1, "x", null, null);
        NamespaceEntry refused = new("tree/d0/k9", false, 5001, 1, 0, 2, "op1", "1", "d0");
        run = run.WithFinal(entries => entries.Append(stray).Append(refused));

        NamespaceViolation[] violations = [.. NamespaceInvariants.Check(run).Violations];

        Assert.Equal([NamespaceInvariants.NoPhantoms, NamespaceInvariants.NoPhantoms], violations.Select(v => v.Invariant));
        Assert.Contains(violations, v => v.Explanation.Contains("'tree/d2/zz'", StringComparison.Ordinal) && v.Explanation.Contains("made by no create", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Explanation.Contains("'tree/d0/k9' was made by op 1", StringComparison.Ordinal) && v.Explanation.Contains("which was refused (exists", StringComparison.Ordinal));
    }

    [Fact]
    public void A_directory_the_workload_never_made_is_a_phantom()
    {
        NamespaceRun run = Consistent().WithFinal(entries => entries.Append(new NamespaceEntry("tree/d5", true, 7000, 1, 555, 0, "", null, null)));

        NamespaceViolation phantom = Assert.Single(NamespaceInvariants.Check(run).Violations);

        Assert.Equal(NamespaceInvariants.NoPhantoms, phantom.Invariant);
        Assert.Contains("'tree/d5'", phantom.Explanation, StringComparison.Ordinal);
        Assert.Contains("never made", phantom.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void An_acknowledged_rename_into_the_own_subtree_breaks_renames_respected()
    {
        // Op 4 moved d0 under its own child d1 and was acknowledged: the check on the history alone catches it.
        NamespaceRun run = Consistent().WithOperation(4, o => o with { Outcome = ChaosOutcome.Ok, Refusal = null, Error = null });

        NamespaceViolation[] violations = [.. NamespaceInvariants.Check(run).Violations];

        Assert.All(violations, v => Assert.Equal(NamespaceInvariants.RenamesRespected, v.Invariant));
        Assert.Contains(violations, v => v.Explanation.Contains("op 4", StringComparison.Ordinal) && v.Explanation.Contains("became its own ancestor", StringComparison.Ordinal));
    }

    [Fact]
    public void A_directory_under_a_parent_no_rename_gave_it_breaks_renames_respected()
    {
        // d2 was never renamed but ends under d1 (its objects moved with it, so nothing else is wrong).
        NamespaceRun run = Consistent().WithFinal(entries => entries.Select(e =>
            e.Path.StartsWith("tree/d2", StringComparison.Ordinal) ? e with { Path = "tree/d0/d1/d2" + e.Path["tree/d2".Length..] } : e));

        NamespaceViolation moved = Assert.Single(NamespaceInvariants.Check(run).Violations);

        Assert.Equal(NamespaceInvariants.RenamesRespected, moved.Invariant);
        Assert.Contains("d2 ends under d1 ('tree/d0/d1/d2')", moved.Explanation, StringComparison.Ordinal);
        Assert.Contains("possible final parents: tree", moved.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_under_the_target_of_a_rename_without_answer_is_allowed()
    {
        // As in the test above, but a rename of d2 under d1 got no answer: it may have taken effect.
        NamespaceRun run = Consistent()
            .WithFinal(entries => entries.Select(e =>
                e.Path.StartsWith("tree/d2", StringComparison.Ordinal) ? e with { Path = "tree/d0/d1/d2" + e.Path["tree/d2".Length..] } : e));
        run = run with { Operations = [.. run.Operations, Rename(8, "d2", "d1", "tree/d2", "tree/d0/d1/d2", 120, null, ChaosOutcome.Indeterminate)] };

        Assert.Empty(NamespaceInvariants.Check(run).Violations);
    }

    [Fact]
    public void A_directory_left_where_a_superseded_rename_put_it_breaks_renames_respected()
    {
        // d1 was moved under d0 (op 2, answered at 40), then back under tree by op 8, called after that answer: it cannot end under d0.
        NamespaceRun run = Consistent();
        run = run with { Operations = [.. run.Operations, Rename(8, "d1", "tree", "tree/d0/d1", "tree/d1", 200, 210, ChaosOutcome.Ok)] };

        NamespaceViolation stale = Assert.Single(NamespaceInvariants.Check(run).Violations);

        Assert.Equal(NamespaceInvariants.RenamesRespected, stale.Invariant);
        Assert.Contains("d1 ends under d0 ('tree/d0/d1')", stale.Explanation, StringComparison.Ordinal);
        Assert.Contains("possible final parents: tree", stale.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rename_refused_as_into_its_own_subtree_when_it_was_not_breaks_renames_respected()
    {
        NamespaceRun run = Consistent().WithOperation(4, o => o with { IntoOwnSubtree = false, Destination = "tree/d2/d0", Parent = "d2" });

        NamespaceViolation refused = Assert.Single(NamespaceInvariants.Check(run).Violations);

        Assert.Equal(NamespaceInvariants.RenamesRespected, refused.Invariant);
        Assert.Contains("is not inside the source 'tree/d0'", refused.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_final_state_only_the_history_is_checked_and_the_run_is_incomplete()
    {
        NamespaceRun run = Consistent() with { Final = null };

        NamespaceVerdict verdict = NamespaceInvariants.Check(run);
        ChaosVerdict judged = ChaosReport.Judge(Chaos(run, Register()), _folder, CancellationToken.None);

        Assert.False(verdict.Evaluated);
        Assert.Empty(verdict.Violations);
        Assert.Equal(ChaosReport.ExitUndecided, judged.ExitCode);
        Assert.Contains(judged.Problems, p => p.Contains("final state of the namespace was not read", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_violated_invariant_makes_the_run_an_anomaly_and_the_report_says_which()
    {
        NamespaceRun run = Consistent().WithFinal(entries => entries.Where(e => e.Path != "tree/d0/k0"));

        ChaosVerdict verdict = await ChaosReport.CheckAndWriteAsync(Chaos(run, Register()), _folder, CancellationToken.None);

        Assert.Equal((ChaosVerdict.InvariantsViolated, ChaosReport.ExitAnomaly), (verdict.Verdict, verdict.ExitCode));
        using JsonDocument result = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, ChaosReport.ResultFile)));
        Assert.Equal("namespace invariants violated", result.RootElement.GetProperty("verdict").GetString());
        Assert.Equal("namespace", result.RootElement.GetProperty("workload").GetString());
        JsonElement violation = Assert.Single(result.RootElement.GetProperty("namespace").GetProperty("violations").EnumerateArray());
        Assert.Equal(NamespaceInvariants.CreatesKept, violation.GetProperty("invariant").GetString());
        string summary = File.ReadAllText(Path.Combine(_folder, ChaosReport.SummaryFile));
        Assert.Contains("## Namespace", summary, StringComparison.Ordinal);
        Assert.Contains("| acknowledged-creates-kept | 2 | 1 |", summary, StringComparison.Ordinal);
        Assert.Contains("- acknowledged-creates-kept: op 0", summary, StringComparison.Ordinal);
        Assert.Equal(8, File.ReadAllLines(Path.Combine(_folder, NamespaceReport.HistoryFile)).Length);
    }

    [Fact]
    public void Non_linearizable_conditional_metadata_updates_are_an_anomaly_even_when_the_namespace_holds()
    {
        // A cas (conditional patch) acknowledged, then a read that still sees the value before it.
        ChaosOperation[] registers =
        [
            RegisterOp(0, CasRegisterOp.Write, value: 1, call: 10, ret: 20),
            RegisterOp(1, CasRegisterOp.Cas, value: 2, call: 30, ret: 40) with { Expected = 1, ExpectedGeneration = 1000, ExpectedMetageneration = 1 },
            RegisterOp(2, CasRegisterOp.Read, value: 1, call: 50, ret: 60),
            RegisterOp(3, CasRegisterOp.Read, value: 2, call: 70, ret: 80) with { Final = true, Client = -1, Process = -1, Node = 1 },
        ];

        ChaosVerdict verdict = ChaosReport.Judge(Chaos(Consistent(), registers), _folder, CancellationToken.None);

        Assert.Equal((ChaosVerdict.NotLinearizable, ChaosReport.ExitAnomaly), (verdict.Verdict, verdict.ExitCode));
        Assert.Contains("op 2: read -> 1", verdict.Explanation, StringComparison.Ordinal);
        Assert.Empty(verdict.Namespace!.Violations);
    }

    [Fact]
    public void A_consistent_namespace_run_with_linearizable_registers_exits_0()
    {
        ChaosVerdict verdict = ChaosReport.Judge(Chaos(Consistent(), Register()), _folder, CancellationToken.None);

        Assert.Equal((ChaosVerdict.Linearizable, ChaosReport.ExitLinearizable), (verdict.Verdict, verdict.ExitCode));
        Assert.Empty(verdict.Problems);
        Assert.NotNull(verdict.Namespace);
    }

    [Theory]
    [InlineData("Create", StatusCode.FailedPrecondition, 0, "Failed", NamespaceRefusal.Moved)]
    [InlineData("Create", StatusCode.FailedPrecondition, 1, "Failed", NamespaceRefusal.Exists)]
    [InlineData("Rename", StatusCode.FailedPrecondition, 1, "Failed", NamespaceRefusal.Moved)]
    [InlineData("Rename", StatusCode.InvalidArgument, -1, "Failed", NamespaceRefusal.OwnSubtree)]
    [InlineData("Rename", StatusCode.NotFound, -1, "Failed", NamespaceRefusal.NotFound)]
    [InlineData("Create", StatusCode.Unavailable, -1, "Indeterminate", null)]
    [InlineData("Rename", StatusCode.DeadlineExceeded, -1, "Indeterminate", null)]
    public void Failed_namespace_calls_are_classified_by_what_they_prove(string action, StatusCode status, int failedOperation, string outcome, string? refusal)
    {
        var trailers = new Metadata();
        if (failedOperation >= 0)
        {
            trailers.Add("strata-failed-operation", failedOperation.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var call = new NamespaceOperation
        {
            Index = 0, Process = 0, Client = 0, Action = Enum.Parse<NamespaceAction>(action), Directory = "d0", CallNanos = 100, Outcome = ChaosOutcome.Indeterminate,
        };
        string detail = status == StatusCode.InvalidArgument ? "cannot move directory 'tree/d0' into its own subtree ('tree/d0/d1/d0')" : "refused";

        NamespaceOperation done = NamespaceWorkload.Classify(call, new StrataException(new RpcException(new Status(status, detail), trailers), attempts: 1), answered: 200);

        Assert.Equal(Enum.Parse<ChaosOutcome>(outcome), done.Outcome);
        Assert.Equal(refusal, done.Refusal);
        Assert.Equal(done.Outcome == ChaosOutcome.Indeterminate ? null : 200L, done.ReturnNanos);
    }

    /// <summary>
    /// d0, d1, d2 under tree; d1 moved under d0 (op 2); op 0 created d0/k0, op 1's create of the same name refused,
    /// op 3 created n1-3 in d1 after the move, op 4's move of d0 under its own child refused, op 5 and op 6 without
    /// answer (6 took effect), op 7 a listing.
    /// </summary>
    private static NamespaceRun Consistent()
    {
        NamespaceOperation[] operations =
        [
            Create(0, "d0", "k0", "tree/d0/k0", 10, 20, ChaosOutcome.Ok) with { Generation = 1000 },
            Create(1, "d0", "k0", "tree/d0/k0", 15, 25, ChaosOutcome.Failed) with
            {
                Refusal = NamespaceRefusal.Exists, Error = "FailedPrecondition: precondition failed", Generation = 1000,
            },
            Rename(2, "d1", "d0", "tree/d1", "tree/d0/d1", 30, 40, ChaosOutcome.Ok),
            Create(3, "d1", "n1-3", "tree/d0/d1/n1-3", 50, 60, ChaosOutcome.Ok) with { Generation = 1003 },
            Rename(4, "d0", "d1", "tree/d0", "tree/d0/d1/d0", 70, 80, ChaosOutcome.Failed) with
            {
                Refusal = NamespaceRefusal.OwnSubtree, Error = "InvalidArgument: cannot move directory 'tree/d0' into its own subtree",
            },
            Create(5, "d2", "k1", "tree/d2/k1", 90, null, ChaosOutcome.Indeterminate),
            Create(6, "d2", "k2", "tree/d2/k2", 95, null, ChaosOutcome.Indeterminate),
            new NamespaceOperation
            {
                Index = 7, Process = 1, Client = 1, Action = NamespaceAction.List, Directory = "tree", Path = "tree", CallNanos = 100, ReturnNanos = 110,
                Outcome = ChaosOutcome.Ok, Children = ["d0", "d2"],
            },
        ];
        NamespaceEntry[] entries =
        [
            new("tree/d0", true, 11, 1, 100, 0, "", null, null),
            new("tree/d0/d1", true, 12, 2, 101, 0, "", null, null),
            new("tree/d0/d1/n1-3", false, 1003, 1, 0, 4, "op3", "3", "d1"),
            new("tree/d0/k0", false, 1000, 1, 0, 1, "op0", "0", "d0"),
            new("tree/d2", true, 13, 1, 102, 0, "", null, null),
            new("tree/d2/k2", false, 1006, 1, 0, 7, "op6", "6", "d2"),
        ];
        return new NamespaceRun { Root = Root, Directories = [D0, D1, D2], Operations = operations }.WithFinal(_ => entries);
    }

    private static NamespaceOperation Create(int index, string directory, string name, string path, long call, long? ret, ChaosOutcome outcome) => new()
    {
        Index = index, Process = index % 3, Client = index % 3, Action = NamespaceAction.Create, Directory = directory, Name = name, Path = path,
        CallNanos = call, ReturnNanos = ret, Outcome = outcome,
    };

    private static NamespaceOperation Rename(int index, string directory, string parent, string source, string destination, long call, long? ret, ChaosOutcome outcome) => new()
    {
        Index = index, Process = index % 3, Client = index % 3, Action = NamespaceAction.Rename, Directory = directory, Parent = parent, Source = source,
        Destination = destination, IntoOwnSubtree = destination.StartsWith(source + "/", StringComparison.Ordinal), CallNanos = call, ReturnNanos = ret, Outcome = outcome,
    };

    private static ChaosOperation[] Register() =>
    [
        RegisterOp(0, CasRegisterOp.Write, value: 1, call: 10, ret: 20),
        RegisterOp(1, CasRegisterOp.Read, value: 1, call: 30, ret: 40) with { Final = true, Client = -1, Process = -1, Node = 1 },
    ];

    private static ChaosOperation RegisterOp(int index, CasRegisterOp kind, long value, long call, long ret) => new()
    {
        Index = index, Process = index, Client = index, Key = NamespaceWorkload.RegisterKey(0), Kind = kind,
        Value = kind == CasRegisterOp.Read ? null : value, ReadValue = kind == CasRegisterOp.Read ? value : null, Found = kind == CasRegisterOp.Read ? true : null,
        CallNanos = call, ReturnNanos = ret, Outcome = ChaosOutcome.Ok, Generation = 1000, Metageneration = (ulong)value,
    };

    private static ChaosRun Chaos(NamespaceRun run, ChaosOperation[] registers) => new()
    {
        Command = "strata chaos --workload namespace --seed 42 (synthetic)",
        Options = new ChaosOptions { Seed = 42, Keys = 1, Workload = ChaosWorkload.Namespace },
        Bucket = "chaos",
        StartedUtc = DateTimeOffset.UnixEpoch,
        Seconds = 1,
        History = registers,
        Plan = [],
        Faults = [],
        Namespace = run,
    };
}

/// <summary>Builders for hand-made namespace runs.</summary>
internal static class NamespaceRunEdits
{
    /// <summary>
    /// The run with a final state made of <paramref name="edit"/> applied to the current entries: the same entries in the
    /// listing, the walk and the stats (a stat of <paramref name="keepStatsOf"/> answers too, though it is not listed).
    /// </summary>
    public static NamespaceRun WithFinal(this NamespaceRun run, Func<IEnumerable<NamespaceEntry>, IEnumerable<NamespaceEntry>> edit, string? keepStatsOf = null)
    {
        NamespaceEntry[] entries = [.. edit(run.Final?.Listing ?? [])];
        var stats = entries.DistinctBy(e => e.Path).ToDictionary(e => e.Path, e => (NamespaceEntry?)e, StringComparer.Ordinal);
        if (keepStatsOf is not null && run.Final?.Stats.TryGetValue(keepStatsOf, out NamespaceEntry? kept) == true)
        {
            stats[keepStatsOf] = kept;
        }

        return run with
        {
            Final = new NamespaceFinalState
            {
                Listing = [.. entries.OrderBy(e => e.Path, StringComparer.Ordinal)],
                ListingPages = 2,
                Walk = [.. entries.OrderByDescending(e => e.Path, StringComparer.Ordinal)],
                Stats = stats,
            },
        };
    }

    /// <summary>The run with operation <paramref name="index"/> replaced by <paramref name="edit"/> of it.</summary>
    public static NamespaceRun WithOperation(this NamespaceRun run, int index, Func<NamespaceOperation, NamespaceOperation> edit) =>
        run with { Operations = [.. run.Operations.Select(o => o.Index == index ? edit(o) : o)] };
}
