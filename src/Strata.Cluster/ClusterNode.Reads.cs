using Strata.Namespace;
using Strata.Storage;

namespace Strata.Cluster;

// Linearizable reads: the leader's lease on the request thread, ReadIndex through the loop otherwise.
public sealed partial class ClusterNode
{
    /// <summary>
    /// Runs <paramref name="query"/> over a point-in-time view of <paramref name="shardId"/> that reflects every write
    /// acknowledged before this call began (linearizable). Served from the lease when this node's replica leads and
    /// holds one; otherwise through ReadIndex (on a follower this is a follower read: one round trip to the leader,
    /// then the local replica's state). The reader must not escape <paramref name="query"/>.
    /// </summary>
    /// <exception cref="NotLeaderException">This node hosts no replica of the shard.</exception>
    /// <exception cref="ShardUnavailableException">No leader confirmed a read index in time.</exception>
    public Task<T> ReadAsync<T>(ulong shardId, Func<NamespaceReader, T> query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return ReadAsync(shardId, (reader, _) => query(reader), cancellationToken);
    }

    /// <summary>
    /// Like <see cref="ReadAsync{T}(ulong, Func{NamespaceReader, T}, CancellationToken)"/>; the query also gets the MVCC
    /// version of the last command applied in the view it reads (read before the view was taken, so every version at
    /// or below it is in the view): a read "at" a newer timestamp could see commands still in flight.
    /// </summary>
    public Task<T> ReadAsync<T>(ulong shardId, Func<NamespaceReader, ulong, T> query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ShardHandle handle = Handle(shardId, forNamespace: true);
        NamespaceShard shard = handle.Namespace!;
        // The floor: every entry committed before the lease was computed (writes earlier leaders acknowledged) and every
        // entry whose commit the loop may already have sent (followers apply and acknowledge those before this replica
        // applies them). Below it, ReadIndex waits for this replica to catch up.
        // A stopped node (disposed, or halted by a storage failure) serves nothing, not even from a lease it still holds:
        // the loop no longer watches it.
        if (Failure is { } failure)
        {
            return Task.FromException<T>(new StorageFailureException("the node stopped after a storage failure", failure));
        }

        if (_stopping.IsCancellationRequested)
        {
            return Task.FromException<T>(new ObjectDisposedException(nameof(ClusterNode)));
        }

        if (handle.Lease is { } lease && _time.GetTimestamp() < lease.DeadlineTimestamp
            && shard.AppliedIndex >= Math.Max(lease.AppliedFloor, handle.CommitFloor))
        {
            Interlocked.Increment(ref handle.LeaseReadsSinceStep);
            Interlocked.Increment(ref _leaseReads);
            return Task.FromResult(Query(handle, query));
        }

        return ReadThroughReadIndexAsync(handle, query, cancellationToken);
    }

    private async Task<T> ReadThroughReadIndexAsync<T>(ShardHandle handle, Func<NamespaceReader, ulong, T> query, CancellationToken cancellationToken)
    {
        var read = new PendingRead(handle.ShardId);
        Post(read);
        await read.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return Query(handle, query);
    }

    private T Query<T>(ShardHandle handle, Func<NamespaceReader, ulong, T> query)
    {
        NamespaceShard shard = handle.Namespace!;
        ulong applied = shard.LastTimestamp;
        using IKvSnapshot snapshot = shard.Snapshot();
        // The loop marks a replica removed before it deletes its state: a view taken after the deletion sees the mark.
        if (handle.Removed)
        {
            throw new NotLeaderException(handle.ShardId, Map.FindShard(handle.ShardId)?.Replicas.FirstOrDefault() ?? 0,
                $"node {NodeId} no longer hosts shard {handle.ShardId}");
        }

        return query(new NamespaceReader(snapshot), applied);
    }
}
