using System.Globalization;
using Grpc.Core;
using HdrHistogram;
using Strata.Bench.Targets;
using Strata.Bench.Workloads;
using Strata.Client;

namespace Strata.Bench;

/// <summary>
/// Drives a workload: prepares it, runs its workers in the closed or open loop through warm-up and the measured
/// window, samples progress and the timeline, and summarises everything into a <see cref="BenchResult"/>.
/// </summary>
/// <remarks>
/// <para><b>Closed loop.</b> Each of <see cref="BenchOptions.Concurrency"/> workers issues its next operation when the
/// previous one completes; latency runs from the actual start. Operations that start in the warm-up are counted but
/// not recorded; operations that start inside the measured window are recorded, even if they complete after it.</para>
/// <para><b>Open loop.</b> An <see cref="OpenLoopSchedule"/> at <see cref="BenchOptions.Rate"/> fixes every
/// operation's intended start; worker w issues operations w, w+W, ... each at (never before) its intended start, and
/// latency runs from the intended start. A worker that falls behind starts late and the delay shows in the latency —
/// the queueing a real client would see — and in <see cref="OpenLoopResult.StartLag"/>.</para>
/// <para>Errors: a <see cref="BenchOperationException"/> counts under its kind, or as a conflict when it says so (a
/// conditional update that lost its compare-and-swap); a <see cref="StrataException"/> or a peer's
/// <see cref="RpcException"/> counts under its status code (FAILED_PRECONDITION of a conditional update is a
/// conflict); any other exception counts under its type name. Cancellation through the caller's token
/// stops the run and throws <see cref="OperationCanceledException"/>.</para>
/// <para>One run per instance; <see cref="RunAsync"/> is not reentrant.</para>
/// </remarks>
public sealed class BenchRunner
{
    private readonly IWorkload _workload;
    private readonly BenchOptions _options;
    private readonly TimeProvider _time;
    private readonly IProgress<BenchProgress>? _progress;
    private readonly LatencyRecorder _recorder = new();

    /// <summary>A runner of <paramref name="workload"/> with <paramref name="options"/> (its load shape: mode, duration, concurrency...).</summary>
    public BenchRunner(IWorkload workload, BenchOptions options, IProgress<BenchProgress>? progress = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _workload = workload;
        _options = options;
        _progress = progress;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Runs the whole benchmark. <paramref name="bucket"/> and <paramref name="target"/> are written into the result.</summary>
    public async Task<BenchResult> RunAsync(string bucket, string target, CancellationToken cancellationToken = default)
    {
        PreloadInfo preload = await _workload.PrepareAsync(_progress, cancellationToken).ConfigureAwait(false);
        IWorkloadWorker[] workers = [.. Enumerable.Range(0, _options.Concurrency).Select(_workload.CreateWorker)];
        foreach (IWorkloadWorker worker in workers)
        {
            await worker.InitializeAsync(cancellationToken).ConfigureAwait(false);
        }

        long frequency = _time.TimestampFrequency;
        long start = _time.GetTimestamp();
        long measureStart = start + ToTicks(_options.Warmup, frequency);
        long end = measureStart + ToTicks(_options.Duration, frequency);
        string startedUtc = _time.GetUtcNow().Add(_options.Warmup).ToString("O", CultureInfo.InvariantCulture);
        var window = new Window(start, measureStart, end);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        OpenLoopSchedule? schedule = _options.Mode == LoadMode.Open ? new OpenLoopSchedule(start, _options.Rate, frequency) : null;
        Task[] running = [.. workers.Select((worker, index) => schedule is null
            ? ClosedLoopAsync(worker, window, stop.Token)
            : OpenLoopAsync(worker, index, schedule, window, stop.Token))];
        Task all = Task.WhenAll(running);
        var timeline = new List<TimelineSample>();
        try
        {
            await SampleUntilDoneAsync(all, window, timeline, stop.Token).ConfigureAwait(false);
            await all.ConfigureAwait(false);
        }
        catch
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(running.Select(t => t.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)))
                .ConfigureAwait(false);
            throw;
        }

