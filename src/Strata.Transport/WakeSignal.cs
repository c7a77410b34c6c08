namespace Strata.Transport;

/// <summary>
/// An auto-reset wake-up for one consumer loop: <see cref="Set"/> is cheap and may be called from any thread any
/// number of times; <see cref="WaitAsync"/> returns once after one or more sets (or on timeout).
/// </summary>
/// <remarks>The consumer must re-check its queues after every return: a set that happens while the consumer is
/// running is kept for its next wait, so no wake-up is lost.</remarks>
internal sealed class WakeSignal : IDisposable
{
    // _pending is 1 exactly when the semaphore holds its one count or the consumer is between taking it and
    // clearing the flag; so Release never exceeds the maximum count of 1.
    private readonly SemaphoreSlim _semaphore = new(0, 1);
    private int _pending;

    public void Set()
    {
        if (Interlocked.Exchange(ref _pending, 1) == 0)
        {
            try
            {
                _semaphore.Release();
            }
            catch (ObjectDisposedException)
            {
                // The consumer is gone; there is nobody to wake.
            }
        }
    }

    /// <summary>Waits for a set; false on timeout. Throws <see cref="OperationCanceledException"/> on cancellation.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!await _semaphore.WaitAsync(timeout, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        Volatile.Write(ref _pending, 0);
        return true;
    }

    public void Dispose() => _semaphore.Dispose();
}
