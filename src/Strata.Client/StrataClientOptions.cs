namespace Strata.Client;

/// <summary>Settings of a <see cref="StrataClient"/>. Immutable once the client is created.</summary>
public sealed record StrataClientOptions
{
    /// <summary>
    /// Time allowed for each attempt of a call when the caller names none. Null: attempts have no deadline
    /// (the caller's cancellation token and <see cref="RetryPolicy.MaxElapsed"/> still bound the call).
    /// </summary>
    public TimeSpan? DefaultDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How transient failures are retried.</summary>
    public RetryPolicy Retry { get; init; } = new();

    /// <summary>Clock for deadlines, the retry budget and backoff waits. Tests pass a manual clock.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// How far ahead of this client's oldest unfinished mutation a new one may start (in sequence numbers). Must
    /// stay below the node's retry window (1024 sequences per client) so a retry is always answered.
    /// </summary>
    public ulong MutationWindow { get; init; } = 1000;

    /// <summary>How a cluster client (<see cref="StrataClient.ConnectCluster"/>) routes calls; ignored by single-node clients.</summary>
    public ClusterRoutingOptions Cluster { get; init; } = new();

    /// <summary>Seed of the backoff jitter; null seeds from the system. Tests pass a seed so waits replay.</summary>
    public int? JitterSeed { get; init; }
}
