namespace Strata.Client;

/// <summary>
/// Hands out the sequence numbers of one client's mutations (1, 2, 3, ...) so that no mutation still in flight
/// falls out of the node's retry window.
/// </summary>
/// <remarks>
/// <para>The node remembers the outcome of a client's last <c>SessionWindow</c> sequences (1024) and refuses a
/// sequence older than that with ABORTED, because it can no longer tell whether it was applied. Without a bound,
/// a mutation whose reply was lost could be overtaken by more than that many newer ones while it waits to retry,
/// and its retry would fail although the mutation may never have been applied. So a new sequence is handed out
/// only while it is less than <see cref="Size"/> ahead of the oldest sequence still in flight; otherwise the
/// caller waits until that one finishes.</para>
/// <para>Thread-safe. Every <see cref="EnterAsync"/> must be paired with one <see cref="Exit"/> of the sequence it
/// returned, after the mutation's last attempt.</para>
/// </remarks>
internal sealed class SequenceWindow
{
    private readonly Lock _gate = new();
    private readonly SortedSet<ulong> _inFlight = [];
    private TaskCompletionSource _oldestFinished = NewSignal();
    private ulong _last;

    public SequenceWindow(ulong size)
    {
        ArgumentOutOfRangeException.ThrowIfZero(size);
        Size = size;
    }

    /// <summary>How far ahead of the oldest mutation in flight a new one may be.</summary>
    public ulong Size { get; }

    /// <summary>The next sequence number, once it fits in the window.</summary>
    public async ValueTask<ulong> EnterAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task oldestFinished;
            lock (_gate)
            {
                if (_inFlight.Count == 0 || _last + 1 - _inFlight.Min < Size)
                {
                    _last++;
                    _inFlight.Add(_last);
                    return _last;
                }

                oldestFinished = _oldestFinished.Task;
            }

            await oldestFinished.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Marks <paramref name="sequence"/> finished (answered, refused, or given up).</summary>
    public void Exit(ulong sequence)
    {
        TaskCompletionSource? wake = null;
        lock (_gate)
        {
            bool wasOldest = _inFlight.Count > 0 && _inFlight.Min == sequence;
            if (!_inFlight.Remove(sequence))
            {
                throw new InvalidOperationException($"sequence {sequence} is not in flight");
            }

            if (wasOldest)
            {
                wake = _oldestFinished;
                _oldestFinished = NewSignal();
            }
        }

        wake?.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
