using System.Collections.Concurrent;
using HdrHistogram;

namespace Strata.Bench;

/// <summary>
/// Records measured operations from many workers and hands their histograms, interval by interval, to one reader.
/// </summary>
/// <remarks>
/// <para>Writers (<see cref="Record"/>, <see cref="RecordWarmup"/>, <see cref="RecordStartLag"/>) may be called
/// concurrently from any thread: they write concurrent histograms (<see cref="LongConcurrentHistogram"/>) behind an
/// HdrHistogram <see cref="Recorder"/>, which swaps them for the reader without losing a value, and use
/// interlocked counters. <see cref="Harvest"/> and the totals are for one reader at a time (the runner's sampling
/// loop, then the final report).</para>
/// <para>Latencies are microseconds, clamped to [1, <see cref="LatencySummary.HighestMicroseconds"/>].</para>
/// </remarks>
public sealed class LatencyRecorder
{
    private static readonly int KindCount = Enum.GetValues<OperationKind>().Length;

    private readonly Recorder _all = NewRecorder();
    private readonly Recorder[] _byKind = [.. Enumerable.Range(0, KindCount).Select(_ => NewRecorder())];
    private readonly Recorder _startLag = NewRecorder();
    private readonly long[] _counts = new long[KindCount * 3];
    private readonly ConcurrentDictionary<string, long> _errorsByKind = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, SizeRecord> _bySize = new();
    private readonly LongHistogram _totalAll = LatencySummary.NewHistogram();
    private readonly LongHistogram[] _totalByKind = [.. Enumerable.Range(0, KindCount).Select(_ => LatencySummary.NewHistogram())];
    private readonly LongHistogram _totalStartLag = LatencySummary.NewHistogram();
    private long _warmup;
    private long _errors;
    private long _lastCompleted;

    /// <summary>Records a measured operation.</summary>
    /// <param name="kind">What the operation was.</param>
    /// <param name="outcome">How it ended.</param>
    /// <param name="microseconds">Its latency.</param>
    /// <param name="errorKind">The error's kind (a gRPC status name) when <paramref name="outcome"/> is an error.</param>
    /// <param name="completed">Completion timestamp, to know when the last measured operation ended.</param>
    public void Record(OperationKind kind, OperationOutcome outcome, long microseconds, string? errorKind = null, long completed = 0)
    {
        long value = Math.Clamp(microseconds, 1, LatencySummary.HighestMicroseconds);
        _all.RecordValue(value);
        _byKind[(int)kind].RecordValue(value);
        Interlocked.Increment(ref _counts[((int)kind * 3) + (int)outcome]);
        if (outcome == OperationOutcome.Error)
        {
            Interlocked.Increment(ref _errors);
            _errorsByKind.AddOrUpdate(errorKind ?? "Unknown", 1, (_, n) => n + 1);
        }

        long last = Volatile.Read(ref _lastCompleted);
        while (completed > last)
        {
            long seen = Interlocked.CompareExchange(ref _lastCompleted, completed, last);
            if (seen == last)
            {
                break;
            }

            last = seen;
        }
    }

    /// <summary>
    /// Also records a measured operation under the size of the directory it worked on (the directory rename reports
    /// latency per size). Call it besides <see cref="Record"/>, with the same latency.
    /// </summary>
    public void RecordDirectorySize(long entries, OperationOutcome outcome, long microseconds)
    {
        SizeRecord record = _bySize.GetOrAdd(entries, _ => new SizeRecord());
        record.Latency.RecordValue(Math.Clamp(microseconds, 1, LatencySummary.HighestMicroseconds));
        Interlocked.Increment(ref record.Counts[(int)outcome]);
    }

    /// <summary>The directory sizes recorded by <see cref="RecordDirectorySize"/>, ascending, with their latencies and counts by outcome.</summary>
    public IReadOnlyList<(long Entries, HistogramBase Latency, long Successes, long Conflicts, long Errors)> DirectorySizes() =>
        [.. _bySize.OrderBy(p => p.Key).Select(p => (p.Key, (HistogramBase)p.Value.Latency,
            Volatile.Read(ref p.Value.Counts[0]), Volatile.Read(ref p.Value.Counts[1]), Volatile.Read(ref p.Value.Counts[2])))];

    /// <summary>Counts an operation completed during the warm-up (nothing else is recorded for it).</summary>
    public void RecordWarmup() => Interlocked.Increment(ref _warmup);

    /// <summary>Open loop: how late (µs) a measured operation started relative to its intended start.</summary>
    public void RecordStartLag(long microseconds) => _startLag.RecordValue(Math.Clamp(microseconds, 1, LatencySummary.HighestMicroseconds));

    /// <summary>Operations completed during the warm-up.</summary>
    public long WarmupOperations => Volatile.Read(ref _warmup);

    /// <summary>Measured errors so far (all kinds).</summary>
    public long ErrorCount => Volatile.Read(ref _errors);

    /// <summary>Completion timestamp of the last measured operation (0 when none).</summary>
    public long LastCompleted => Volatile.Read(ref _lastCompleted);

    /// <summary>
    /// Moves everything recorded since the previous harvest into the totals and returns the interval's histogram of
    /// all operations. One reader at a time.
    /// </summary>
    public HistogramBase Harvest()
    {
        HistogramBase interval = _all.GetIntervalHistogram();
        _totalAll.Add(interval);
        for (int i = 0; i < KindCount; i++)
        {
            _totalByKind[i].Add(_byKind[i].GetIntervalHistogram());
        }

        _totalStartLag.Add(_startLag.GetIntervalHistogram());
        return interval;
    }

    /// <summary>Harvested latencies of every operation.</summary>
    public HistogramBase TotalLatency => _totalAll;

    /// <summary>Harvested latencies of <paramref name="kind"/>.</summary>
    public HistogramBase TotalLatencyOf(OperationKind kind) => _totalByKind[(int)kind];

    /// <summary>Harvested open-loop start lags.</summary>
    public HistogramBase TotalStartLag => _totalStartLag;

    /// <summary>Measured operations of <paramref name="kind"/> that ended with <paramref name="outcome"/>.</summary>
    public long Count(OperationKind kind, OperationOutcome outcome) => Volatile.Read(ref _counts[((int)kind * 3) + (int)outcome]);

    /// <summary>Measured operations that ended with <paramref name="outcome"/>, all kinds.</summary>
    public long Count(OperationOutcome outcome) => Enum.GetValues<OperationKind>().Sum(kind => Count(kind, outcome));

    /// <summary>Errors by kind, sorted by name.</summary>
    public IReadOnlyDictionary<string, long> ErrorsByKind() =>
        new SortedDictionary<string, long>(_errorsByKind.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal), StringComparer.Ordinal);

    private sealed class SizeRecord
    {
        public LongConcurrentHistogram Latency { get; } = new(1, LatencySummary.HighestMicroseconds, LatencySummary.SignificantDigits);

        // Indexed by OperationOutcome.
        public long[] Counts { get; } = new long[3];
    }

    private static Recorder NewRecorder() => new(
        1,
        LatencySummary.HighestMicroseconds,
        LatencySummary.SignificantDigits,
        (id, lowest, highest, digits) => new LongConcurrentHistogram(id, lowest, highest, digits));
}
