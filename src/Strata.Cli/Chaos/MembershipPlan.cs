using System.Globalization;
using Strata.Cli.Cluster;

namespace Strata.Cli.Chaos;

/// <summary>What a planned decommission does given the cluster as it is when the fault starts.</summary>
internal enum DecommissionStep
{
    /// <summary>Enough active nodes: decommission the target now.</summary>
    Proceed,

    /// <summary>The decommission would leave fewer than <see cref="MembershipPlan.MinActiveNodes"/> active nodes: a node joins first.</summary>
    JoinFirst,

    /// <summary>Too few active nodes and no room for another: the fault is skipped (its reason recorded).</summary>
    Skip,
}

/// <summary>
/// The choices of the membership faults (<see cref="FaultKind.Join"/>, <see cref="FaultKind.Decommission"/>,
/// <see cref="FaultKind.Transfer"/>), made when a fault starts from its planned draws (<see cref="PlannedFault"/>)
/// and the cluster as then observed. Pure functions: the same draws and the same cluster give the same choice.
/// </summary>
/// <remarks>
/// The rule that keeps a run meaningful: at least <see cref="MinActiveNodes"/> active nodes at every moment, so one
/// node can still be killed, paused or cut off while a majority of every shard's replicas serves. A decommission
/// that would break it lets a node join first; if no node can join (already <see cref="LocalCluster.MaxNodes"/>
/// running, or no spare network namespace left), it is skipped with the reason in the timeline.
/// </remarks>
internal static class MembershipPlan
{
    /// <summary>The fewest active nodes a run keeps (a majority of three survives one fault).</summary>
    public const int MinActiveNodes = 3;

    /// <summary>
    /// Whether a decommission may go ahead with <paramref name="activeNodes"/> active nodes, must let a node join
    /// first, or is skipped (and why: null unless <see cref="DecommissionStep.Skip"/>); <paramref name="whyNoJoin"/>
    /// is null when a node can join now, else why not (<see cref="LocalCluster.WhyNoNodeCanJoin"/>).
    /// </summary>
    public static (DecommissionStep Step, string? Reason) BeforeDecommission(int activeNodes, string? whyNoJoin = null)
    {
        if (activeNodes - 1 >= MinActiveNodes)
        {
            return (DecommissionStep.Proceed, null);
        }

        if (whyNoJoin is null)
        {
            return (DecommissionStep.JoinFirst, null);
        }

        return (DecommissionStep.Skip, string.Create(CultureInfo.InvariantCulture,
            $"{activeNodes} active nodes: a decommission would leave fewer than {MinActiveNodes}, and no node can join first ({whyNoJoin})"));
    }

    /// <summary>
    /// The node a decommission drains: the bucket's shard leader when the fault is aimed at it and that leader is
    /// active, else the seeded one of the active nodes (<see cref="PlannedFault.NodeIndex"/> modulo their count, in
    /// the order given: founding nodes first, then joined ones).
    /// </summary>
    public static ulong DecommissionTarget(PlannedFault fault, IReadOnlyList<ulong> activeNodes, ulong? leader)
    {
        ArgumentNullException.ThrowIfNull(fault);
        ArgumentNullException.ThrowIfNull(activeNodes);
        if (activeNodes.Count == 0)
        {
            throw new ArgumentException("no active node to decommission", nameof(activeNodes));
        }

        return fault.AtLeader && leader is ulong l && activeNodes.Contains(l) ? l : SeededNode(fault, activeNodes);
    }

    /// <summary>
    /// The voter a transfer hands the bucket's shard to: the seeded one (<see cref="PlannedFault.Salt"/>) of the
    /// shard's voters other than <paramref name="leader"/>, in ascending id order; null when there is none.
    /// </summary>
    public static ulong? TransferTarget(PlannedFault fault, ulong leader, IEnumerable<ulong> voters)
    {
        ArgumentNullException.ThrowIfNull(fault);
        ArgumentNullException.ThrowIfNull(voters);
        ulong[] others = [.. voters.Where(v => v != leader).Distinct().Order()];
        return others.Length == 0 ? null : others[(int)((uint)fault.Salt % (uint)others.Length)];
    }

    /// <summary>
    /// The node a kill, pause or partition not aimed at the leader (or with no leader seen) hits: the seeded one of
    /// the active nodes. While no node joined or left, the active nodes are the founding ones in id order, so the
    /// choice is what it always was for a seed.
    /// </summary>
    public static ulong SeededNode(PlannedFault fault, IReadOnlyList<ulong> activeNodes)
    {
        ArgumentNullException.ThrowIfNull(fault);
        ArgumentNullException.ThrowIfNull(activeNodes);
        return activeNodes[fault.NodeIndex % activeNodes.Count];
    }
}
