using Grpc.Core;
using Strata.Bench.Workloads;
using Strata.Client;

namespace Strata.Bench.Tests;

/// <summary>The runner over a scripted workload (no node): counts, outcomes and the open-loop schedule, never speed.</summary>
public sealed class BenchRunnerTests
{
    [Fact]
    public async Task Closed_loop_counts_every_outcome_once()
    {
        // Every operation takes exactly 1 ms of a clock only operations move: the window holds 300 operations however
        // slow or busy the machine (a wall-clock window once saw none on a loaded CI machine).
        var clock = new ManualClock(frequency: 1_000_000, start: 0);
        // Past 250 ms the workers wait for the sampler (on real time) to report the measure phase once.
        var reports = new ReportLog();
        var workload = new ScriptedWorkload
        {
            Pace = async () =>
            {
                clock.Advance(TimeSpan.FromMilliseconds(1));
                if (clock.GetTimestamp() >= 250_000)
                {
                    await reports.MeasureReported.WaitAsync(TimeSpan.FromSeconds(60));
                }
            },
        };
        var options = new BenchOptions
        {
            Concurrency = 3,
            Duration = TimeSpan.FromMilliseconds(300),
            Warmup = TimeSpan.FromMilliseconds(100),
            ProgressInterval = TimeSpan.FromMilliseconds(50),
        };

        BenchResult result = await new BenchRunner(workload, options, reports, clock).RunAsync("bucket", "scripted");

        // A worker stops when it reads a time at or past the end; up to two others may have read the same time.
        Assert.InRange(workload.Issued, 400, 402);
        Assert.InRange(result.Operations, 298, 302);
        Assert.Equal(result.Operations, result.Successes + result.Conflicts + result.Errors);
        Assert.Equal(result.Operations, result.Latency.Count);
        Assert.Equal(result.Operations, result.ByOperation.Sum(o => o.Operations));
        Assert.Equal(result.Errors, result.ErrorsByKind.Values.Sum());
        Assert.Equal(workload.Issued, result.Operations + result.WarmupOperations);
        Assert.All(result.ByOperation, o => Assert.Equal(o.Operations, o.Successes + o.Conflicts + o.Errors));
        Assert.All(result.ByOperation, o => Assert.Equal(o.Operations, o.Latency.Count));

        // The script: every 5th call of a worker fails with NOT_FOUND, every 3rd (not 5th) is a conditional update that conflicts.
        Assert.Equal(["NotFound"], result.ErrorsByKind.Keys);
        Assert.True(result.Conflicts > 0);
        Assert.Equal(0, result.ByOperation.Single(o => o.Operation == OperationKind.Stat).Conflicts);
        Assert.NotNull(result.Occ);
        Assert.True(result.Occ!.Commits <= result.Occ.Attempts);
        Assert.Equal(result.Occ.Attempts, result.Occ.Commits + result.Occ.Conflicts + result.Occ.Errors);

        Assert.Equal(result.Operations, result.Timeline.Sum(s => s.Operations));
        Assert.NotEmpty(result.LatencyDistribution);
        Assert.InRange(result.LatencyDistribution[^1].LatencyMs, result.Latency.MaxMs * 0.99, result.Latency.MaxMs * 1.01);
        Assert.True(result.LatencyDistribution[^1].Percentile < 100);
        Assert.Contains(reports.Phases, p => p == BenchPhase.Measure);
        Assert.True(workload.Prepared);
        Assert.Equal(3, workload.Initialized);
    }

    [Fact]
    public async Task Open_loop_issues_exactly_the_scheduled_operations()
    {
        var workload = new ScriptedWorkload();
        // 200/s: 20 operations are due in the 100 ms warm-up and exactly 100 in the 500 ms window, however slow the machine.
        var options = new BenchOptions
        {
            Mode = LoadMode.Open,
            Rate = 200,
            Concurrency = 4,
            Duration = TimeSpan.FromMilliseconds(500),
            Warmup = TimeSpan.FromMilliseconds(100),
            ProgressInterval = TimeSpan.FromMilliseconds(100),
        };

        BenchResult result = await new BenchRunner(workload, options).RunAsync("bucket", "scripted");

        Assert.Equal(100, result.Operations);
        Assert.Equal(20, result.WarmupOperations);
        Assert.Equal(120, workload.Issued);
        Assert.Equal(result.Operations, result.Successes + result.Conflicts + result.Errors);
        Assert.NotNull(result.OpenLoop);
        Assert.Equal(200, result.OpenLoop!.TargetRate);
        Assert.Equal(100, result.OpenLoop.StartLag.Count);
        Assert.True(result.OpenLoop.AchievedRate <= 200);
    }

