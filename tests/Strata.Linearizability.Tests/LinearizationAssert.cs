namespace Strata.Linearizability.Tests;

/// <summary>Independent checks of what the checker returns: a claimed linearization must really be one.</summary>
internal static class LinearizationAssert
{
    /// <summary>
    /// Asserts every partition's linearization of an Ok result holds each definite operation exactly once,
    /// indeterminate ones at most once, is accepted step by step by the model, and respects real time
    /// (an operation that returned before another was called comes first).
    /// </summary>
    public static void IsValid<TState, TInput, TOutput>(
        IModel<TState, TInput, TOutput> model,
        IReadOnlyList<Operation<TInput, TOutput>> history,
        CheckResult result)
    {
        Assert.Equal(Verdict.Ok, result.Verdict);
        Assert.Null(result.Explanation);
        foreach (var partition in result.Partitions)
        {
            var order = partition.Linearization;
            Assert.Equal(order.Count, order.Distinct().Count());
            var state = model.Init();
            foreach (var index in order)
            {
                var op = history[index];
                var (ok, next) = model.Step(state, op.Input, op.OutcomeUnknown ? default : op.Output, op.OutcomeUnknown);
                Assert.True(ok, $"{partition.Name}: #{index} ({model.Describe(op.Input, op.Output)}) is not legal in state {model.DescribeState(state)}");
                state = next;
            }

            for (var i = 0; i < order.Count; i++)
            {
                for (var j = i + 1; j < order.Count; j++)
                {
                    Assert.False(
                        history[order[j]].Return < history[order[i]].Call,
                        $"{partition.Name}: #{order[j]} returned before #{order[i]} was called but is linearized after it");
                }
            }
        }

        var placed = result.Partitions.SelectMany(p => p.Linearization).ToHashSet();
        for (var i = 0; i < history.Count; i++)
        {
            if (!history[i].OutcomeUnknown)
            {
                Assert.Contains(i, placed);
            }
        }
    }

    /// <summary>
    /// Asserts the longest prefix reported for a single-partition history is a real linearizable prefix:
    /// accepted step by step, and every definite operation that returned before a prefix member was called is
    /// in the prefix ahead of it.
    /// </summary>
    public static void IsValidPrefix<TState, TInput, TOutput>(
        IModel<TState, TInput, TOutput> model,
        IReadOnlyList<Operation<TInput, TOutput>> history,
        PartitionResult partition)
    {
        var order = partition.Linearization;
        var position = new Dictionary<int, int>();
        var state = model.Init();
        for (var j = 0; j < order.Count; j++)
        {
            var op = history[order[j]];
            var (ok, next) = model.Step(state, op.Input, op.OutcomeUnknown ? default : op.Output, op.OutcomeUnknown);
            Assert.True(ok, $"prefix element {j} (#{order[j]}) is not legal in state {model.DescribeState(state)}");
            Assert.True(position.TryAdd(order[j], j), $"#{order[j]} appears twice");
            state = next;
        }

        for (var j = 0; j < order.Count; j++)
        {
            for (var a = 0; a < history.Count; a++)
            {
                if (!history[a].OutcomeUnknown && history[a].Return < history[order[j]].Call)
                {
                    Assert.True(position.TryGetValue(a, out var p) && p < j, $"#{a} returned before #{order[j]} was called but is not ahead of it in the prefix");
                }
            }
        }
    }
}
