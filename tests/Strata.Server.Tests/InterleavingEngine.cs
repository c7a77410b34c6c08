using Strata.Storage;

namespace Strata.Server.Tests;

/// <summary>
/// An engine that can stop one read (a point read or the opening of a scan of a given key) until the test lets
/// it go, so a test can commit writes in the middle of a query, deterministically. Snapshots are wrapped too.
/// </summary>
public sealed class InterleavingEngine(IKvEngine inner) : IKvEngine
{
    private Pause? _armed;

    public Pause PauseNextGet(byte[] key) => Arm(new Pause(key, scan: false));

    public Pause PauseNextScan(byte[] lowerBound) => Arm(new Pause(lowerBound, scan: true));

    /// <summary>Stops the next batch write (the apply loop) before it reaches the inner engine.</summary>
    public Pause PauseNextWrite() => Arm(new Pause(WriteMarker, scan: false));

    private static readonly byte[] WriteMarker = [];

    private Pause Arm(Pause pause)
    {
        Volatile.Write(ref _armed, pause);
        return pause;
    }

    private void MaybePause(ReadOnlySpan<byte> key, bool scan)
    {
        Pause? armed = Volatile.Read(ref _armed);
        if (armed is not null && !ReferenceEquals(armed.Key, WriteMarker) && armed.Scan == scan && key.SequenceEqual(armed.Key) &&
            Interlocked.CompareExchange(ref _armed, null, armed) == armed)
        {
            armed.Hold();
        }
    }

    public byte[]? Get(KvColumn column, ReadOnlySpan<byte> key)
    {
        MaybePause(key, scan: false);
        return inner.Get(column, key);
    }

    public IKvCursor Scan(KvColumn column, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive)
    {
        MaybePause(lowerInclusive, scan: true);
        return inner.Scan(column, lowerInclusive, upperExclusive);
    }

    public IKvWriteBatch CreateBatch() => inner.CreateBatch();

    public void Write(IKvWriteBatch batch, bool sync)
    {
        Pause? armed = Volatile.Read(ref _armed);
        if (armed is not null && ReferenceEquals(armed.Key, WriteMarker) &&
            Interlocked.CompareExchange(ref _armed, null, armed) == armed)
        {
            armed.Hold();
        }

        inner.Write(batch, sync);
    }

    public IKvSnapshot Snapshot() => new SnapshotView(this, inner.Snapshot());

    public void Dispose() => inner.Dispose();

    private sealed class SnapshotView(InterleavingEngine engine, IKvSnapshot snapshot) : IKvSnapshot
    {
        public byte[]? Get(KvColumn column, ReadOnlySpan<byte> key)
        {
            engine.MaybePause(key, scan: false);
            return snapshot.Get(column, key);
        }

        public IKvCursor Scan(KvColumn column, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive)
        {
            engine.MaybePause(lowerInclusive, scan: true);
            return snapshot.Scan(column, lowerInclusive, upperExclusive);
        }

        public void Dispose() => snapshot.Dispose();
    }

    /// <summary>One stopped read: <see cref="Reached"/> completes when a reader is held; <see cref="Resume"/> lets it go.</summary>
    public sealed class Pause(byte[] key, bool scan)
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ManualResetEventSlim _resume = new();

        public byte[] Key { get; } = key;

        public bool Scan { get; } = scan;

        public Task Reached => _reached.Task;

        public void Resume() => _resume.Set();

        internal void Hold()
        {
            _reached.TrySetResult();
            if (!_resume.Wait(TimeSpan.FromMinutes(1)))
            {
                throw new TimeoutException("the test never resumed the paused read");
            }
        }
    }
}
