using System.Collections.Concurrent;
using Strata.Linearizability;
using Strata.Linearizability.Models;

namespace Strata.Cluster.Tests;

/// <summary>
/// A concurrent history of register operations on several keys, recorded by client tasks: call and return are
/// taken from one monotonic counter (an event index, so "returned before called" is exact), an operation whose
/// outcome is unknown is recorded as indeterminate, and each key is checked on its own against
/// <see cref="CasRegisterModel"/> (keys are independent registers).
/// </summary>
/// <remarks>Thread-safe: any number of clients record concurrently.</remarks>
internal sealed class RegisterHistory
{
    private readonly ConcurrentQueue<(string Key, Operation<CasRegisterInput, CasRegisterOutput> Op)> _operations = new();
    private long _clock;

    /// <summary>Operations recorded (definite and indeterminate).</summary>
    public int Count => _operations.Count;

    /// <summary>Operations recorded as indeterminate.</summary>
    public int Indeterminate => _operations.Count(o => o.Op.OutcomeUnknown);

    /// <summary>Takes the next instant of the history's clock: the call time before a request leaves, or
    /// (through <see cref="Completed"/>) the return time after its response arrives.</summary>
    public long Now() => Interlocked.Increment(ref _clock);

    public void Completed(int client, string key, CasRegisterInput input, CasRegisterOutput output, long call) =>
        _operations.Enqueue((key, new Operation<CasRegisterInput, CasRegisterOutput>(client, input, output, call, Now())));

    public void Unknown(int client, string key, CasRegisterInput input, long call) =>
        _operations.Enqueue((key, Operation<CasRegisterInput, CasRegisterOutput>.Indeterminate(client, input, call)));

    /// <summary>Checks every key; returns the explanation of each key that is not linearizable (Illegal), and the
    /// number of keys the checker could not decide in its budget.</summary>
    public (IReadOnlyList<string> Illegal, int Undecided) Check(TimeSpan budgetPerKey)
    {
        var illegal = new List<string>();
        int undecided = 0;
        foreach (IGrouping<string, (string Key, Operation<CasRegisterInput, CasRegisterOutput> Op)> key in _operations.GroupBy(o => o.Key))
        {
            CheckResult result = LinearizabilityChecker.Check(CasRegisterModel.Instance, [.. key.Select(o => o.Op)], budgetPerKey);
            if (result.Verdict == Verdict.Illegal)
            {
                illegal.Add($"key {key.Key}: {result.Explanation}");
            }
            else if (result.Verdict == Verdict.Unknown)
            {
                undecided++;
            }
        }

        return (illegal, undecided);
    }
}
