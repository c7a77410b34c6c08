using System.Globalization;
using Strata.Replication;

namespace Strata.Cli.Chaos;

/// <summary>
/// The crash point one <see cref="FaultKind.CrashPoint"/> fault arms, drawn from its plan salt: one of the
/// <see cref="Points"/> a serving node reaches under the chaos workload, and the hit (<c>NAME:N</c>, counted from the
/// armed process's start) at which the node SIGKILLs itself (<see cref="CrashPoints"/>).
/// </summary>
/// <remarks>
/// <para><c>snapshot-install</c> is left out: chaos runs start their nodes without <c>--compaction-threshold</c>, so
/// no leader compacts its log past a lagging follower in a run of this length and the point would never be reached.</para>
/// <para>The hit is drawn from <see cref="MinHit"/>..<see cref="MaxHit"/>. A restarted follower reaches each point
/// about once per append it persists or batch it applies: a few times while it catches up, then about once per write of
/// the workload. The next fault holds the clients back once they reach its starting point, so the load an armed node
/// sees is the operations left before that point (a few hundred in a default run); the range is low enough to be
/// reached by them and high enough that the node usually dies serving, past its first catch-up batches. A point not
/// reached in the fault's window is reported as not fired, never hidden. Pure: the same salt arms the same point.</para>
/// </remarks>
internal readonly record struct ArmedCrashPoint(string Point, int Hit)
{
    /// <summary>The lowest hit drawn.</summary>
    public const int MinHit = 20;

    /// <summary>The highest hit drawn.</summary>
    public const int MaxHit = 100;

    /// <summary>The points the chaos runner arms, in the order a store step reaches them.</summary>
    public static IReadOnlyList<string> Points { get; } = ["log-before-fsync", "log-after-fsync", "apply-before", "apply-after"];

    /// <summary>The point and hit of the fault whose plan salt is <paramref name="salt"/>.</summary>
    public static ArmedCrashPoint Of(int salt)
    {
        var random = new Random(salt);
        string point = Points[random.Next(Points.Count)];
        return new ArmedCrashPoint(point, random.Next(MinHit, MaxHit + 1));
    }

    /// <summary>The value of <see cref="CrashPoints.Variable"/> that arms this point: <c>NAME:N</c>.</summary>
    public string Value => string.Create(CultureInfo.InvariantCulture, $"{Point}:{Hit}");

    /// <summary>The environment a node is restarted with to arm this point (for <see cref="Cluster.LocalCluster.Start"/>).</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { [CrashPoints.Variable] = Value };

    /// <summary>The line a node writes to its log (standard error) when it dies at this point.</summary>
    public string DyingLine => string.Create(CultureInfo.InvariantCulture, $"crash point {Point} reached (hit {Hit})");

    /// <inheritdoc/>
    public override string ToString() => Value;
}
