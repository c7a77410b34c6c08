namespace Strata.Storage;

/// <summary>
/// Admission control shared by the engines: counts calls in flight so that <see cref="Close"/> can wait for them
/// before native resources are freed, refuses calls after disposal, and refuses every call after a durability
/// failure (the engine is "poisoned": a failed fsync is never retried).
/// </summary>
/// <remarks>
/// <see cref="Enter"/>/<see cref="Exit"/> cost two interlocked operations. Both sides use full fences (interlocked
/// increment then a read of the state, interlocked exchange of the state then a read of the counter), so a call either
/// sees the engine closing and backs out, or is seen by <see cref="Close"/> and waited for.
/// </remarks>
internal sealed class EngineGate(string ownerName)
{
    private int _inFlight;
    private int _closed;
    private volatile StorageFailureException? _failure;

    /// <summary>True once <see cref="Close"/> has begun.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>The failure that poisoned the engine, if any.</summary>
    public StorageFailureException? Failure => _failure;

    /// <summary>Admits one call; pair with <see cref="Exit"/> in a finally block.</summary>
    public void Enter()
    {
        Interlocked.Increment(ref _inFlight);
        if (Volatile.Read(ref _closed) != 0)
        {
            Interlocked.Decrement(ref _inFlight);
            throw new ObjectDisposedException(ownerName);
        }

        if (_failure is { } failure)
        {
            Interlocked.Decrement(ref _inFlight);
            throw new StorageFailureException($"{ownerName} is unusable after an earlier storage failure: {failure.Message}", failure);
        }
    }

    /// <summary>Ends a call admitted by <see cref="Enter"/>.</summary>
    public void Exit() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Throws like <see cref="Enter"/> would, without admitting a call.</summary>
    public void ThrowIfUnusable()
    {
        Enter();
        Exit();
    }

    /// <summary>Marks the engine unusable for good and returns the exception to throw.</summary>
    public StorageFailureException Poison(string message, Exception? cause)
    {
        var failure = new StorageFailureException(message, cause);
        _failure ??= failure;
        return failure;
    }

    /// <summary>Clears a poisoning; only for the in-memory engine's simulated process restart.</summary>
    public void ClearFailure() => _failure = null;

    /// <summary>
    /// Refuses new calls and waits for the calls in flight to finish. Returns false when already closed
    /// (so disposal is idempotent).
    /// </summary>
    public bool Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return false;
        }

        var spin = default(SpinWait);
        while (Volatile.Read(ref _inFlight) != 0)
        {
            spin.SpinOnce();
        }

        return true;
    }
}
