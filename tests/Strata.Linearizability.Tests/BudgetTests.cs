using Strata.Linearizability.Models;

namespace Strata.Linearizability.Tests;

public sealed class BudgetTests
{
    /// <summary>
    /// Forty appends of distinct strings, all concurrent, then a get that no order explains: every order of
    /// every subset is a distinct (set, state) pair, so memoization cannot help and the search space is
    /// astronomically large (more than 40! orders). Only a budget ends it.
    /// </summary>
    private static Operation<KvInput, string>[] HopelessHistory()
    {
        var history = new List<Operation<KvInput, string>>();
        for (var i = 0; i < 40; i++)
        {
            history.Add(new(i, KvInput.Append("k", $"<{i}>"), null, 0, 100));
        }

        history.Add(new(40, KvInput.Get("k"), "impossible", 101, 102));
        return [.. history];
    }

    [Fact]
    public void Search_that_cannot_finish_gives_up_with_unknown_when_the_budget_is_spent()
    {
        var result = LinearizabilityChecker.Check(KvModel.Instance, HopelessHistory(), TimeSpan.FromMilliseconds(100));

        Assert.Equal(Verdict.Unknown, result.Verdict);
        Assert.Contains("Undecided: 1 of 1 partition(s) not decided before the time budget of 00:00:00.1000000 or cancellation", result.Explanation, StringComparison.Ordinal);
        Assert.Contains("key \"k\": undecided (41 operations", result.Explanation, StringComparison.Ordinal);
        Assert.Equal(Verdict.Unknown, result.Partitions.Single().Verdict);
    }

    [Fact]
    public void State_limit_gives_up_deterministically_at_exactly_that_many_states()
    {
        var first = LinearizabilityChecker.Check(KvModel.Instance, HopelessHistory(), Timeout.InfiniteTimeSpan, maxVisitedStates: 20_000);
        var second = LinearizabilityChecker.Check(KvModel.Instance, HopelessHistory(), Timeout.InfiniteTimeSpan, maxVisitedStates: 20_000);

        Assert.Equal(Verdict.Unknown, first.Verdict);
        Assert.Equal(20_000, first.Partitions.Single().VisitedStates);
        Assert.Equal(first.Explanation, second.Explanation);
        Assert.Equal(first.Partitions.Single().Linearization, second.Partitions.Single().Linearization);
        Assert.Contains("before the limit of 20000 states or cancellation", first.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void State_limit_is_shared_by_all_partitions()
    {
        // Key "a" needs a handful of states; the hopeless key "k" gets what is left.
        var history = HopelessHistory().ToList();
        history.Insert(0, new(50, KvInput.Append("a", "x"), null, 0, 1));
        history.Insert(1, new(50, KvInput.Get("a"), "x", 2, 3));

        var result = LinearizabilityChecker.Check(KvModel.Instance, history, Timeout.InfiniteTimeSpan, maxVisitedStates: 1_000);

        Assert.Equal([Verdict.Ok, Verdict.Unknown], result.Partitions.Select(p => p.Verdict));
        Assert.Equal(1_000, result.Partitions.Sum(p => p.VisitedStates));
    }

    [Fact]
    public void State_limit_does_not_change_a_verdict_reached_within_it()
    {
        var history = new[]
        {
            new Operation<CasRegisterInput, CasRegisterOutput>(0, CasRegisterInput.Write(1), CasRegisterOutput.WriteDone, 0, 1),
            new Operation<CasRegisterInput, CasRegisterOutput>(1, CasRegisterInput.Read(), CasRegisterOutput.ReadResult(1), 2, 3),
        };

        Assert.Equal(Verdict.Ok, LinearizabilityChecker.Check(CasRegisterModel.Instance, history, Timeout.InfiniteTimeSpan, maxVisitedStates: 2).Verdict);
        Assert.Equal(Verdict.Unknown, LinearizabilityChecker.Check(CasRegisterModel.Instance, history, Timeout.InfiniteTimeSpan, maxVisitedStates: 1).Verdict);
    }

    [Fact]
    public void Zero_budget_gives_up_at_once()
    {
        var history = new[] { new Operation<CasRegisterInput, CasRegisterOutput>(0, CasRegisterInput.Write(1), CasRegisterOutput.WriteDone, 0, 1) };

        var result = LinearizabilityChecker.Check(CasRegisterModel.Instance, history, TimeSpan.Zero);

        Assert.Equal(Verdict.Unknown, result.Verdict);
        Assert.NotNull(result.Explanation);
    }

    [Fact]
    public void Cancelled_token_gives_up_like_a_spent_budget()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        var result = LinearizabilityChecker.Check(KvModel.Instance, HopelessHistory(), Timeout.InfiniteTimeSpan, cancelled.Token);

        Assert.Equal(Verdict.Unknown, result.Verdict);
    }

    [Fact]
    public void Illegal_partition_decides_the_history_even_when_another_is_undecided()
    {
        var history = HopelessHistory().ToList();
        history.Insert(0, new(50, KvInput.Get("other"), "never written", 0, 1));

        var result = LinearizabilityChecker.Check(KvModel.Instance, history, TimeSpan.FromMilliseconds(100));

        Assert.Equal(Verdict.Illegal, result.Verdict);
        Assert.Equal([Verdict.Illegal, Verdict.Unknown], result.Partitions.Select(p => p.Verdict));
        Assert.Contains("Undecided: 1 of 2", result.Explanation, StringComparison.Ordinal);
    }

    private sealed class OverlappingPartitions : IModel<int, int, int>
    {
        public int Init() => 0;

        public (bool Ok, int Next) Step(int state, int input, int output, bool outcomeUnknown) => (true, state);

        public IEnumerable<HistoryPartition> Partition(IReadOnlyList<Operation<int, int>> history) =>
            [HistoryPartition.Whole(history.Count), HistoryPartition.Whole(history.Count)];

        public string Describe(int input, int output) => "op";
    }

    [Fact]
    public void Partitions_that_do_not_cover_each_operation_exactly_once_are_rejected()
    {
        var history = new[] { new Operation<int, int>(0, 0, 0, 0, 1) };

        Assert.Throws<ArgumentException>(() => LinearizabilityChecker.Check(new OverlappingPartitions(), history, Timeout.InfiniteTimeSpan));
    }
}
