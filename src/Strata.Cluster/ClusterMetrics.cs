using System.Diagnostics.Metrics;

namespace Strata.Cluster;

/// <summary>
/// The OpenTelemetry instruments of one <see cref="ClusterNode"/> (meter <c>Strata.Cluster</c>, every measurement
/// tagged with the node id): proposals, commit latency, leader changes, lease reads against ReadIndex reads, and the
/// apply lag of every hosted shard. Recording costs nothing while no exporter listens.
/// </summary>
public sealed class ClusterMetrics : IDisposable
{
    /// <summary>The meter's name, for exporters to subscribe to.</summary>
    public const string MeterName = "Strata.Cluster";

    private readonly Meter _meter;
    private readonly KeyValuePair<string, object?> _node;

    internal ClusterMetrics(ClusterNode node)
    {
        _meter = new Meter(MeterName);
        _node = new("strata.node", (long)node.NodeId);
        Proposals = _meter.CreateCounter<long>("strata.proposals", unit: "{proposal}",
            description: "Commands this node proposed to its shards (client mutations)");
        CommitLatency = _meter.CreateHistogram<double>("strata.commit.duration", unit: "ms",
            description: "From proposal to application on this node (durable on a majority): the write latency Raft adds");
        LeaderChanges = _meter.CreateCounter<long>("strata.leader.changes", unit: "{change}",
            description: "Times a hosted shard's leader changed as seen by this node");
        _meter.CreateObservableCounter("strata.reads.lease", () => new Measurement<long>(node.LeaseReads, _node), unit: "{read}",
            description: "Linearizable reads served from the leader's lease (no consensus round)");
        _meter.CreateObservableCounter("strata.reads.read_index", () => new Measurement<long>(node.ReadIndexReads, _node), unit: "{read}",
            description: "Linearizable reads served after a ReadIndex round");
        _meter.CreateObservableGauge("strata.apply.lag", () => node.ApplyLag().Select(lag =>
            new Measurement<long>((long)lag.Lag, _node, new("strata.shard", (long)lag.ShardId))), unit: "{entry}",
            description: "Committed entries of each hosted shard this node has not applied yet");
    }

    public Counter<long> Proposals { get; }

    public Histogram<double> CommitLatency { get; }

    public Counter<long> LeaderChanges { get; }

    public KeyValuePair<string, object?> NodeTag => _node;

    public void Dispose() => _meter.Dispose();
}