    [Fact]
    public async Task Cancellation_stops_the_run()
    {
        using var cancel = new CancellationTokenSource();
        var workload = new ScriptedWorkload { OnExecute = cancel.Cancel };
        var options = new BenchOptions { Concurrency = 2, Duration = TimeSpan.FromMinutes(10), Warmup = TimeSpan.Zero };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new BenchRunner(workload, options).RunAsync("bucket", "scripted", cancel.Token));
    }

    [Fact]
    public void Unusable_options_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new BenchOptions { Mode = LoadMode.Open }.Validate());
        Assert.Throws<ArgumentException>(() => new BenchOptions { Concurrency = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => new BenchOptions { ZipfTheta = 1 }.Validate());
        Assert.Throws<ArgumentException>(() => new BenchOptions { Duration = TimeSpan.Zero }.Validate());
        new BenchOptions { Mode = LoadMode.Open, Rate = 10 }.Validate();
    }

    private sealed class ReportLog : IProgress<BenchProgress>
    {
        private readonly Lock _gate = new();
        private readonly List<BenchPhase> _phases = [];
        private readonly TaskCompletionSource _measure = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task MeasureReported => _measure.Task;

        public IReadOnlyList<BenchPhase> Phases
        {
            get
            {
                lock (_gate)
                {
                    return [.. _phases];
                }
            }
        }

        public void Report(BenchProgress value)
        {
            lock (_gate)
            {
                _phases.Add(value.Phase);
            }

            if (value.Phase == BenchPhase.Measure)
            {
                _measure.TrySetResult();
            }
        }
    }

    /// <summary>
    /// Workers complete immediately (after a yield): call n of a worker fails with NOT_FOUND when n % 5 == 0, else is a
    /// conditional update that conflicts when n % 3 == 0, else a successful stat.
    /// </summary>
    private sealed class ScriptedWorkload : IWorkload
    {
        private long _issued;
        private int _initialized;

        public BenchWorkload Kind => BenchWorkload.ViralMix;

        public bool Prepared { get; private set; }

        public int Initialized => Volatile.Read(ref _initialized);

        public long Issued => Interlocked.Read(ref _issued);

        public Action? OnExecute { get; init; }

        /// <summary>Awaited by every call before it completes: a test's clock and pacing.</summary>
        public Func<Task>? Pace { get; init; }

        public Task<PreloadInfo> PrepareAsync(IProgress<BenchProgress>? progress, CancellationToken cancellationToken)
        {
            Prepared = true;
            return Task.FromResult(new PreloadInfo(0, 0, 0));
        }

        public IWorkloadWorker CreateWorker(int index) => new Worker(this);

        private sealed class Worker(ScriptedWorkload workload) : IWorkloadWorker
        {
            private long _calls;

            public Task InitializeAsync(CancellationToken cancellationToken)
            {
                Interlocked.Increment(ref workload._initialized);
                return Task.CompletedTask;
            }

            public OperationKind NextOperation() => (_calls + 1) % 3 == 0 && (_calls + 1) % 5 != 0 ? OperationKind.ConditionalUpdate : OperationKind.Stat;

            public async Task ExecuteAsync(OperationKind kind, CancellationToken cancellationToken)
            {
                long call = ++_calls;
                Interlocked.Increment(ref workload._issued);
                workload.OnExecute?.Invoke();
                if (workload.Pace is { } pace)
                {
                    await pace();
                }

                await Task.Yield();
                cancellationToken.ThrowIfCancellationRequested();
                if (call % 5 == 0)
                {
                    throw new StrataException(new RpcException(new Status(StatusCode.NotFound, "no such entry")), 1);
                }

                if (kind == OperationKind.ConditionalUpdate && call % 3 == 0)
                {
                    throw new StrataException(new RpcException(new Status(StatusCode.FailedPrecondition, "generation mismatch")), 1);
                }
            }
        }
    }
}
