using Strata.Api.V1;

namespace Strata.Client;

public sealed partial class StrataClient
{
    /// <summary>
    /// Commits the operations of <paramref name="transaction"/> atomically: all apply in order, or none does
    /// (a <see cref="StrataException"/> then names the failing operation in
    /// <see cref="StrataException.FailedOperation"/>). Returns one entry per operation.
    /// </summary>
    public Task<CommitResponse> CommitAsync(StrataTransaction transaction, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return CommitAsync(transaction.Operations, deadline, cancellationToken);
    }

    /// <summary>Commits <paramref name="operations"/> atomically (see <see cref="CommitAsync(StrataTransaction, TimeSpan?, CancellationToken)"/>).</summary>
    public Task<CommitResponse> CommitAsync(IEnumerable<TransactionOperation> operations, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        var request = new CommitRequest();
        request.Operations.AddRange(operations.Select(op => op.Clone()));
        return MutateAsync(RoutingBucket(request), id => request.Id = id, (n, o) => n.Strata.CommitAsync(request, o), deadline, cancellationToken);
    }
}
