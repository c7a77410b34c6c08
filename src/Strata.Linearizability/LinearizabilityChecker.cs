using System.Globalization;
using System.Text;
using Strata.Linearizability.Search;

namespace Strata.Linearizability;

/// <summary>
/// Decides whether a concurrent history is linearizable with respect to a sequential model.
/// </summary>
/// <remarks>
/// <para>
/// The algorithm is Wing and Gong's search as improved by Lowe (just-in-time linearization over a linked
/// list of events, memoizing every (set of linearized operations, model state) pair visited), applied to
/// each partition the model splits the history into, as the Porcupine checker does. The worst case is
/// exponential; real histories are usually decided in milliseconds, and the time budget bounds the rest.
/// </para>
/// <para>
/// Operations whose outcome is unknown (<see cref="Operation{TInput,TOutput}.OutcomeUnknown"/>) may take
/// effect at any point after their call, or never.
/// </para>
/// <para>Typical use, from a test or the simulator:</para>
/// <code>
/// var history = new List&lt;Operation&lt;CasRegisterInput, CasRegisterOutput&gt;&gt;
/// {
///     new(ClientId: 1, CasRegisterInput.Write(3), CasRegisterOutput.WriteDone, Call: 10, Return: 25),
///     new(ClientId: 2, CasRegisterInput.Read(), CasRegisterOutput.ReadResult(3), Call: 12, Return: 30),
///     Operation&lt;CasRegisterInput, CasRegisterOutput&gt;.Indeterminate(3, CasRegisterInput.Cas(3, 4), call: 14), // timed out
/// };
/// var result = LinearizabilityChecker.Check(CasRegisterModel.Instance, history, TimeSpan.FromSeconds(10));
/// if (result.Verdict == Verdict.Illegal) { Console.WriteLine(result.Explanation); }
/// </code>
/// <para>
/// The caller's duties: record every operation a client issued, including those that failed ambiguously (a
/// timeout is <see cref="Operation{TInput,TOutput}.Indeterminate"/>, not dropped: dropping it would make a
/// linearizable history look illegal once its effect is observed); drop only operations known not to have
/// taken effect; take call and return times from one clock, the call before the request leaves and the return
/// after the response arrives.
/// </para>
/// <para>
/// Cost: each partition is searched separately, so keep partitions small (the key-value model splits by key).
/// The search grows with the number of operations that are concurrent with each other and whose orders lead
/// to different states (appends of distinct values between two reads are the worst case); registers and
/// overwrites collapse states and stay cheap.
/// </para>
/// <para>
/// Thread-safety: <c>Check</c> is reentrant and keeps no shared state; it calls the model from the calling
/// thread only. It reads no clock other than through the cancellation timer of the budget.
/// </para>
/// </remarks>
public static class LinearizabilityChecker
{
    /// <summary>
    /// Checks <paramref name="history"/> against <paramref name="model"/>.
    /// </summary>
    /// <param name="model">The sequential specification.</param>
    /// <param name="history">All operations, in any order.</param>
    /// <param name="budget">
    /// Wall-clock time the search may take overall; when spent, undecided partitions are
    /// <see cref="Verdict.Unknown"/>. <see cref="Timeout.InfiniteTimeSpan"/> means no limit; zero or less
    /// means give up at once.
    /// </param>
    /// <param name="cancellationToken">Gives up like an exhausted budget (no exception is thrown).</param>
    /// <exception cref="ArgumentException">An operation returns before it is called, or the partitions do not cover the history exactly once.</exception>
    public static CheckResult Check<TState, TInput, TOutput>(
        IModel<TState, TInput, TOutput> model,
        IReadOnlyList<Operation<TInput, TOutput>> history,
        TimeSpan budget,
        CancellationToken cancellationToken = default) =>
        Check(model, history, budget, long.MaxValue, cancellationToken);

