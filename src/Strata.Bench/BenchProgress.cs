namespace Strata.Bench;

/// <summary>Where a run is.</summary>
public enum BenchPhase
{
    /// <summary>Writing the objects the workload reads (not measured).</summary>
    Preload,

    /// <summary>Load runs, nothing is recorded.</summary>
    Warmup,

    /// <summary>Load runs and every operation is recorded.</summary>
    Measure,
}

/// <summary>
/// A progress report, sent once per <see cref="BenchOptions.ProgressInterval"/> (and during preload every batch).
/// </summary>
/// <param name="Phase">Where the run is.</param>
/// <param name="Done">Preload: objects written. Warm-up and measure: operations completed in the phase so far.</param>
/// <param name="Total">Preload: objects to write; otherwise 0.</param>
/// <param name="Elapsed">Time in the phase.</param>
/// <param name="Length">The phase's length (zero for preload).</param>
/// <param name="IntervalThroughput">Measure: operations per second over the last interval.</param>
/// <param name="IntervalP99Ms">Measure: p99 latency of the last interval.</param>
/// <param name="Errors">Measure: errors so far.</param>
public sealed record BenchProgress(BenchPhase Phase, long Done, long Total, TimeSpan Elapsed, TimeSpan Length, double IntervalThroughput, double IntervalP99Ms, long Errors);
