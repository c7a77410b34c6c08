using Strata.Linearizability;
using Strata.Linearizability.Models;

namespace Strata.Cli.Chaos;

/// <summary>A register operation on one key of the chaos workload: which register, and the read, write or cas.</summary>
/// <param name="Key">The object path that holds the register.</param>
/// <param name="Register">The operation, in the terms of <see cref="CasRegisterModel"/>.</param>
/// <param name="Operation">The operation's index in the run's <c>history.jsonl</c>, so explanations name it.</param>
internal readonly record struct KeyedRegisterInput(string Key, CasRegisterInput Register, int Operation);

/// <summary>
/// Many independent compare-and-set registers, one per key, each initially absent: <see cref="CasRegisterModel"/>
/// applied per key, and a history split into one partition per key (registers are independent, so the history is
/// linearizable iff each key's part is, and each part is searched alone).
/// </summary>
/// <remarks>Stateless and thread-safe; use <see cref="Instance"/>.</remarks>
internal sealed class KeyedRegisterModel : IModel<long?, KeyedRegisterInput, CasRegisterOutput>
{
    public static KeyedRegisterModel Instance { get; } = new();

    public long? Init() => CasRegisterModel.Instance.Init();

    public (bool Ok, long? Next) Step(long? state, KeyedRegisterInput input, CasRegisterOutput output, bool outcomeUnknown) =>
        CasRegisterModel.Instance.Step(state, input.Register, output, outcomeUnknown);

    /// <summary>One partition per key, named <c>key "path"</c>, in order of first appearance.</summary>
    public IEnumerable<HistoryPartition> Partition(IReadOnlyList<Operation<KeyedRegisterInput, CasRegisterOutput>> history)
    {
        var byKey = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var order = new List<string>();
        for (int i = 0; i < history.Count; i++)
        {
            string key = history[i].Input.Key;
            if (!byKey.TryGetValue(key, out List<int>? indices))
            {
                indices = [];
                byKey.Add(key, indices);
                order.Add(key);
            }

            indices.Add(i);
        }

        foreach (string key in order)
        {
            yield return new HistoryPartition(PartitionName(key), byKey[key]);
        }
    }

    /// <summary>E.g. <c>op 245: write 246</c> (245 being the index in <c>history.jsonl</c>).</summary>
    public string Describe(KeyedRegisterInput input, CasRegisterOutput output) =>
        $"op {input.Operation}: {CasRegisterModel.Instance.Describe(input.Register, output)}";

    public string DescribeState(long? state) => CasRegisterModel.Instance.DescribeState(state);

    /// <summary>How the checker's explanations name the partition of <paramref name="key"/>.</summary>
    public static string PartitionName(string key) => $"key \"{key}\"";
}
