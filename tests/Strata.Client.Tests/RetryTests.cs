using Grpc.Core;
using Strata.Api.V1;

namespace Strata.Client.Tests;

public sealed class RetryTests
{
    private const int Seed = 42;

    private static readonly RetryPolicy Policy = new()
    {
        MaxAttempts = 5,
        InitialBackoff = TimeSpan.FromMilliseconds(100),
        MaxBackoff = TimeSpan.FromSeconds(1),
        Multiplier = 2,
        MaxElapsed = TimeSpan.FromSeconds(30),
    };

    private static (StrataClient Client, ManualTime Time) Create(ScriptedInvoker invoker, RetryPolicy? policy = null, TimeSpan? defaultDeadline = null)
    {
        var time = new ManualTime();
        var client = new StrataClient(invoker, new StrataClientOptions
        {
            Retry = policy ?? Policy,
            Time = time,
            JitterSeed = Seed,
            DefaultDeadline = defaultDeadline ?? TimeSpan.FromSeconds(3),
        });
        return (client, time);
    }

    private static EntryResponse EntryAt(string path, ulong generation = 1) =>
        new() { Entry = new Entry { Bucket = "b", Path = path, Generation = generation } };

    [Theory]
    [InlineData(StatusCode.Unavailable)]
    [InlineData(StatusCode.DeadlineExceeded)]
    [InlineData(StatusCode.ResourceExhausted)]
    public async Task A_read_is_retried_on_a_transient_status_until_it_succeeds(StatusCode transient)
    {
        var invoker = new ScriptedInvoker().ThenFail(transient).ThenFail(transient).Then(EntryAt("a/b"));
        var (client, _) = Create(invoker);

        Entry entry = await client.StatAsync("b", "a/b");

        Assert.Equal("a/b", entry.Path);
        Assert.Equal(3, invoker.Calls.Count);
        Assert.All(invoker.Calls, c => Assert.Equal("Stat", c.Method));
    }

    [Fact]
    public async Task Backoff_waits_are_full_jitter_under_an_exponential_ceiling_and_replay_from_the_seed()
    {
        var invoker = new ScriptedInvoker()
            .ThenFail(StatusCode.Unavailable).ThenFail(StatusCode.Unavailable).ThenFail(StatusCode.Unavailable).ThenFail(StatusCode.Unavailable)
            .Then(new ListBucketsResponse());
        var (client, time) = Create(invoker);

        await client.ListBucketsAsync();

        var jitter = new Random(Seed);
        TimeSpan[] expected = [.. Enumerable.Range(1, 4).Select(retry => Policy.Backoff(retry, jitter.NextDouble()))];
        Assert.Equal(expected, time.Waits);
        for (int retry = 1; retry <= 4; retry++)
        {
            Assert.InRange(time.Waits[retry - 1], TimeSpan.Zero, Policy.BackoffCeiling(retry));
        }
    }

