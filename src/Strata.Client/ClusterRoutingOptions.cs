namespace Strata.Client;

/// <summary>
/// How a client made by <see cref="StrataClient.ConnectCluster"/> routes calls over a cluster (ignored by
/// <see cref="StrataClient.Connect"/> and by clients over a caller's invoker, which talk to one node).
/// </summary>
/// <remarks>Immutable and thread-safe.</remarks>
public sealed record ClusterRoutingOptions
{
    /// <summary>
    /// Age after which the cached cluster map is fetched again, lazily, by the next call that routes (the map is
    /// also fetched again after every routing error: a redirect, a connection failure, an UNAVAILABLE answer).
    /// </summary>
    public TimeSpan MapRefreshInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Redirects one call may follow (a node without a replica of the shard naming one that has). Redirects
    /// are followed at once and are not attempts of the <see cref="RetryPolicy"/>; this bound stops a loop
    /// between nodes whose views disagree. 0: never follow one (the refusal is then retried like any
    /// UNAVAILABLE).
    /// </summary>
    public int MaxRedirects { get; init; } = 5;

    /// <summary>
    /// How long a node that could not be reached is avoided when another node can serve the call. Avoidance is a
    /// preference: when every candidate is suspected, calls still go to one.
    /// </summary>
    public TimeSpan SuspicionPeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Deadline of each <c>GetClusterMap</c> attempt (one per node tried), measured on
    /// <see cref="StrataClientOptions.Time"/> like call deadlines. Null: no deadline (tests with a manual clock).
    /// </summary>
    public TimeSpan? MapFetchTimeout { get; init; } = TimeSpan.FromSeconds(5);

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MapRefreshInterval, TimeSpan.Zero, nameof(MapRefreshInterval));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRedirects, nameof(MaxRedirects));
        ArgumentOutOfRangeException.ThrowIfLessThan(SuspicionPeriod, TimeSpan.Zero, nameof(SuspicionPeriod));
        if (MapFetchTimeout is TimeSpan timeout)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero, nameof(MapFetchTimeout));
        }
    }
}
