namespace Strata.Bench.Scale;

/// <summary>
/// Everything a scale run measured, written as its JSON results file: the loads (objects, time, rate, the latency of
/// each load transaction, objects per second over time), the uniform point reads at a tenth of the objects and at all
/// of them (each a full <see cref="BenchResult"/>), the ratio of their percentiles, and the bytes on disk at both points.
/// </summary>
public sealed record ScaleResult
{
    /// <summary>Objects loaded in all (N).</summary>
    public required long Objects { get; init; }

    /// <summary>Objects loaded when the first reads ran (N/10).</summary>
    public required long Tenth { get; init; }

    public required int Buckets { get; init; }

    public required int Directories { get; init; }

    /// <summary>Copies of every object the target keeps (1 for one node, the replication factor of a cluster); null when not known (a remote node).</summary>
    public required int? Replicas { get; init; }

    /// <summary>What was measured, as the caller described it.</summary>
    public required string Target { get; init; }

    /// <summary>When the target acknowledges a write.</summary>
    public required string Durability { get; init; }

    public required MachineInfo Machine { get; init; }

    /// <summary>UTC time the load began (ISO 8601).</summary>
    public required string StartedUtc { get; init; }

    /// <summary>The two loads: [0, N/10) and [N/10, N).</summary>
    public required IReadOnlyList<LoadPhase> Loads { get; init; }

    /// <summary>Objects per second over both loads (their time summed, the reads between them not counted).</summary>
    public required double IngestPerSecond { get; init; }

    /// <summary>Failed load transactions by kind (each was retried; none failed every attempt, or the run would have failed).</summary>
    public required IReadOnlyDictionary<string, long> LoadErrorsByKind { get; init; }

    /// <summary>The reads with N/10 objects loaded.</summary>
    public required BenchResult ReadsAtTenth { get; init; }

    /// <summary>The reads with all N objects loaded.</summary>
    public required BenchResult ReadsAtFull { get; init; }

    /// <summary>Read p50 at N ÷ read p50 at N/10.</summary>
    public required double P50Growth { get; init; }

    /// <summary>Read p99 at N ÷ read p99 at N/10: about 1 when reads do not slow down as the data grows.</summary>
    public required double P99Growth { get; init; }

    /// <summary>The data directories after the load of N/10; null when they are not on this machine (a remote node).</summary>
    public DiskUsage? DiskAtTenth { get; init; }

    /// <summary>The data directories after the load of N; null when they are not on this machine.</summary>
    public DiskUsage? DiskAtFull { get; init; }

    /// <summary>Total bytes on disk per object per replica at N; null when not measured.</summary>
    public double? BytesPerObjectPerReplica { get; init; }

    /// <summary>Sorted-table bytes on disk per object per replica at N; null when not measured.</summary>
    public double? TableBytesPerObjectPerReplica { get; init; }
}

/// <summary>
/// One load: objects [<paramref name="From"/>, <paramref name="To"/>) in transactions of up to
/// <see cref="ScaleRun.BatchSize"/> creates, <see cref="BenchOptions.LoadParallelism"/> in flight.
/// </summary>
/// <param name="From">First object index loaded.</param>
/// <param name="To">One past the last object index loaded.</param>
/// <param name="Seconds">Time from the first transaction sent to the last acknowledged.</param>
/// <param name="ObjectsPerSecond">Objects over <paramref name="Seconds"/>.</param>
/// <param name="Transactions">Load transactions committed.</param>
/// <param name="Transaction">Latency of each load transaction (commit acknowledged).</param>
/// <param name="Timeline">Objects per second and transaction p99 per progress interval.</param>
public sealed record LoadPhase(long From, long To, double Seconds, double ObjectsPerSecond, long Transactions, LatencySummary Transaction, IReadOnlyList<TimelineSample> Timeline);
