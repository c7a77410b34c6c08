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
        Assert.Contains("Undecided: 1 of 1 partition(s)", result.Explanation, StringComparison.Ordinal);
        Assert.Contains("key \"k\": undecided (41 operations", result.Explanation, StringComparison.Ordinal);
        Assert.Equal(Verdict.Unknown, result.Partitions.Single().Verdict);
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
