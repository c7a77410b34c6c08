namespace Strata.Bench;

/// <summary>
/// Everything a bench run measured, written as the JSON results file. Latencies are in milliseconds; rates per
/// second of measured time. Operations = successes + conflicts + errors, overall and per operation kind.
/// </summary>
public sealed record BenchResult
{
    public required BenchWorkload Workload { get; init; }

    public required LoadMode Mode { get; init; }

    /// <summary>The settings of the run.</summary>
    public required BenchOptions Options { get; init; }

    /// <summary>The bucket the run used.</summary>
    public required string Bucket { get; init; }

    /// <summary>What was measured: the node's address and how it was started (told by the caller).</summary>
    public required string Target { get; init; }

    /// <summary>The target's short name in side-by-side tables (<c>strata</c>, <c>etcd</c>, ...), when the caller said.</summary>
    public string? TargetName { get; init; }

    /// <summary>When the target acknowledges a write (fsync policy, replication), when the caller said.</summary>
    public string? Durability { get; init; }

    /// <summary>The machine's 1-minute load average when the measured window ended (Linux; null elsewhere): how crowded the cores were.</summary>
    public double? LoadAverage { get; init; }

    /// <summary>UTC time the measured load began (ISO 8601).</summary>
    public required string StartedUtc { get; init; }

    public required MachineInfo Machine { get; init; }

    /// <summary>Objects written before the run (not measured).</summary>
    public required PreloadInfo Preload { get; init; }

    /// <summary>Operations completed during the warm-up (not in any other figure).</summary>
    public required long WarmupOperations { get; init; }

    /// <summary>Length of the measured window, seconds (the configured duration).</summary>
    public required double MeasuredSeconds { get; init; }

    /// <summary>Seconds from the start of the window until the last measured operation completed.</summary>
    public required double ElapsedSeconds { get; init; }

    public required long Operations { get; init; }

    public required long Successes { get; init; }

    /// <summary>Conditional updates that lost their race (FAILED_PRECONDITION): an expected outcome, not an error.</summary>
    public required long Conflicts { get; init; }

    public required long Errors { get; init; }

    /// <summary>Operations per second of measured time.</summary>
    public required double Throughput { get; init; }

    /// <summary>Latency of every measured operation, whatever its outcome.</summary>
    public required LatencySummary Latency { get; init; }

    /// <summary>
    /// The percentile distribution of <see cref="Latency"/> (HdrHistogram's percentile iteration, the maximum at "1 in
    /// count"): the data of the latency CDF plot. Empty when nothing was measured.
    /// </summary>
    public IReadOnlyList<Plots.PercentilePoint> LatencyDistribution { get; init; } = [];

    public required IReadOnlyList<OperationResult> ByOperation { get; init; }

    /// <summary>Errors by gRPC status (or exception type when the call did not get a status).</summary>
    public required IReadOnlyDictionary<string, long> ErrorsByKind { get; init; }

    /// <summary>Workload (e) and any run with conditional updates.</summary>
    public OccResult? Occ { get; init; }

    /// <summary>Open loop only.</summary>
    public OpenLoopResult? OpenLoop { get; init; }

    /// <summary>One sample per progress interval of the measured window.</summary>
    public required IReadOnlyList<TimelineSample> Timeline { get; init; }

    /// <summary>Directory listing (d): pages and entries listed.</summary>
    public ListingResult? Listing { get; init; }

    /// <summary>Directory rename (f): one row per directory size, ascending; null when the workload does not report sizes.</summary>
    public IReadOnlyList<DirectorySizeResult>? BySize { get; init; }

    /// <summary>The machine's physical limits measured in the same run (<c>--limits</c>), when they were.</summary>
    public Limits.PhysicalLimits? Limits { get; init; }

    /// <summary>This run's latencies as multiples of the limits (one row per operation kind), when they were measured.</summary>
    public IReadOnlyList<Limits.LimitMultiple>? AgainstLimits { get; init; }
}

/// <summary>
/// Directory listing (d): the directory's size, the page size, successful pages (each checked to be full and in place)
/// and the entries they listed, per second of measured time.
/// </summary>
public sealed record ListingResult(long DirectoryEntries, int PageSize, long Pages, long Entries, double EntriesPerSecond);

/// <summary>
/// Directory rename (f): the renames of the directory holding <see cref="Entries"/> entries, and their p50 and p99 as
/// multiples of those of the smallest directory (≈ 1 when the rename's cost does not depend on the size).
/// </summary>
public sealed record DirectorySizeResult(long Entries, long Operations, long Successes, long Errors, double Throughput, LatencySummary Latency, double P50VsSmallest, double P99VsSmallest)
{
    /// <summary>The rows of the recorder's directory sizes (ascending); null when none was recorded.</summary>
    public static IReadOnlyList<DirectorySizeResult>? Of(IReadOnlyList<(long Entries, HdrHistogram.HistogramBase Latency, long Successes, long Conflicts, long Errors)> sizes, double seconds)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Count == 0)
        {
            return null;
        }

        LatencySummary smallest = LatencySummary.Of(sizes[0].Latency);
        return [.. sizes.Select(s =>
        {
            LatencySummary latency = LatencySummary.Of(s.Latency);
            long operations = s.Successes + s.Conflicts + s.Errors;
            return new DirectorySizeResult(s.Entries, operations, s.Successes, s.Errors, seconds > 0 ? Math.Round(operations / seconds, 1) : 0, latency,
                Multiple(latency.P50Ms, smallest.P50Ms), Multiple(latency.P99Ms, smallest.P99Ms));
        })];
    }

    private static double Multiple(double value, double baseline) => baseline > 0 ? Math.Round(value / baseline, 3) : 0;
}

/// <summary>Counts and latency of one operation kind.</summary>
public sealed record OperationResult(OperationKind Operation, long Operations, long Successes, long Conflicts, long Errors, double Throughput, LatencySummary Latency);

/// <summary>
/// Conditional updates: attempts, commits, conflicts, goodput (commits per second) and the number of objects the
/// updates were spread over (the hot objects of workload e, the preloaded objects of the viral mix).
/// </summary>
public sealed record OccResult(long Attempts, long Commits, long Conflicts, long Errors, double ConflictRatio, double GoodputPerSecond, int Objects);

/// <summary>
/// The offered rate; the achieved rate (measured operations over the longer of the window and the time until the last
/// of them completed, so a node that cannot keep up shows a lower figure); and how late operations started relative
/// to their schedule (the generator's own lag, included in the latencies).
/// </summary>
public sealed record OpenLoopResult(double TargetRate, double AchievedRate, LatencySummary StartLag);

/// <summary>One interval of the measured window: completions and their latencies.</summary>
public sealed record TimelineSample(double EndSecond, long Operations, double OperationsPerSecond, long Errors, double P50Ms, double P99Ms, double MaxMs);

/// <summary>Preloaded objects and how fast they loaded.</summary>
public sealed record PreloadInfo(long Objects, double Seconds, double ObjectsPerSecond);

/// <summary>The machine the load generator ran on.</summary>
public sealed record MachineInfo(string MachineName, int ProcessorCount, string OperatingSystem, string Runtime)
{
    /// <summary>The 1-minute load average from /proc/loadavg, or null where there is none.</summary>
    public static double? LoadAverageNow()
    {
        try
        {
            string text = File.ReadAllText("/proc/loadavg");
            return double.TryParse(text.Split(' ')[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double load) ? load : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>This process's machine.</summary>
    public static MachineInfo Current() => new(
        Environment.MachineName,
        Environment.ProcessorCount,
        System.Runtime.InteropServices.RuntimeInformation.OSDescription,
        System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription);
}
