namespace Strata.Storage;

public sealed partial class InMemoryKvEngine
{
    /// <summary>Number of batches written with <c>sync: false</c> since the last durable write: what a crash can lose.</summary>
    public int UnsyncedBatchCount
    {
        get
        {
            lock (_writeLock)
            {
                return _unsynced.Count;
            }
        }
    }

    /// <summary>
    /// Simulates a process or machine crash followed by a restart: the visible state goes back to the last durable
    /// state plus the first <paramref name="survivingUnsyncedBatches"/> unsynced batches, in write order.
    /// </summary>
    /// <remarks>
    /// <para>
    /// This is what RocksDB recovery can produce: the write-ahead log is a sequence of checksummed batch records, and
    /// the OS may have written any prefix of the unsynced tail before the crash. A torn record fails its checksum and
    /// point-in-time recovery stops there, so a batch is never half applied and a later batch never survives without
    /// an earlier one. Passing 0 (the default) models the worst case: only synced writes survive.
    /// </para>
    /// <para>
    /// A failure injected with <see cref="FailNextSync"/> is cleared (the restarted process has a fresh engine) and
    /// the batch whose fsync failed counts as unsynced. Snapshots and cursors opened before the crash keep reading
    /// the old state; the simulator should drop them with the crashed process.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">More surviving batches than <see cref="UnsyncedBatchCount"/>.</exception>
    public void SimulateCrash(int survivingUnsyncedBatches = 0)
    {
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(_gate.IsClosed, this);
            ArgumentOutOfRangeException.ThrowIfNegative(survivingUnsyncedBatches);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(survivingUnsyncedBatches, _unsynced.Count);
            var state = _durable;
            for (var i = 0; i < survivingUnsyncedBatches; i++)
            {
                state = state.Apply(_unsynced[i]);
            }

            _unsynced.Clear();
            _durable = state;
            _visible = state;
            _failNextSync = false;
            _gate.ClearFailure();
        }
    }

    /// <summary>
    /// Makes the next <see cref="Write"/> with <c>sync: true</c> fail as a failed fsync would: it throws
    /// <see cref="StorageFailureException"/> and poisons the engine (every later call throws) until
    /// <see cref="SimulateCrash"/> models the restart.
    /// </summary>
    public void FailNextSync()
    {
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(_gate.IsClosed, this);
            _failNextSync = true;
        }
    }
}
