using Strata.Linearizability;
using Strata.Linearizability.Models;

namespace Strata.Cli.Chaos;

/// <summary>
/// Turns a run's <see cref="ChaosOperation"/>s into the checker's history and checks it with
/// <see cref="LinearizabilityChecker"/> against <see cref="KeyedRegisterModel"/> (one partition per key).
/// </summary>
/// <remarks>
/// What goes in: every answered operation; every write or cas whose outcome is unknown, as
/// <see cref="Operation{TInput,TOutput}.Indeterminate"/> (it may have taken effect at any time after its call, or
/// never); every cas refused by its precondition, as a failed cas (the register did not hold the expected value
/// when it was applied). What stays out: reads without an answer (a read changes nothing, so a read nobody saw
/// constrains nothing) and writes refused outright (they changed nothing). Times are the run's nanoseconds, the
/// same numbers as in <c>history.jsonl</c>.
/// </remarks>
internal static class HistoryCheck
{
    /// <summary>The operations of <paramref name="history"/> the checker is given (see the remarks).</summary>
    public static List<Operation<KeyedRegisterInput, CasRegisterOutput>> ToCheckerHistory(IReadOnlyList<ChaosOperation> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var checkable = new List<Operation<KeyedRegisterInput, CasRegisterOutput>>(history.Count);
        foreach (ChaosOperation op in history)
        {
            CasRegisterInput register = op.Kind switch
            {
                CasRegisterOp.Read => CasRegisterInput.Read(),
                CasRegisterOp.Write => CasRegisterInput.Write(op.Value!.Value),
                _ => CasRegisterInput.Cas(op.Expected!.Value, op.Value!.Value),
            };
            var input = new KeyedRegisterInput(op.Key, register, op.Index);
            switch (op.Outcome)
            {
                case ChaosOutcome.Ok:
                    CasRegisterOutput output = op.Kind switch
                    {
                        CasRegisterOp.Read => CasRegisterOutput.ReadResult(op.Found == true ? op.ReadValue : null),
                        CasRegisterOp.Write => CasRegisterOutput.WriteDone,
                        _ => CasRegisterOutput.CasResult(succeeded: true),
                    };
                    checkable.Add(new(op.Process, input, output, op.CallNanos, op.ReturnNanos!.Value));
                    break;
                case ChaosOutcome.Failed when op.Kind == CasRegisterOp.Cas && op.PreconditionFailed == true:
                    checkable.Add(new(op.Process, input, CasRegisterOutput.CasResult(succeeded: false), op.CallNanos, op.ReturnNanos!.Value));
                    break;
                case ChaosOutcome.Indeterminate when op.Kind != CasRegisterOp.Read:
                    checkable.Add(Operation<KeyedRegisterInput, CasRegisterOutput>.Indeterminate(op.Process, input, op.CallNanos));
                    break;
                default:
                    break;
            }
        }

        return checkable;
    }

    /// <summary>Checks <paramref name="history"/>; returns the checker's result and how many operations it was given.</summary>
    public static (CheckResult Result, int Checked) Check(IReadOnlyList<ChaosOperation> history, TimeSpan budget, CancellationToken cancellationToken)
    {
        List<Operation<KeyedRegisterInput, CasRegisterOutput>> checkable = ToCheckerHistory(history);
        return (LinearizabilityChecker.Check(KeyedRegisterModel.Instance, checkable, budget, cancellationToken), checkable.Count);
    }
}
