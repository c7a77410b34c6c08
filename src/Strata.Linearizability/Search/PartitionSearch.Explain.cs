using System.Globalization;
using System.Text;

namespace Strata.Linearizability.Search;

/// <summary>Turning a failed or abandoned search into text a person can act on.</summary>
internal sealed partial class PartitionSearch<TState, TInput, TOutput>
{
    private const int PrefixLinesShown = 12;
    private const int CandidateLinesShown = 16;

    /// <summary>
    /// Explains an illegal partition from the longest linearizable prefix the search found: the prefix (its
    /// tail), the state it leaves, the operation that had to be linearized next, and why each operation that
    /// could come next does not fit.
    /// </summary>
    /// <returns>The text, and the candidates that could not be placed (full-history indices).</returns>
    public (string Text, int[] Unplaced) ExplainIllegal(string partitionName)
    {
        var text = new StringBuilder();
        var linearized = new bool[_ops.Length];
        var state = _model.Init();
        foreach (var op in Best)
        {
            linearized[op] = true;
            var unknown = _unknown[op];
            state = _model.Step(state, _ops[op].Input, unknown ? default : _ops[op].Output, unknown).Next;
        }

        text.Append(CultureInfo.InvariantCulture, $"{partitionName}: not linearizable ({_ops.Length} operations, {_definiteCount} with a known outcome).");
        text.AppendLine();
        text.Append(CultureInfo.InvariantCulture, $"  Longest linearizable prefix: {_bestLength} operations");
        text.AppendLine(_bestLength > PrefixLinesShown ? $", the last {PrefixLinesShown} shown:" : ":");
        for (var i = Math.Max(0, _bestLength - PrefixLinesShown); i < _bestLength; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"    {i + 1,4}. ").AppendLine(DescribeOperation(_bestBuffer[i]));
        }

        text.Append("  State after the prefix: ").AppendLine(_model.DescribeState(state));

        // The definite operation with the earliest return that is not yet linearized bounds what may come next.
        var deadline = None;
        for (var op = 0; op < _ops.Length; op++)
        {
            if (!linearized[op] && !_unknown[op] && (deadline == None || _ops[op].Return < _ops[deadline].Return))
            {
                deadline = op;
            }
        }

        if (deadline == None)
        {
            // Cannot happen for an illegal verdict (the search would have succeeded); say so rather than throw.
            text.AppendLine("  Every operation with a known outcome is in the prefix.");
            return (text.ToString(), []);
        }

        var deadlineTime = _ops[deadline].Return;
        text.Append("  The next operation must be linearized no later than the return of ")
            .Append(DescribeOperation(deadline)).AppendLine(",")
            .AppendLine("  but none of the operations that could come next fits:");
        var unplaced = new List<int>();
        for (var op = 0; op < _ops.Length; op++)
        {
            if (!linearized[op] && _ops[op].Call <= deadlineTime)
            {
                unplaced.Add(op);
            }
        }

        unplaced.Sort((a, b) => _ops[a].Call.CompareTo(_ops[b].Call));
        for (var i = 0; i < unplaced.Count && i < CandidateLinesShown; i++)
        {
            var op = unplaced[i];
            var unknown = _unknown[op];
            var (ok, next) = _model.Step(state, _ops[op].Input, unknown ? default : _ops[op].Output, unknown);
            text.Append("    ").Append(DescribeOperation(op)).Append(": ");
            if (!ok)
            {
                text.Append("not legal in state ").AppendLine(_model.DescribeState(state));
            }
            else if (unknown && _stateComparer.Equals(state, next))
            {
                text.AppendLine("outcome unknown and no effect here");
            }
            else
            {
                text.Append("legal (state becomes ").Append(_model.DescribeState(next))
                    .AppendLine(") but the operations after it cannot all be linearized");
            }
        }

        if (unplaced.Count > CandidateLinesShown)
        {
            text.Append(CultureInfo.InvariantCulture, $"    ... and {unplaced.Count - CandidateLinesShown} more").AppendLine();
        }

        var result = new int[unplaced.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = _historyIndex[unplaced[i]];
        }

        return (text.ToString(), result);
    }

    /// <summary>One operation on one line: index, client, what it did, when.</summary>
    public string DescribeOperation(int op)
    {
        var operation = _ops[op];
        var returned = operation.OutcomeUnknown
            ? "outcome unknown"
            : "return " + operation.Return.ToString(CultureInfo.InvariantCulture);
        var what = _model.Describe(operation.Input, operation.OutcomeUnknown ? default : operation.Output);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"#{_historyIndex[op]} client {operation.ClientId}: {what} [call {operation.Call}, {returned}]");
    }
}
