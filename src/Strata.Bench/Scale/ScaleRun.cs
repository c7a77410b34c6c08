using System.Globalization;
using HdrHistogram;
using Strata.Bench.Targets;
using Strata.Bench.Workloads;

namespace Strata.Bench.Scale;

/// <summary>
/// The scale mode of <c>strata bench</c>: bulk-loads <see cref="BenchOptions.Objects"/> (N) objects in two steps,
/// measuring uniform point reads after each — at N/10 and at N — so the report can say whether reads slow down as
/// the data grows; and measures the ingest rate and the bytes the nodes keep on disk per object per replica.
/// </summary>
/// <remarks>
/// <para>Objects are placed by <see cref="ScaleCatalog"/> (over <see cref="BenchOptions.ScaleBuckets"/> buckets and
/// <see cref="BenchOptions.Directories"/> directories) and written in transactions of <see cref="BatchSize"/> creates
/// of one bucket, <see cref="BenchOptions.LoadParallelism"/> in flight. A transaction that fails is retried (the
/// writes are unconditional, so a retry of one that did commit rewrites the same objects) for up to
/// <see cref="LoadPatience"/>, backing off to one second between tries, as a bulk loader would ride out a leader
/// change; every failure is counted by kind in the result, and the run fails when one batch is still failing after
/// that. The reads use <see cref="BenchRunner"/> with the run's load shape (mode, concurrency, warm-up,
/// duration); a read that finds nothing is a <c>NotFound</c> error, so a lost object shows.</para>
/// <para>One run per instance; not reentrant.</para>
/// </remarks>
public sealed class ScaleRun
{
    /// <summary>Creates per load transaction: Strata's limit of operations in one transaction.</summary>
    public const int BatchSize = 1_000;

    /// <summary>How long one load transaction is retried before the run fails.</summary>
    public static readonly TimeSpan LoadPatience = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan MaxLoadBackoff = TimeSpan.FromSeconds(1);

    private readonly BenchTarget _target;
    private readonly BenchOptions _options;
    private readonly ScaleCatalog _catalog;
    private readonly string _description;
    private readonly string _durability;
    private readonly int? _replicas;
    private readonly Func<DiskUsage>? _measureDisk;
    private readonly IProgress<BenchProgress>? _progress;
    private readonly IProgress<string>? _narration;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, long> _loadErrors = [];

    /// <summary>
    /// A scale run against <paramref name="target"/> in buckets named after <paramref name="bucketPrefix"/>.
    /// <paramref name="replicas"/>: copies the target keeps of each object; <paramref name="measureDisk"/>: measures the
    /// target's data directories (null when they are not on this machine); <paramref name="progress"/> receives load
    /// progress (<see cref="BenchPhase.Preload"/>, the interval's objects/s in <see cref="BenchProgress.IntervalThroughput"/>)
    /// and the reads' progress; <paramref name="narration"/> one line as each step begins.
    /// </summary>
    public ScaleRun(
        BenchTarget target, BenchOptions options, string bucketPrefix, string description, string durability, int? replicas, Func<DiskUsage>? measureDisk,
        IProgress<BenchProgress>? progress = null, IProgress<string>? narration = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Workload != BenchWorkload.Scale)
        {
            throw new ArgumentException($"a scale run needs the scale workload, not {options.Workload}", nameof(options));
        }

