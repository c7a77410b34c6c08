namespace Strata.Linearizability;

/// <summary>The outcome of a linearizability check.</summary>
public enum Verdict
{
    /// <summary>The history is linearizable: a legal sequential order consistent with real time exists.</summary>
    Ok,

    /// <summary>No such order exists: the system under test violated linearizability.</summary>
    Illegal,

    /// <summary>The checker gave up (time budget spent or cancelled) before deciding.</summary>
    Unknown,
}

/// <summary>The verdict for a whole history, with one entry per partition the model split it into.</summary>
/// <param name="Verdict">
/// <see cref="Verdict.Illegal"/> if any partition is illegal (that alone proves the history illegal, even if
/// others were not decided), else <see cref="Verdict.Unknown"/> if any partition was not decided, else
/// <see cref="Verdict.Ok"/>.
/// </param>
/// <param name="Explanation">Readable text saying why the history is illegal or why the checker gave up; null when Ok.</param>
/// <param name="Partitions">Per-partition results in the order the model produced the partitions.</param>
public sealed record CheckResult(Verdict Verdict, string? Explanation, IReadOnlyList<PartitionResult> Partitions);

/// <summary>The verdict for one partition of a history.</summary>
/// <param name="Name">The partition's name, from <see cref="HistoryPartition.Name"/>.</param>
/// <param name="Verdict">The partition's verdict.</param>
/// <param name="OperationCount">How many operations the partition holds.</param>
/// <param name="Linearization">
/// Indices into the full history, in linearization order. When Ok: a complete linearization (every
/// definite operation plus the indeterminate ones that took effect). When Illegal: the longest linearizable
/// prefix the search found. When Unknown: the longest prefix found before giving up.
/// </param>
/// <param name="Unplaced">
/// When Illegal: the operations that could be linearized next after the longest prefix but lead nowhere
/// (indices into the full history, by call time). Empty otherwise.
/// </param>
/// <param name="Explanation">Readable text for an illegal or undecided partition; null when Ok.</param>
/// <param name="VisitedStates">How many distinct (linearized set, model state) pairs the search memoized: its cost.</param>
public sealed record PartitionResult(
    string Name,
    Verdict Verdict,
    int OperationCount,
    IReadOnlyList<int> Linearization,
    IReadOnlyList<int> Unplaced,
    string? Explanation,
    int VisitedStates);
