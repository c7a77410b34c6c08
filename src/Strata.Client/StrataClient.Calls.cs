using Grpc.Core;
using Strata.Api.V1;

namespace Strata.Client;

public sealed partial class StrataClient
{
    /// <summary>
    /// Runs one unary call under the retry policy. <paramref name="start"/> starts one attempt and must send
    /// the same request every time (for a mutation: the same <c>MutationId</c>).
    /// </summary>
    private async Task<TResponse> InvokeAsync<TResponse>(
        Func<CallOptions, AsyncUnaryCall<TResponse>> start,
        TimeSpan? deadline,
        CancellationToken cancellationToken)
    {
        RetryPolicy policy = _options.Retry;
        TimeProvider time = _options.Time;
        TimeSpan? perAttempt = deadline ?? _options.DefaultDeadline;
        long started = time.GetTimestamp();
        for (int attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            DateTime? attemptDeadline = perAttempt is TimeSpan span ? time.GetUtcNow().UtcDateTime + span : null;
            try
            {
                using AsyncUnaryCall<TResponse> call = start(new CallOptions(deadline: attemptDeadline, cancellationToken: cancellationToken));
                return await call.ResponseAsync.ConfigureAwait(false);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("the call was cancelled", e, cancellationToken);
            }
            catch (RpcException e)
            {
                if (!RetryPolicy.IsTransient(e.StatusCode) || attempt >= policy.MaxAttempts)
                {
                    throw new StrataException(e, attempt);
                }

                TimeSpan wait = policy.Backoff(attempt, NextJitter());
                if (time.GetElapsedTime(started) + wait > policy.MaxElapsed)
                {
                    throw new StrataException(e, attempt);
                }

                await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Runs one mutation under the retry policy: takes the next sequence number (waiting for the window),
    /// <paramref name="stamp"/>s the request with this client's id and that sequence once, and resends the same
    /// request on every retry.
    /// </summary>
    private async Task<TResponse> MutateAsync<TResponse>(
        Action<MutationId> stamp,
        Func<CallOptions, AsyncUnaryCall<TResponse>> start,
        TimeSpan? deadline,
        CancellationToken cancellationToken)
    {
        ulong sequence = await _sequences.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            stamp(new MutationId { ClientId = _clientId, Sequence = sequence });
            return await InvokeAsync(start, deadline, cancellationToken).ConfigureAwait(false);
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