    /// <summary>
    /// Checks <paramref name="history"/> against <paramref name="model"/>, giving up also after
    /// <paramref name="maxVisitedStates"/> search states in total. Unlike a time budget, a state budget gives the
    /// same verdict on every machine: use it (with <see cref="Timeout.InfiniteTimeSpan"/>) where runs must replay
    /// exactly, as in seeded simulation.
    /// </summary>
    /// <param name="model">The sequential specification.</param>
    /// <param name="history">All operations, in any order.</param>
    /// <param name="budget">Wall-clock limit, as in the other overload.</param>
    /// <param name="maxVisitedStates">The most (linearized set, state) pairs the search may memoize over all partitions.</param>
    /// <param name="cancellationToken">Gives up like an exhausted budget (no exception is thrown).</param>
    public static CheckResult Check<TState, TInput, TOutput>(
        IModel<TState, TInput, TOutput> model,
        IReadOnlyList<Operation<TInput, TOutput>> history,
        TimeSpan budget,
        long maxVisitedStates,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(history);
        ArgumentOutOfRangeException.ThrowIfNegative(maxVisitedStates);
        for (var i = 0; i < history.Count; i++)
        {
            var op = history[i] ?? throw new ArgumentException($"Operation #{i} is null.", nameof(history));
            if (op.Return < op.Call)
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"Operation #{i} returns at {op.Return}, before its call at {op.Call}."),
                    nameof(history));
            }
        }

        var partitions = model.Partition(history).ToList();
        ValidatePartitions(partitions, history.Count);

        using var budgetSource = CreateBudgetSource(budget, cancellationToken);
        var token = budgetSource.Token;

        var results = new List<PartitionResult>(partitions.Count);
        var statesLeft = maxVisitedStates;
        foreach (var partition in partitions)
        {
            var result = CheckPartition(model, history, partition, statesLeft, token);
            statesLeft -= result.VisitedStates;
            results.Add(result);
        }

        return Summarize(results, DescribeLimits(budget, maxVisitedStates));
    }

    private static PartitionResult CheckPartition<TState, TInput, TOutput>(
        IModel<TState, TInput, TOutput> model,
        IReadOnlyList<Operation<TInput, TOutput>> history,
        HistoryPartition partition,
        long maxVisitedStates,
        CancellationToken token)
    {
        var indices = partition.OperationIndices;
        var ops = new Operation<TInput, TOutput>[indices.Count];
        var historyIndex = new int[indices.Count];
        for (var i = 0; i < ops.Length; i++)
        {
            historyIndex[i] = indices[i];
            ops[i] = history[indices[i]];
        }

        var search = new PartitionSearch<TState, TInput, TOutput>(model, ops, historyIndex);
        var verdict = search.Run(token, maxVisitedStates);
        var best = search.Best;
        var linearization = new int[best.Length];
        for (var i = 0; i < linearization.Length; i++)
        {
            linearization[i] = search.HistoryIndex(best[i]);
        }

        switch (verdict)
        {
            case Verdict.Ok:
                return new PartitionResult(partition.Name, Verdict.Ok, ops.Length, linearization, [], null, search.VisitedCount);
            case Verdict.Illegal:
                var (text, unplaced) = search.ExplainIllegal(partition.Name);
                return new PartitionResult(partition.Name, Verdict.Illegal, ops.Length, linearization, unplaced, text.TrimEnd(), search.VisitedCount);
            default:
                var gaveUp = string.Create(
                    CultureInfo.InvariantCulture,
                    $"{partition.Name}: undecided ({ops.Length} operations; gave up after visiting {search.VisitedCount} states, longest linearizable prefix {linearization.Length}).");
                return new PartitionResult(partition.Name, Verdict.Unknown, ops.Length, linearization, [], gaveUp, search.VisitedCount);
        }
    }

    private static string DescribeLimits(TimeSpan budget, long maxVisitedStates)
    {
        var limits = new List<string>();
        if (budget != Timeout.InfiniteTimeSpan)
        {
            limits.Add(string.Create(CultureInfo.InvariantCulture, $"the time budget of {budget}"));
        }

        if (maxVisitedStates != long.MaxValue)
        {
            limits.Add(string.Create(CultureInfo.InvariantCulture, $"the limit of {maxVisitedStates} states"));
        }

        limits.Add("cancellation");
        return string.Join(" or ", limits);
    }

    private static CheckResult Summarize(List<PartitionResult> results, string limits)
    {
        var illegal = 0;
        var unknown = 0;
        foreach (var result in results)
        {
            illegal += result.Verdict == Verdict.Illegal ? 1 : 0;
            unknown += result.Verdict == Verdict.Unknown ? 1 : 0;
        }

        if (illegal == 0 && unknown == 0)
        {
            return new CheckResult(Verdict.Ok, null, results);
        }

        var text = new StringBuilder();
        if (illegal > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"Not linearizable: {illegal} of {results.Count} partition(s) illegal.").AppendLine();
            foreach (var result in results)
            {
                if (result.Verdict == Verdict.Illegal)
                {
                    text.AppendLine(result.Explanation);
                }
            }
        }

        if (unknown > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"Undecided: {unknown} of {results.Count} partition(s) not decided before {limits}.").AppendLine();
            foreach (var result in results)
            {
                if (result.Verdict == Verdict.Unknown)
                {
                    text.Append("  ").AppendLine(result.Explanation);
                }
            }
        }

        return new CheckResult(illegal > 0 ? Verdict.Illegal : Verdict.Unknown, text.ToString().TrimEnd(), results);
    }

    private static void ValidatePartitions(List<HistoryPartition> partitions, int count)
    {
        var seen = new bool[count];
        var covered = 0;
        foreach (var partition in partitions)
        {
            foreach (var index in partition.OperationIndices)
            {
                if ((uint)index >= (uint)count || seen[index])
                {
                    throw new ArgumentException(
                        string.Create(CultureInfo.InvariantCulture, $"Partition '{partition.Name}' holds operation #{index}, which is out of range or already in another partition."));
                }

                seen[index] = true;
                covered++;
            }
        }

        if (covered != count)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The model's partitions hold {covered} of the {count} operations; each must be in exactly one."));
        }
    }

    private static CancellationTokenSource CreateBudgetSource(TimeSpan budget, CancellationToken cancellationToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (budget == Timeout.InfiniteTimeSpan)
        {
            return source;
        }

        if (budget <= TimeSpan.Zero)
        {
            source.Cancel();
        }
        else if (budget.TotalMilliseconds < int.MaxValue - 1)
        {
            source.CancelAfter(budget);
        }

        // Budgets beyond ~24.8 days (the timer's limit) are as good as unlimited.
        return source;
    }
}
