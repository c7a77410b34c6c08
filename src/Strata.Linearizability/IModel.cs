namespace Strata.Linearizability;

/// <summary>
/// The sequential specification of an object, against which concurrent histories are checked.
/// </summary>
/// <remarks>
/// <para>
/// The checker calls the model from a single thread, many millions of times for a hard history, so
/// <see cref="Step"/> should be cheap and must be a pure function of its arguments. States are compared
/// with <see cref="StateComparer"/> to memoize the search: two states that are equal there must behave
/// identically for every future operation. A state must never be mutated once returned (share or copy,
/// never update in place).
/// </para>
/// <para>
/// When <c>outcomeUnknown</c> is true the output is meaningless (default) and the model must accept the
/// operation in every state in which it could have taken effect, returning the state it leaves behind if it
/// did. The checker is free to never apply such an operation at all, which covers "did not take effect"; so
/// for an operation that may succeed or fail (a compare-and-set) return its effect when it succeeds and the
/// unchanged state when it cannot.
/// </para>
/// </remarks>
/// <typeparam name="TState">The object's state. Treated as immutable.</typeparam>
/// <typeparam name="TInput">An operation's request.</typeparam>
/// <typeparam name="TOutput">An operation's response.</typeparam>
public interface IModel<TState, TInput, TOutput>
{
    /// <summary>The state of the object before any operation.</summary>
    TState Init();

    /// <summary>
    /// Applies one operation: whether <paramref name="output"/> is a legal response to
    /// <paramref name="input"/> in <paramref name="state"/>, and the state afterwards.
    /// </summary>
    (bool Ok, TState Next) Step(TState state, TInput input, TOutput? output, bool outcomeUnknown);

    /// <summary>
    /// Splits a history into independent parts that can be checked one at a time (P-compositionality:
    /// a history is linearizable iff each part is). The default is one part holding everything. Every
    /// operation index must appear in exactly one part.
    /// </summary>
    IEnumerable<HistoryPartition> Partition(IReadOnlyList<Operation<TInput, TOutput>> history) =>
        [HistoryPartition.Whole(history.Count)];

    /// <summary>Equality and hash of states, used to memoize the search.</summary>
    IEqualityComparer<TState> StateComparer => EqualityComparer<TState>.Default;

    /// <summary>A short human description of an operation, e.g. <c>cas 1 -> 2 ok</c>. <paramref name="output"/> is default when unknown.</summary>
    string Describe(TInput input, TOutput? output);

    /// <summary>A short human description of a state, for explanations.</summary>
    string DescribeState(TState state) => state?.ToString() ?? "null";
}

/// <summary>One independently checkable part of a history (for example all operations on one key).</summary>
/// <param name="Name">How explanations name the part, e.g. <c>key "x"</c>.</param>
/// <param name="OperationIndices">Indices into the full history, in any order.</param>
public sealed record HistoryPartition(string Name, IReadOnlyList<int> OperationIndices)
{
    /// <summary>The single part holding operations 0..count-1.</summary>
    public static HistoryPartition Whole(int count)
    {
        var all = new int[count];
        for (var i = 0; i < count; i++)
        {
            all[i] = i;
        }

        return new HistoryPartition("history", all);
    }
}