    [Fact]
    public void The_backoff_ceiling_doubles_and_is_capped()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(100), Policy.BackoffCeiling(1));
        Assert.Equal(TimeSpan.FromMilliseconds(200), Policy.BackoffCeiling(2));
        Assert.Equal(TimeSpan.FromMilliseconds(800), Policy.BackoffCeiling(4));
        Assert.Equal(TimeSpan.FromSeconds(1), Policy.BackoffCeiling(5));
        Assert.Equal(TimeSpan.FromSeconds(1), Policy.BackoffCeiling(60));
        Assert.Equal(TimeSpan.Zero, Policy.Backoff(3, 0.0));
        Assert.True(Policy.Backoff(3, 0.999) < Policy.BackoffCeiling(3));
    }

    [Fact]
    public async Task Attempts_are_bounded_and_the_last_status_is_reported()
    {
        var invoker = new ScriptedInvoker { Otherwise = () => throw new RpcException(new Status(StatusCode.Unavailable, "node is down")) };
        var (client, time) = Create(invoker);

        var failure = await Assert.ThrowsAsync<StrataException>(() => client.GetBucketAsync("b"));

        Assert.Equal(Policy.MaxAttempts, invoker.Calls.Count);
        Assert.Equal(Policy.MaxAttempts, failure.Attempts);
        Assert.Equal(StatusCode.Unavailable, failure.StatusCode);
        Assert.Equal("node is down", failure.Detail);
        Assert.Equal(Policy.MaxAttempts - 1, time.Waits.Count);
    }

    [Fact]
    public async Task Total_time_is_bounded_no_retry_starts_past_the_budget()
    {
        var policy = Policy with { MaxAttempts = 100, MaxElapsed = TimeSpan.FromSeconds(10) };
        var time = new ManualTime();

        // Each attempt takes 3 s before failing: after three attempts (9 s plus waits) the next would start past 10 s.
        var invoker = new ScriptedInvoker
        {
            Otherwise = () => throw new RpcException(new Status(StatusCode.DeadlineExceeded, "slow")),
            OnAttempt = _ => time.Advance(TimeSpan.FromSeconds(3)),
        };
        var client = new StrataClient(invoker, new StrataClientOptions { Retry = policy, Time = time, JitterSeed = Seed });

        var failure = await Assert.ThrowsAsync<StrataException>(() => client.StatAsync("b", "x"));

        Assert.Equal(StatusCode.DeadlineExceeded, failure.StatusCode);
        Assert.InRange(invoker.Calls.Count, 3, 4);
        TimeSpan spentBeforeLastAttempt = TimeSpan.FromSeconds(3 * (invoker.Calls.Count - 1)) + time.Waits.Aggregate(TimeSpan.Zero, (a, b) => a + b);
        Assert.True(spentBeforeLastAttempt <= policy.MaxElapsed, $"a retry started after {spentBeforeLastAttempt}");
    }

    [Theory]
    [InlineData(StatusCode.InvalidArgument)]
    [InlineData(StatusCode.NotFound)]
    [InlineData(StatusCode.FailedPrecondition)]
    [InlineData(StatusCode.AlreadyExists)]
    [InlineData(StatusCode.Aborted)]
    [InlineData(StatusCode.PermissionDenied)]
    public async Task Answers_are_never_retried_for_reads_or_mutations(StatusCode answer)
    {
        var invoker = new ScriptedInvoker().ThenFail(answer, "refused").ThenFail(answer, "refused");
        var (client, time) = Create(invoker);

        var readFailure = await Assert.ThrowsAsync<StrataException>(() => client.StatAsync("b", "x"));
        var writeFailure = await Assert.ThrowsAsync<StrataException>(() => client.PutObjectAsync("b", "x", new ObjectAttributes()));

        Assert.Equal(2, invoker.Calls.Count);
        Assert.Equal(answer, readFailure.StatusCode);
        Assert.Equal(answer, writeFailure.StatusCode);
        Assert.Equal(1, writeFailure.Attempts);
        Assert.Empty(time.Waits);
    }

    [Fact]
    public async Task Each_attempt_carries_a_fresh_deadline_the_callers_or_the_default()
    {
        var invoker = new ScriptedInvoker()
            .ThenFail(StatusCode.Unavailable).Then(EntryAt("x"))
            .Then(EntryAt("y"));
        var (client, time) = Create(invoker, defaultDeadline: TimeSpan.FromSeconds(3));
        DateTime start = time.GetUtcNow().UtcDateTime;

        await client.StatAsync("b", "x", deadline: TimeSpan.FromMilliseconds(250));
        DateTime afterFirstCall = time.GetUtcNow().UtcDateTime;
        await client.StatAsync("b", "y");

        IReadOnlyList<RecordedCall> calls = invoker.Calls;
        Assert.Equal(start + TimeSpan.FromMilliseconds(250), calls[0].Options.Deadline);
        Assert.Equal(start + time.Waits[0] + TimeSpan.FromMilliseconds(250), calls[1].Options.Deadline);
        Assert.Equal(afterFirstCall + TimeSpan.FromSeconds(3), calls[2].Options.Deadline);
    }

    [Fact]
    public async Task Cancellation_during_a_backoff_wait_stops_the_call()
    {
        using var cancel = new CancellationTokenSource();
        var invoker = new ScriptedInvoker
        {
            Otherwise = () => throw new RpcException(new Status(StatusCode.Unavailable, "down")),
            OnAttempt = _ => cancel.Cancel(),
        };
        var (client, _) = Create(invoker);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.StatAsync("b", "x", cancellationToken: cancel.Token));

        Assert.Single(invoker.Calls);
    }

    [Fact]
    public async Task A_cancelled_status_caused_by_the_caller_surfaces_as_cancellation()
    {
        using var cancel = new CancellationTokenSource();
        var invoker = new ScriptedInvoker
        {
            Otherwise = () => throw new RpcException(new Status(StatusCode.Cancelled, "cancelled")),
            OnAttempt = _ => cancel.Cancel(),
        };
        var (client, _) = Create(invoker);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetBucketAsync("b", cancellationToken: cancel.Token));
    }

    [Fact]
    public async Task With_no_retries_a_transient_failure_is_reported_at_once()
    {
        var invoker = new ScriptedInvoker().ThenFail(StatusCode.Unavailable, "down");
        var (client, time) = Create(invoker, RetryPolicy.None);

        var failure = await Assert.ThrowsAsync<StrataException>(() => client.ListBucketsAsync());

        Assert.Equal(1, failure.Attempts);
        Assert.Empty(time.Waits);
    }
}
