using Strata.Storage;

namespace Strata.Replication.Tests;

/// <summary>An engine that counts writes and fsyncs on the way to the real one.</summary>
internal sealed class CountingEngine(IKvEngine inner) : IKvEngine
{
    public IKvEngine Inner { get; } = inner;

    public int Writes { get; private set; }

    public int SyncedWrites { get; private set; }

    public byte[]? Get(KvColumn column, ReadOnlySpan<byte> key) => Inner.Get(column, key);

    public IKvCursor Scan(KvColumn column, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive) =>
        Inner.Scan(column, lowerInclusive, upperExclusive);

    public IKvWriteBatch CreateBatch() => Inner.CreateBatch();

    public void Write(IKvWriteBatch batch, bool sync)
    {
        Writes++;
        if (sync)
        {
            SyncedWrites++;
        }

        Inner.Write(batch, sync);
    }

    public IKvSnapshot Snapshot() => Inner.Snapshot();

    public void Dispose() => Inner.Dispose();
}
