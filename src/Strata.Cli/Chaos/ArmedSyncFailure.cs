using System.Globalization;
using Strata.Cli.Cluster;

namespace Strata.Cli.Chaos;

/// <summary>
/// The failed fsync one <see cref="FaultKind.SyncFailure"/> fault arms, drawn from its plan salt: the N-th fsync or
/// fdatasync of a file in the node's data directory, counted from the armed process's start, fails with EIO, and the
/// power-loss library counts that file's dirty pages clean, as Linux may after a failed write-back: those bytes never
/// reach the durable image (<see cref="PowerLoss.FailSyncVariable"/>).
/// </summary>
/// <remarks>
/// A restarted node syncs a handful of files while it opens its store, then its write-ahead log once per batch of log
/// entries it persists: about once per write of the workload it sees. The sync is drawn from
/// <see cref="MinSync"/>..<see cref="MaxSync"/>, past the opening's syncs and low enough to be reached in the fault's
/// window under the scheduler's own writes. Pure: the same salt arms the same sync.
/// </remarks>
internal readonly record struct ArmedSyncFailure(int Sync)
{
    /// <summary>The lowest sync drawn.</summary>
    public const int MinSync = 20;

    /// <summary>The highest sync drawn.</summary>
    public const int MaxSync = 150;

    /// <summary>What the node's log says when it stops after a storage failure (<c>strata start</c> then exits with 4).</summary>
    public const string StoppedLine = "the node stopped after a storage failure";

    /// <summary>The error a failed fsync reports (EIO).</summary>
    public const string SyncError = "Input/output error";

    /// <summary>The sync of the fault whose plan salt is <paramref name="salt"/>.</summary>
    public static ArmedSyncFailure Of(int salt) => new(new Random(salt).Next(MinSync, MaxSync + 1));

    /// <summary>The environment a node is restarted with to arm this failure (for <see cref="LocalCluster.Start"/>).</summary>
    public IReadOnlyDictionary<string, string> Environment =>
        new Dictionary<string, string> { [PowerLoss.FailSyncVariable] = Sync.ToString(CultureInfo.InvariantCulture) };

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"fsync {Sync}");
}
