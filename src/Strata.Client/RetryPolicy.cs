using Grpc.Core;

namespace Strata.Client;

/// <summary>
/// How <see cref="StrataClient"/> retries a call that failed for a transient reason: exponential backoff with
/// full jitter (each wait is uniform in [0, min(<see cref="MaxBackoff"/>, <see cref="InitialBackoff"/> ×
/// <see cref="Multiplier"/>^(retry − 1))]), bounded by <see cref="MaxAttempts"/> and by <see cref="MaxElapsed"/>.
/// </summary>
/// <remarks>
/// <para>Reads and mutations follow the same policy. A mutation is retried with the same
/// <c>MutationId</c> as its first attempt, so the node applies it at most once and a retry returns the first
/// outcome. Only <see cref="StatusCode.Unavailable"/>, <see cref="StatusCode.DeadlineExceeded"/> and
/// <see cref="StatusCode.ResourceExhausted"/> are retried; every other status is an answer.</para>
/// <para>Immutable and thread-safe.</para>
/// </remarks>
public sealed record RetryPolicy
{
    /// <summary>No retries: one attempt per call.</summary>
    public static RetryPolicy None { get; } = new() { MaxAttempts = 1 };

    /// <summary>Attempts per call, the first included (at least 1).</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>Upper bound of the first wait.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Upper bound of any single wait.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Growth of the wait bound per retry.</summary>
    public double Multiplier { get; init; } = 2.0;

    /// <summary>
    /// Total time budget of a call from its first attempt: no retry starts (and no wait is begun) that would
    /// begin after this much time has passed.
    /// </summary>
    public TimeSpan MaxElapsed { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>True when a failure with <paramref name="status"/> may succeed if tried again.</summary>
    public static bool IsTransient(StatusCode status) =>
        status is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.ResourceExhausted;

    /// <summary>The upper bound of the wait before retry number <paramref name="retry"/> (1 for the first retry).</summary>
    public TimeSpan BackoffCeiling(int retry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        double ceiling = InitialBackoff.Ticks * Math.Pow(Multiplier, retry - 1);
        return ceiling >= MaxBackoff.Ticks ? MaxBackoff : TimeSpan.FromTicks((long)ceiling);
    }

    /// <summary>
    /// Full jitter: a wait uniform in [0, <see cref="BackoffCeiling"/>), drawn from <paramref name="uniform"/> in
    /// [0, 1), in whole milliseconds (the resolution of timers).
    /// </summary>
    public TimeSpan Backoff(int retry, double uniform) =>
        TimeSpan.FromMilliseconds(Math.Floor(BackoffCeiling(retry).TotalMilliseconds * uniform));

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxAttempts, 1, nameof(MaxAttempts));
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialBackoff, TimeSpan.Zero, nameof(InitialBackoff));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBackoff, TimeSpan.Zero, nameof(MaxBackoff));
        ArgumentOutOfRangeException.ThrowIfLessThan(Multiplier, 1.0, nameof(Multiplier));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxElapsed, TimeSpan.Zero, nameof(MaxElapsed));
    }
}
