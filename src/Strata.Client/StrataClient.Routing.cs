using Strata.Api.V1;

namespace Strata.Client;

public sealed partial class StrataClient
{
    /// <summary>
    /// A client of a Strata cluster that sends each call to a node serving the shard of its bucket.
    /// <paramref name="seeds"/> are <c>strata.v1</c> addresses of some nodes (any one that answers is enough);
    /// connecting is lazy: the first call fetches the cluster map.
    /// </summary>
    /// <remarks>
    /// <para><b>Routing contract</b> (see <c>cluster.proto</c>). A bucket's namespace lives in the shard whose
    /// routing-key range holds <see cref="Strata.Api.ShardRouting.RoutingKey(string)"/> of its name. Every call
    /// whose request names a bucket (a transaction: the bucket of its first operation) goes to that shard's leader
    /// as last known, else to one of its replicas, else to any node; calls that name no bucket (ListBuckets) go to
    /// any node. Any replica serves a shard (it forwards writes to the leader), so the leader is only the fastest
    /// choice, and routing by a stale map stays correct.</para>
    /// <para><b>What the client learns.</b> The cluster map is fetched from any node that answers and cached
    /// (<see cref="Cluster"/>), fetched again on the next call after
    /// <see cref="ClusterRoutingOptions.MapRefreshInterval"/>, and before the next attempt after any routing
    /// error. A response whose <c>strata-leader</c> trailer names another leader of the shard moves later calls
    /// there. An UNAVAILABLE refusal naming another node (<c>strata-leader-address</c>, sent by a node without a
    /// replica of the shard; or <c>strata-leader</c> alone, naming a node of the cached map) is followed at once,
    /// and the named node becomes the shard's leader hint: that redirect is not an attempt of the
    /// <see cref="RetryPolicy"/> and waits for no backoff, but a call follows at most
    /// <see cref="ClusterRoutingOptions.MaxRedirects"/> of them and then fails with a <see cref="StrataException"/>
    /// saying so (<see cref="StrataException.Redirects"/>). A node that cannot be reached (the transport failed:
    /// refused, reset, unreachable) is avoided by every call for <see cref="ClusterRoutingOptions.SuspicionPeriod"/>,
    /// and the call is retried, after the policy's backoff, on another replica of the shard. Other UNAVAILABLE
    /// answers (no leader right now, outcome unknown, shutting down) are retried after the backoff with a fresh
    /// map, on another replica when the shard has one (unless the refusing node named itself the leader).</para>
    /// <para><b>Exactly once across redirects.</b> A mutation takes its sequence number once, before its first
    /// attempt; every redirect and every retry, to whichever node, resends the same (client id, sequence), so the
    /// shard applies it at most once whichever replica forwarded it.</para>
    /// <para>A transaction whose operations name buckets on different shards is refused (UNIMPLEMENTED): cross-shard
    /// transactions are not supported yet.</para>
    /// </remarks>
    public static StrataClient ConnectCluster(IEnumerable<Uri> seeds, StrataClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        StrataClientOptions settings = options ?? new StrataClientOptions();
        var cluster = new ClusterView(seeds, settings.Cluster, settings.Time);
        return new StrataClient(node: null, cluster, settings);
    }

    /// <summary>The cluster as this client knows it; null for a single-node client.</summary>
    public ClusterView? Cluster => _cluster;

    /// <summary>
    /// The cluster map: a cluster client fetches it afresh from any node (and caches it, see
    /// <see cref="ClusterView.RefreshAsync"/>); a single-node client asks its node, under the retry policy.
    /// </summary>
    public async Task<ClusterSnapshot> GetClusterMapAsync(TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        if (_cluster is not null)
        {
            return await _cluster.RefreshAsync(cancellationToken).ConfigureAwait(false);
        }

        var request = new GetClusterMapRequest();
        ClusterMap map = await InvokeAsync(bucket: null, (n, o) => n.Cluster.GetClusterMapAsync(request, o), deadline, cancellationToken).ConfigureAwait(false);
        return ClusterSnapshot.FromMap(map, _options.Time.GetUtcNow());
    }

    /// <summary>The bucket a transaction is routed by: the bucket of its first operation (null when empty).</summary>
    private static string? RoutingBucket(CommitRequest request)
    {
        if (request.Operations.Count == 0)
        {
            return null;
        }

        TransactionOperation first = request.Operations[0];
        return first.BodyCase switch
        {
            TransactionOperation.BodyOneofCase.Put => first.Put.Bucket,
            TransactionOperation.BodyOneofCase.Delete => first.Delete.Bucket,
            TransactionOperation.BodyOneofCase.Patch => first.Patch.Bucket,
            TransactionOperation.BodyOneofCase.MakeDirectory => first.MakeDirectory.Bucket,
            TransactionOperation.BodyOneofCase.RemoveDirectory => first.RemoveDirectory.Bucket,
            TransactionOperation.BodyOneofCase.Rename => first.Rename.Bucket,
            TransactionOperation.BodyOneofCase.Guard => first.Guard.Bucket,
            _ => null,
        };
    }
}
