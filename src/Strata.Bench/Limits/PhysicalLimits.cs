using System.Globalization;
using System.Text;

namespace Strata.Bench.Limits;

/// <summary>Percentiles of one probe's samples, in microseconds (measured with the high-resolution timestamp, not a histogram).</summary>
public sealed record FloorLatency(int Samples, double MeanUs, double P50Us, double P99Us, double MaxUs)
{
    /// <summary>The summary of <paramref name="microseconds"/> (nearest-rank percentiles). Throws when empty.</summary>
    public static FloorLatency Of(IReadOnlyList<double> microseconds)
    {
        ArgumentNullException.ThrowIfNull(microseconds);
        if (microseconds.Count == 0)
        {
            throw new ArgumentException("no samples", nameof(microseconds));
        }

        double[] sorted = [.. microseconds.Order()];
        return new FloorLatency(sorted.Length, Round(sorted.Average()), Round(Rank(sorted, 0.50)), Round(Rank(sorted, 0.99)), Round(sorted[^1]));
    }

    private static double Rank(double[] sorted, double quantile) => sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static double Round(double value) => Math.Round(value, 2);
}

/// <summary>
/// What this machine physically allows, measured in the same run as a workload (<c>strata bench --limits</c>): the
/// latency floors that no metadata service on it can beat. A durable write costs at least one fsync of a small write
/// on the data disk plus one loopback round trip (the request and its reply); a read costs at least the round trip.
/// </summary>
/// <param name="Directory">Where the fsync and RocksDB probes wrote (the data disk of the run).</param>
/// <param name="Fsync">A 4 KiB write at a page-aligned offset of a preallocated file, then <c>fdatasync</c>.</param>
/// <param name="LoopbackRoundTrip">A 64-byte ping and its 64-byte echo over one TCP connection on 127.0.0.1 (Nagle off).</param>
/// <param name="RocksDbGet">A point get of an existing key (10,000 keys of 128 bytes, just written: memtable and block cache) through Strata's <c>RocksDbEngine</c>.</param>
/// <param name="RocksDbPutSync">A one-key write batch with <c>sync = true</c> (WAL fdatasync) through <c>RocksDbEngine</c>.</param>
/// <param name="RocksDbPutNoSync">A one-key write batch with <c>sync = false</c>.</param>
/// <param name="LoadAverage">The 1-minute load average when the probes ended.</param>
public sealed record PhysicalLimits(
    string Directory,
    FloorLatency Fsync,
    FloorLatency LoopbackRoundTrip,
    FloorLatency RocksDbGet,
    FloorLatency RocksDbPutSync,
    FloorLatency RocksDbPutNoSync,
    double? LoadAverage)
{
    /// <summary>The floor of a durable write: fsync + round trip (p50 with p50, p99 with p99), in microseconds.</summary>
    public (double P50Us, double P99Us) WriteFloor => (Fsync.P50Us + LoopbackRoundTrip.P50Us, Fsync.P99Us + LoopbackRoundTrip.P99Us);

    /// <summary>The floor of a read: one round trip, in microseconds.</summary>
    public (double P50Us, double P99Us) ReadFloor => (LoopbackRoundTrip.P50Us, LoopbackRoundTrip.P99Us);

    /// <summary>
    /// The latencies of <paramref name="result"/> as multiples of the floor of each operation kind: reads (stat, list)
    /// against the round trip, writes (create, rename, conditional update) against fsync + round trip.
    /// </summary>
    public IReadOnlyList<LimitMultiple> Multiples(BenchResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return [.. result.ByOperation.Select(op =>
        {
            bool read = op.Operation is OperationKind.Stat or OperationKind.List;
            (double p50, double p99) = read ? ReadFloor : WriteFloor;
            string floor = read ? "loopback round trip" : "fsync + loopback round trip";
            return new LimitMultiple(op.Operation, floor, Math.Round(p50 / 1000, 4), Math.Round(p99 / 1000, 4), op.Latency.P50Ms, op.Latency.P99Ms,
                Times(op.Latency.P50Ms, p50 / 1000), Times(op.Latency.P99Ms, p99 / 1000));
        })];
    }

    /// <summary>The Markdown section: the probes, then the multiples of <paramref name="multiples"/> when given.</summary>
    public string ToMarkdown(IReadOnlyList<LimitMultiple>? multiples)
    {
        var md = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        md.AppendLine("## Against the machine's limits (measured in this run)");
        md.AppendLine();
        string load = LoadAverage is double l ? string.Create(c, $"; load average {l:0.##} when they ended") : "";
        md.AppendLine(string.Create(c, $"Probes on this machine, files in `{Directory}`{load}:"));
        md.AppendLine();
        md.AppendLine("| probe | samples | p50 µs | p99 µs | mean µs | max µs |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|");
        void Row(string name, FloorLatency f) => md.AppendLine(string.Create(c, $"| {name} | {f.Samples:N0} | {f.P50Us:0.##} | {f.P99Us:0.##} | {f.MeanUs:0.##} | {f.MaxUs:0.##} |"));
        Row("fsync: 4 KiB write + fdatasync", Fsync);
        Row("loopback TCP round trip (64 B)", LoopbackRoundTrip);
        Row("RocksDB get (hot)", RocksDbGet);
        Row("RocksDB put, sync", RocksDbPutSync);
        Row("RocksDB put, no sync", RocksDbPutNoSync);
        if (multiples is { Count: > 0 })
        {
            md.AppendLine();
            md.AppendLine("| operation | floor | floor p50 ms | floor p99 ms | p50 ms | p99 ms | p50 ÷ floor | p99 ÷ floor |");
            md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
            foreach (LimitMultiple m in multiples)
            {
                md.AppendLine(string.Create(c,
                    $"| {BenchReport.Name(m.Operation)} | {m.Floor} | {m.FloorP50Ms:0.####} | {m.FloorP99Ms:0.####} | {m.P50Ms:0.###} | {m.P99Ms:0.###} | {m.P50Multiple:0.#}× | {m.P99Multiple:0.#}× |"));
            }
        }

        return md.ToString();
    }

    private static double Times(double value, double floor) => floor > 0 ? Math.Round(value / floor, 2) : 0;
}

/// <summary>One operation kind's latency as a multiple of its physical floor (p50 over the floor's p50, p99 over its p99).</summary>
public sealed record LimitMultiple(OperationKind Operation, string Floor, double FloorP50Ms, double FloorP99Ms, double P50Ms, double P99Ms, double P50Multiple, double P99Multiple);
