using System.Globalization;
using Strata.Cli.Cluster;

namespace Strata.Cli.Chaos;

/// <summary>
/// Which node sees which during one partition: the sides (for the timeline) and the directed links whose packets are
/// dropped (for <see cref="NamespaceNetwork.CutAsync"/>). Every link not listed delivers.
/// </summary>
/// <param name="Kind">The partition kind.</param>
/// <param name="Target">The node the partition was aimed at (the shard leader or the planned node).</param>
/// <param name="Sides">The groups of nodes, target's side first (a bridge has three: half, bridge node, half).</param>
/// <param name="Dropped">The directed links cut, ordered by sender then receiver.</param>
/// <param name="Description">One line for people: who is cut from whom, and in which direction.</param>
internal sealed record NetworkCut(FaultKind Kind, ulong Target, IReadOnlyList<IReadOnlyList<ulong>> Sides, IReadOnlyList<NodeLink> Dropped, string Description)
{
    /// <summary>The sides as text, e.g. <c>1 | 2 3</c>.</summary>
    public string SidesText => string.Join(" | ", Sides.Select(Names));

    /// <summary>
    /// The cut of a <paramref name="kind"/> partition of <paramref name="nodes"/> aimed at <paramref name="target"/>,
    /// the other choices made by <paramref name="salt"/> (the same arguments give the same cut):
    /// <list type="bullet">
    /// <item><b>isolate</b>: <c>{target} | rest</c>, both ways.</item>
    /// <item><b>split</b>: a minority of ⌊(n-1)/2⌋ nodes (the target and seeded others, taken first among the nodes
    /// that hold no replica of <paramref name="replicas"/>' shard, so that the minority holds as few of its replicas as
    /// possible) | the majority, both ways (with 3 nodes the same as isolate).</item>
    /// <item><b>bridge</b>: <c>half A | bridge node | half B</c>, halves of ⌊(n-1)/2⌋ and the rest, the target in half A,
    /// the bridge node seeded: A and B cannot reach each other, the bridge node reaches both (so a majority,
    /// A plus the bridge, is connected while B is not).</item>
    /// <item><b>asymmetric</b>: <c>{target} | rest</c> one way only: the target's packets to the rest dropped and theirs
    /// to it delivered ("mute": it hears the leader, nobody hears it), or the reverse ("deaf"), chosen by the salt.</item>
    /// </list>
    /// </summary>
    /// <param name="kind">A partition kind.</param>
    /// <param name="nodes">Every node of the cluster (at least 3).</param>
    /// <param name="target">The node aimed at.</param>
    /// <param name="salt">The seeded choice of everything else.</param>
    /// <param name="replicas">The nodes holding a replica of the shard under test (null: unknown); with more nodes than
    /// replicas, a node minority could otherwise hold a majority of that shard.</param>
    public static NetworkCut Plan(FaultKind kind, IReadOnlyList<ulong> nodes, ulong target, int salt, IReadOnlyCollection<ulong>? replicas = null)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (!ChaosOptions.IsPartition(kind))
        {
            throw new ArgumentException($"{ChaosOptions.Name(kind)} is not a partition", nameof(kind));
        }

        if (nodes.Count < 3 || !nodes.Contains(target) || nodes.Distinct().Count() != nodes.Count)
        {
            throw new ArgumentException("a partition needs at least 3 distinct nodes, the target among them", nameof(nodes));
        }

        var random = new Random(salt);
        List<ulong> others = [.. nodes.Where(n => n != target).Order()];
        for (int i = others.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (others[i], others[j]) = (others[j], others[i]);
        }

        int minority = (nodes.Count - 1) / 2;
        switch (kind)
        {
            case FaultKind.Isolate:
            {
                ulong[] rest = [.. others.Order()];
                return new NetworkCut(kind, target, [[target], rest], Both([target], rest),
                    $"node {target} cut off from {Names(rest)} (both ways)");
            }

            case FaultKind.Split:
            {
                // A stable sort keeps the seeded order within the nodes without and with a replica.
                List<ulong> joiners = [.. others.OrderBy(n => replicas?.Contains(n) == true)];
                ulong[] small = [target, .. joiners.Take(minority - 1).Order()];
                ulong[] large = [.. joiners.Skip(minority - 1).Order()];
                return new NetworkCut(kind, target, [small, large], Both(small, large),
                    $"minority {Names(small)} cut off from majority {Names(large)} (both ways)");
            }

            case FaultKind.Bridge:
            {
                ulong bridge = others[0];
                ulong[] half = [target, .. others.Skip(1).Take(minority - 1).Order()];
                ulong[] otherHalf = [.. others.Skip(minority).Order()];
                return new NetworkCut(kind, target, [half, [bridge], otherHalf], Both(half, otherHalf),
                    $"{Names(half)} and {Names(otherHalf)} cut off from each other (both ways); node {bridge} reaches both");
            }

            default:
            {
                ulong[] rest = [.. others.Order()];
                bool mute = random.Next(2) == 0;
                IReadOnlyList<NodeLink> dropped = mute ? OneWay([target], rest) : OneWay(rest, [target]);
                string description = mute
                    ? $"node {target}'s packets to {Names(rest)} dropped, theirs to it delivered"
                    : $"packets from {Names(rest)} to node {target} dropped, its packets to them delivered";
                return new NetworkCut(kind, target, [[target], rest], dropped, description);
            }
        }
    }

    private static IReadOnlyList<NodeLink> Both(IReadOnlyList<ulong> a, IReadOnlyList<ulong> b) =>
        [.. OneWay(a, b).Concat(OneWay(b, a)).OrderBy(l => l.From).ThenBy(l => l.To)];

    private static IReadOnlyList<NodeLink> OneWay(IReadOnlyList<ulong> from, IReadOnlyList<ulong> to) =>
        [.. from.SelectMany(f => to.Select(t => new NodeLink(f, t))).OrderBy(l => l.From).ThenBy(l => l.To)];

    private static string Names(IEnumerable<ulong> nodes) => string.Join(' ', nodes.Select(n => n.ToString(CultureInfo.InvariantCulture)));
}
