using System.Diagnostics.Metrics;

namespace Strata.Replication;

/// <summary>
/// The replication host's OpenTelemetry instruments (meter <c>Strata.Replication</c>). Recording costs nothing
/// while no listener (exporter) is attached.
/// </summary>
public static class ReplicationMetrics
{
    /// <summary>The meter's name, for exporters to subscribe to.</summary>
    public const string MeterName = "Strata.Replication";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Duration of one group-commit write (all groups' Ready, one fsync), in milliseconds.</summary>
    internal static readonly Histogram<double> FsyncDuration = Meter.CreateHistogram<double>(
        "strata.raft.fsync.duration", unit: "ms", description: "Duration of one group-commit write of the Raft log (one fsync for every group of the node)");

    /// <summary>Groups persisted per group-commit write.</summary>
    internal static readonly Histogram<int> GroupsPerFsync = Meter.CreateHistogram<int>(
        "strata.raft.fsync.groups", unit: "{group}", description: "Raft groups whose Ready one group-commit write persisted");
}