        if (replicas is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(replicas), replicas, "a target keeps at least one copy");
        }

        _target = target;
        _options = options;
        _catalog = new ScaleCatalog(bucketPrefix, options.Objects, options.ScaleBuckets, options.Directories);
        _description = description;
        _durability = durability;
        _replicas = replicas;
        _measureDisk = measureDisk;
        _progress = progress;
        _narration = narration;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The placement of the run's objects.</summary>
    public ScaleCatalog Catalog => _catalog;

    /// <summary>Loads, reads, loads, reads; returns everything measured.</summary>
    public async Task<ScaleResult> RunAsync(CancellationToken cancellationToken = default)
    {
        string startedUtc = _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
        foreach (string bucket in _catalog.Buckets)
        {
            await _target.CreateBucketAsync(bucket, cancellationToken).ConfigureAwait(false);
        }

        int all = _options.Objects;
        int tenth = all / 10;
        Say($"loading {tenth:N0} objects (N/10) over {_catalog.Buckets.Count} buckets and {_options.Directories:N0} directories ...");
        LoadPhase first = await LoadAsync(0, tenth, cancellationToken).ConfigureAwait(false);
        DiskUsage? diskAtTenth = _measureDisk?.Invoke();
        Say($"reading uniformly over {tenth:N0} objects ...");
        BenchResult readsAtTenth = await ReadAsync(tenth, new PreloadInfo(tenth, first.Seconds, first.ObjectsPerSecond), cancellationToken).ConfigureAwait(false);

        Say($"loading objects {tenth:N0} to {all:N0} ...");
        LoadPhase second = await LoadAsync(tenth, all, cancellationToken).ConfigureAwait(false);
        DiskUsage? diskAtFull = _measureDisk?.Invoke();
        double loadSeconds = first.Seconds + second.Seconds;
        var both = new PreloadInfo(all, Math.Round(loadSeconds, 3), BenchRunner.Rate(all, loadSeconds));
        Say($"reading uniformly over {all:N0} objects ...");
        BenchResult readsAtFull = await ReadAsync(all, both, cancellationToken).ConfigureAwait(false);

        return new ScaleResult
        {
            Objects = all,
            Tenth = tenth,
            Buckets = _catalog.Buckets.Count,
            Directories = _options.Directories,
            Replicas = _replicas,
            Target = _description,
            Durability = _durability,
            Machine = MachineInfo.Current(),
            StartedUtc = startedUtc,
            Loads = [first, second],
            IngestPerSecond = both.ObjectsPerSecond,
            LoadErrorsByKind = new Dictionary<string, long>(_loadErrors),
            ReadsAtTenth = readsAtTenth,
            ReadsAtFull = readsAtFull,
            P50Growth = Growth(readsAtFull.Latency.P50Ms, readsAtTenth.Latency.P50Ms),
            P99Growth = Growth(readsAtFull.Latency.P99Ms, readsAtTenth.Latency.P99Ms),
            DiskAtTenth = diskAtTenth,
            DiskAtFull = diskAtFull,
            BytesPerObjectPerReplica = _replicas is int r ? diskAtFull?.BytesPerObjectPerReplica(all, r) : null,
            TableBytesPerObjectPerReplica = _replicas is int copies ? diskAtFull?.TableBytesPerObjectPerReplica(all, copies) : null,
        };
    }

    /// <summary>The label of the reads at <paramref name="loaded"/> objects in tables and plot legends.</summary>
    public static string ReadsLabel(long loaded, long all) =>
        string.Create(CultureInfo.InvariantCulture, $"{(loaded == all ? "N" : "N/10")} = {loaded:N0}");

    private async Task<BenchResult> ReadAsync(int loaded, PreloadInfo load, CancellationToken cancellationToken)
    {
        var workload = new ScaleReadsWorkload(_target, _options, _catalog, loaded, load);
        BenchResult result = await new BenchRunner(workload, _options, _progress, _time)
            .RunAsync(string.Join(",", _catalog.Buckets), _description, cancellationToken).ConfigureAwait(false);
        return result with { TargetName = ReadsLabel(loaded, _options.Objects), Durability = _durability };
    }

    private async Task<LoadPhase> LoadAsync(int from, int to, CancellationToken cancellationToken)
    {
        IBenchStore store = _target.StoreOf(0);
        LongHistogram all = LatencySummary.NewHistogram();
        LongHistogram interval = LatencySummary.NewHistogram();
        var gate = new Lock();
        long done = 0, intervalDone = 0, transactions = 0;
        long started = _time.GetTimestamp();
        var timeline = new List<TimelineSample>();
        double lastSample = 0;

        void Sample()
        {
            double now = _time.GetElapsedTime(started).TotalSeconds;
            lock (gate)
            {
                double span = now - lastSample;
                if (span <= 0)
                {
                    return;
                }

                LatencySummary latency = LatencySummary.Of(interval);
                double rate = Math.Round(intervalDone / span, 1);
                timeline.Add(new TimelineSample(Math.Round(now, 3), intervalDone, rate, 0, latency.P50Ms, latency.P99Ms, latency.MaxMs));
                _progress?.Report(new BenchProgress(BenchPhase.Preload, from + done, _options.Objects, TimeSpan.FromSeconds(now), TimeSpan.Zero, rate, latency.P99Ms, 0));
                interval.Reset();
                intervalDone = 0;
                lastSample = now;
            }
        }

        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task sampler = SampleEveryIntervalAsync(Sample, stopSampling.Token);
        try
        {
            await Parallel.ForEachAsync(_catalog.Batches(from, to, BatchSize),
                new ParallelOptions { MaxDegreeOfParallelism = _options.LoadParallelism, CancellationToken = cancellationToken },
                async (batch, token) =>
                {
                    (string Path, Api.V1.ObjectAttributes Attributes)[] entries =
                        [.. batch.Indexes.Select(index => (_catalog.Objects.PathOf(index), ObjectCatalog.Attributes(index)))];
                    long microseconds = await CommitWithRetriesAsync(store, batch.Bucket, entries, token).ConfigureAwait(false);
                    long recorded = Math.Clamp(microseconds, 1, LatencySummary.HighestMicroseconds);
                    lock (gate)
                    {
                        all.RecordValue(recorded);
                        interval.RecordValue(recorded);
                        done += entries.Length;
                        intervalDone += entries.Length;
                        transactions++;
                    }
                }).ConfigureAwait(false);
        }
        finally
        {
            await stopSampling.CancelAsync().ConfigureAwait(false);
            await sampler.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        }

        Sample();
        double seconds = _time.GetElapsedTime(started).TotalSeconds;
        return new LoadPhase(from, to, Math.Round(seconds, 3), BenchRunner.Rate(to - from, seconds), transactions, LatencySummary.Of(all), timeline);
    }

    /// <summary>Commits one batch, retrying failures; returns the latency of the attempt that committed, in microseconds.</summary>
    private async Task<long> CommitWithRetriesAsync(IBenchStore store, string bucket, (string Path, Api.V1.ObjectAttributes Attributes)[] entries, CancellationToken cancellationToken)
    {
        long first = _time.GetTimestamp();
        for (int attempt = 1; ; attempt++)
        {
            long started = _time.GetTimestamp();
            try
            {
                await store.LoadAsync(bucket, entries, cancellationToken).ConfigureAwait(false);
                return (long)_time.GetElapsedTime(started).TotalMicroseconds;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                string kind = BenchRunner.ErrorKindOf(e);
                lock (_loadErrors)
                {
                    _loadErrors[kind] = _loadErrors.GetValueOrDefault(kind) + 1;
                }

                if (_time.GetElapsedTime(first) >= LoadPatience)
                {
                    throw new InvalidOperationException(
                        $"a load transaction of {entries.Length} objects in bucket '{bucket}' (from '{entries[0].Path}') still failed after {attempt} tries over {LoadPatience.TotalSeconds:0} s; last: {e.Message}", e);
                }

                TimeSpan backoff = TimeSpan.FromMilliseconds(Math.Min(MaxLoadBackoff.TotalMilliseconds, 100 * attempt));
                await Task.Delay(backoff, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task SampleEveryIntervalAsync(Action sample, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_options.ProgressInterval, _time, cancellationToken).ConfigureAwait(false);
                sample();
            }
        }
        catch (OperationCanceledException)
        {
            // The load finished.
        }
    }

    private void Say(FormattableString text) => _narration?.Report(text.ToString(CultureInfo.InvariantCulture));

    private static double Growth(double value, double baseline) => baseline > 0 ? Math.Round(value / baseline, 3) : 0;
}
