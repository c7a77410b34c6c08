using Grpc.Core;
using Strata.Api;
using Strata.Api.V1;

namespace Strata.Client;

public sealed partial class StrataClient
{
    /// <summary>
    /// Runs one unary call under the retry policy (and, for a cluster client, the routing rules of
    /// <see cref="ConnectCluster"/>). <paramref name="start"/> starts one attempt on the node it is given and must
    /// send the same request every time (for a mutation: the same <c>MutationId</c>); <paramref name="bucket"/> is
    /// the bucket the request names (null: none), which a cluster client routes by.
    /// </summary>
    private async Task<TResponse> InvokeAsync<TResponse>(
        string? bucket,
        Func<NodeConnection, CallOptions, AsyncUnaryCall<TResponse>> start,
        TimeSpan? deadline,
        CancellationToken cancellationToken)
    {
        RetryPolicy policy = _options.Retry;
        TimeProvider time = _options.Time;
        TimeSpan? perAttempt = deadline ?? _options.DefaultDeadline;
        long started = time.GetTimestamp();
        ulong? routingKey = _cluster is not null && bucket is not null ? ShardRouting.RoutingKey(bucket) : null;
        RouteTarget? redirect = null;
        HashSet<string>? avoided = null; // nodes that failed this call: other replicas first
        int redirects = 0;
        for (int attempt = 1; ;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            RouteTarget target = redirect ?? await RouteAsync(routingKey, avoided, cancellationToken).ConfigureAwait(false);
            redirect = null;
            DateTime? attemptDeadline = perAttempt is TimeSpan span ? time.GetUtcNow().UtcDateTime + span : null;
            try
            {
                using AsyncUnaryCall<TResponse> call = start(target.Connection, new CallOptions(deadline: attemptDeadline, cancellationToken: cancellationToken));
                TResponse response = await call.ResponseAsync.ConfigureAwait(false);
                _cluster?.LearnFrom(target, call.GetTrailers());
                return response;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("the call was cancelled", e, cancellationToken);
            }
            catch (RpcException e)
            {
                bool transient = RetryPolicy.IsTransient(e.StatusCode);
                if (_cluster is not null)
                {
                    switch (_cluster.Judge(target, e, out RouteTarget next))
                    {
                        case RoutingVerdict.Redirect when avoided?.Contains(next.Connection.Key) == true:
                            // Sent back to a node that already failed this call (a stale view of a leader that lost
                            // its quorum): try the replicas not yet tried instead, after the usual backoff.
                            avoided.Add(target.Connection.Key);
                            transient = true;
                            break;
                        case RoutingVerdict.Redirect when redirects < _options.Cluster.MaxRedirects:
                            // Straight to the node named: no backoff, and not an attempt.
                            redirects++;
                            _cluster.CountRedirect();
                            redirect = next;
                            continue;
                        case RoutingVerdict.Redirect when _options.Cluster.MaxRedirects > 0:
                            throw new StrataException(e, attempt, redirects,
                                $"gave up after following {redirects} redirects (the nodes' views of the shard disagree; last sent to {target.Connection.Address})");
                        case RoutingVerdict.ConnectionFailure:
                            // A call torn by the transport is retried whatever its status: the same MutationId
                            // makes a retry safe even if the node received it.
                            (avoided ??= new HashSet<string>(StringComparer.Ordinal)).Add(target.Connection.Key);
                            transient = true;
                            break;
                        case RoutingVerdict.NodeUnavailable:
                            (avoided ??= new HashSet<string>(StringComparer.Ordinal)).Add(target.Connection.Key);
                            break;
                    }
                }

                if (!transient || attempt >= policy.MaxAttempts)
                {
                    throw new StrataException(e, attempt, redirects, context: null);
                }

                TimeSpan wait = policy.Backoff(attempt, NextJitter());
                if (time.GetElapsedTime(started) + wait > policy.MaxElapsed)
                {
                    throw new StrataException(e, attempt, redirects, context: null);
                }

                await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
                attempt++;
            }
        }
    }

    /// <summary>The node for the next attempt: the one node of a single-node client, else the cluster's choice.</summary>
    private ValueTask<RouteTarget> RouteAsync(ulong? routingKey, HashSet<string>? avoided, CancellationToken cancellationToken) =>
        _cluster is null
            ? ValueTask.FromResult(new RouteTarget(_node!, 0, null))
            : _cluster.RouteAsync(routingKey, avoided, cancellationToken);

    /// <summary>
    /// Runs one mutation under the retry policy: takes the next sequence number (waiting for the window),
    /// <paramref name="stamp"/>s the request with this client's id and that sequence once, and resends the same
    /// request on every retry.
    /// </summary>
    private async Task<TResponse> MutateAsync<TResponse>(
        string? bucket,
        Action<MutationId> stamp,
        Func<NodeConnection, CallOptions, AsyncUnaryCall<TResponse>> start,
        TimeSpan? deadline,
        CancellationToken cancellationToken)
    {
        ulong sequence = await _sequences.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            stamp(new MutationId { ClientId = _clientId, Sequence = sequence });
            return await InvokeAsync(bucket, start, deadline, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sequences.Exit(sequence);
        }
    }

    private double NextJitter()
    {
        lock (_jitterGate)
        {
            return _jitter.NextDouble();
        }
    }
}
