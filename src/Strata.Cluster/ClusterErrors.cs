namespace Strata.Cluster;

/// <summary>
/// This node cannot serve the shard: it hosts no replica of it. <see cref="LeaderHint"/> names a node that does
/// (the leader when known), or 0. Nothing was done; send the request there.
/// </summary>
public sealed class NotLeaderException(ulong shardId, ulong leaderHint, string message) : Exception(message)
{
    public ulong ShardId { get; } = shardId;

    public ulong LeaderHint { get; } = leaderHint;
}

/// <summary>
/// The shard cannot serve right now (no leader known — an election is under way — or the cluster is not
/// bootstrapped yet). Nothing was done; retry after a short backoff.
/// </summary>
public sealed class ShardUnavailableException(ulong shardId, string message) : Exception(message)
{
    public ulong ShardId { get; } = shardId;
}

/// <summary>
/// A proposal's outcome is unknown: leadership changed or the wait timed out after the command was handed to
/// Raft. It may still apply. Retry with the same (client id, sequence): the state machine then returns the
/// first outcome instead of applying twice.
/// </summary>
public sealed class OutcomeUnknownException(ulong shardId, string message) : Exception(message)
{
    public ulong ShardId { get; } = shardId;
}