        HarvestInto(timeline, window, _time.GetTimestamp());
        return Summarise(bucket, target, startedUtc, preload, window, timeline);
    }

    private async Task ClosedLoopAsync(IWorkloadWorker worker, Window window, CancellationToken cancellationToken)
    {
        await Task.Yield();
        while (true)
        {
            long started = _time.GetTimestamp();
            if (started >= window.End)
            {
                return;
            }

            await IssueAsync(worker, started, started >= window.MeasureStart, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task OpenLoopAsync(IWorkloadWorker worker, int index, OpenLoopSchedule schedule, Window window, CancellationToken cancellationToken)
    {
        await Task.Yield();
        long count = schedule.FirstDueAtOrAfter(window.End);
        foreach (long operation in OpenLoopSchedule.OperationsOf(index, _options.Concurrency, count))
        {
            long intended = schedule.IntendedStart(operation);
            long now = _time.GetTimestamp();
            if (intended > now)
            {
                await Task.Delay(_time.GetElapsedTime(now, intended), _time, cancellationToken).ConfigureAwait(false);
            }

            bool measured = intended >= window.MeasureStart;
            if (measured)
            {
                _recorder.RecordStartLag(schedule.LatencyMicroseconds(intended, _time.GetTimestamp()));
            }

            await IssueAsync(worker, intended, measured, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Issues one operation and records it with latency from <paramref name="latencyFrom"/>.</summary>
    private async Task IssueAsync(IWorkloadWorker worker, long latencyFrom, bool measured, CancellationToken cancellationToken)
    {
        OperationKind kind = worker.NextOperation();
        long? directorySize = worker.DirectorySize;
        OperationOutcome outcome = OperationOutcome.Success;
        string? errorKind = null;
        try
        {
            await worker.ExecuteAsync(kind, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (BenchOperationException e) when (e.IsConflict && kind == OperationKind.ConditionalUpdate)
        {
            outcome = OperationOutcome.Conflict;
        }
        catch (BenchOperationException e)
        {
            outcome = OperationOutcome.Error;
            errorKind = e.Kind;
        }
        catch (StrataException e) when (kind == OperationKind.ConditionalUpdate && e.StatusCode == StatusCode.FailedPrecondition)
        {
            outcome = OperationOutcome.Conflict;
        }
        catch (Exception e)
        {
            outcome = OperationOutcome.Error;
            errorKind = ErrorKindOf(e);
        }

        long completed = _time.GetTimestamp();
        if (measured)
        {
            long microseconds = OpenLoopSchedule.TicksToMicroseconds(completed - latencyFrom, _time.TimestampFrequency);
            _recorder.Record(kind, outcome, microseconds, errorKind, completed);
            if (directorySize is long entries)
            {
                _recorder.RecordDirectorySize(entries, outcome, microseconds);
            }
        }
        else
        {
            _recorder.RecordWarmup();
        }
    }

    private async Task SampleUntilDoneAsync(Task workers, Window window, List<TimelineSample> timeline, CancellationToken cancellationToken)
    {
        long interval = Math.Max(1, ToTicks(_options.ProgressInterval, _time.TimestampFrequency));
        while (!workers.IsCompleted)
        {
            long due = NextTick(_time.GetTimestamp(), window, interval);
            Task tick = Task.Delay(_time.GetElapsedTime(_time.GetTimestamp(), due), _time, cancellationToken);
            await Task.WhenAny(workers, tick).ConfigureAwait(false);
            if (workers.IsCompleted)
            {
                return;
            }

            long now = _time.GetTimestamp();
            if (now < window.MeasureStart)
            {
                _progress?.Report(new BenchProgress(BenchPhase.Warmup, _recorder.WarmupOperations, 0,
                    _time.GetElapsedTime(window.Start, now), _options.Warmup, 0, 0, 0));
                continue;
            }

            TimelineSample sample = HarvestInto(timeline, window, now);
            _progress?.Report(new BenchProgress(BenchPhase.Measure, _recorder.TotalLatency.TotalCount, 0,
                _time.GetElapsedTime(window.MeasureStart, now), _options.Duration, sample.OperationsPerSecond, sample.P99Ms, _recorder.ErrorCount));
        }
    }

    /// <summary>
    /// The next sampling time: every interval from the start during the warm-up, then every interval from the start
    /// of the measured window, so each timeline sample covers a whole interval.
    /// </summary>
    private static long NextTick(long now, Window window, long interval)
    {
        if (now < window.MeasureStart)
        {
            long warmupTick = window.Start + ((((now - window.Start) / interval) + 1) * interval);
            if (warmupTick < window.MeasureStart)
            {
                return warmupTick;
            }

            now = window.MeasureStart;
        }

        return window.MeasureStart + ((((now - window.MeasureStart) / interval) + 1) * interval);
    }

    private TimelineSample HarvestInto(List<TimelineSample> timeline, Window window, long now)
    {
        long errorsBefore = timeline.Sum(s => s.Errors);
        HistogramBase interval = _recorder.Harvest();
        double endSecond = Math.Max(0, _time.GetElapsedTime(window.MeasureStart, now).TotalSeconds);
        double previousEnd = timeline.Count == 0 ? 0 : timeline[^1].EndSecond;
        double span = endSecond - previousEnd;
        LatencySummary latency = LatencySummary.Of(interval);
        var sample = new TimelineSample(
            Math.Round(endSecond, 3),
            interval.TotalCount,
            span > 0 ? Math.Round(interval.TotalCount / span, 1) : 0,
            _recorder.ErrorCount - errorsBefore,
            latency.P50Ms,
            latency.P99Ms,
            latency.MaxMs);
        if (interval.TotalCount > 0 || span > 0)
        {
            timeline.Add(sample);
        }

        return sample;
    }

    private BenchResult Summarise(string bucket, string target, string startedUtc, PreloadInfo preload, Window window, List<TimelineSample> timeline)
    {
        double seconds = _options.Duration.TotalSeconds;
        long last = _recorder.LastCompleted;
        double elapsed = last > window.MeasureStart ? _time.GetElapsedTime(window.MeasureStart, last).TotalSeconds : 0;
        var byOperation = new List<OperationResult>();
        foreach (OperationKind kind in Enum.GetValues<OperationKind>())
        {
            long successes = _recorder.Count(kind, OperationOutcome.Success);
            long conflicts = _recorder.Count(kind, OperationOutcome.Conflict);
            long errors = _recorder.Count(kind, OperationOutcome.Error);
            long operations = successes + conflicts + errors;
            if (operations > 0)
            {
                byOperation.Add(new OperationResult(kind, operations, successes, conflicts, errors, Rate(operations, seconds),
                    LatencySummary.Of(_recorder.TotalLatencyOf(kind))));
            }
        }

        long allSuccesses = _recorder.Count(OperationOutcome.Success);
        long allConflicts = _recorder.Count(OperationOutcome.Conflict);
        long allErrors = _recorder.Count(OperationOutcome.Error);
        long total = allSuccesses + allConflicts + allErrors;
        OccResult? occ = null;
        if (byOperation.FirstOrDefault(o => o.Operation == OperationKind.ConditionalUpdate) is { } updates)
        {
            occ = new OccResult(updates.Operations, updates.Successes, updates.Conflicts, updates.Errors,
                updates.Operations == 0 ? 0 : Math.Round(updates.Conflicts / (double)updates.Operations, 4),
                Rate(updates.Successes, seconds),
                _options.Workload == BenchWorkload.OccContention ? _options.HotObjects : _options.Objects);
        }

        ListingResult? listing = null;
        if (_workload.Kind == BenchWorkload.DirectoryListing && byOperation.FirstOrDefault(o => o.Operation == OperationKind.List) is { } pages)
        {
            // Every successful page was checked to hold exactly the page size of entries.
            long entries = pages.Successes * _options.PageSize;
            listing = new ListingResult(_options.DirectoryEntries, _options.PageSize, pages.Successes, entries, Rate(entries, seconds));
        }

        return new BenchResult
        {
            Workload = _workload.Kind,
            Mode = _options.Mode,
            Options = _options,
            Bucket = bucket,
            Target = target,
            StartedUtc = startedUtc,
            Machine = MachineInfo.Current(),
            LoadAverage = MachineInfo.LoadAverageNow(),
            Preload = preload,
            WarmupOperations = _recorder.WarmupOperations,
            MeasuredSeconds = seconds,
            ElapsedSeconds = Math.Round(elapsed, 3),
            Operations = total,
            Successes = allSuccesses,
            Conflicts = allConflicts,
            Errors = allErrors,
            Throughput = Rate(total, seconds),
            Latency = LatencySummary.Of(_recorder.TotalLatency),
            LatencyDistribution = Plots.PercentilePoint.Distribution(_recorder.TotalLatency),
            ByOperation = byOperation,
            ErrorsByKind = _recorder.ErrorsByKind(),
            Occ = occ,
            OpenLoop = _options.Mode == LoadMode.Open
                ? new OpenLoopResult(_options.Rate, Rate(total, Math.Max(seconds, elapsed)), LatencySummary.Of(_recorder.TotalStartLag))
                : null,
            Timeline = timeline,
            Listing = listing,
            BySize = DirectorySizeResult.Of(_recorder.DirectorySizes(), seconds),
        };
    }

    /// <summary>
    /// The kind a failed call is counted under: its gRPC status for Strata's client and for a peer's gRPC client (etcd),
    /// else the exception's type name.
    /// </summary>
    internal static string ErrorKindOf(Exception e) => e switch
    {
        StrataException s => s.StatusCode.ToString(),
        RpcException r => r.StatusCode.ToString(),
        _ => e.GetType().Name,
    };

    /// <summary>Events per second, to one decimal; 0 over no time.</summary>
    internal static double Rate(long count, double seconds) => seconds > 0 ? Math.Round(count / seconds, 1) : 0;

    private static long ToTicks(TimeSpan span, long frequency) => (long)(span.TotalSeconds * frequency);

    private readonly record struct Window(long Start, long MeasureStart, long End);
}
