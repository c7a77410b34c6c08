using Grpc.Core;
using Grpc.Net.Client;
using Strata.Api.V1;
using NamespaceKeys = Strata.Namespace.NamespaceKeys;
using Strata.Storage;
using StrataClient = Strata.Api.V1.Strata.StrataClient;

namespace Strata.Server.Tests;

/// <summary>
/// A query reads several keys (the path's directories, then the entry; a listing scans several directories).
/// It must see one state: stopping a query between two of its reads while writes commit must not let it mix
/// the state before them with the state after them.
/// </summary>
public sealed class ReadConsistencyTests
{
    [Fact]
    public async Task A_stat_racing_a_rename_sees_the_state_before_or_after_never_a_mix()
    {
        using var engine = new InterleavingEngine(new InMemoryKvEngine());
        await using StrataServer server = await StrataServer.StartAsync(ServerHarness.OptionsOver(engine));
        using var channel = GrpcChannel.ForAddress(server.Address);
        var client = new StrataClient(channel);
        await client.CreateBucketAsync("race");
        await client.PutAsync("race", "a/b/o", etag: "old");
        ulong a = (await client.StatAsync("race", "a")).DirectoryId;

        // Stop the stat right after it resolved "a", before it looks up "b" inside it.
        InterleavingEngine.Pause pause = engine.PauseNextGet(NamespaceKeys.Entry(a, "b"u8));
        Task<Entry> stat = client.StatAsync("race", "a/b/o");
        await pause.Reached;

        // Meanwhile "a" moves away and the object (now z/b/o) is replaced. "a/b/o" with etag "new" never exists.
        await client.RenameAsync(new RenameRequest { Bucket = "race", Source = "a", Destination = "z" });
        await client.PutAsync("race", "z/b/o", etag: "new");
        pause.Resume();

        try
        {
            Entry seen = await stat;
            Assert.Equal("old", seen.Attributes.Etag); // linearized before the rename
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            // linearized after the rename: also fine
        }
    }

    [Fact]
    public async Task A_recursive_listing_racing_a_move_between_directories_sees_one_state()
    {
        using var engine = new InterleavingEngine(new InMemoryKvEngine());
        await using StrataServer server = await StrataServer.StartAsync(ServerHarness.OptionsOver(engine));
        using var channel = GrpcChannel.ForAddress(server.Address);
        var client = new StrataClient(channel);
        await client.CreateBucketAsync("race");
        await client.PutAsync("race", "d1/o");
        await client.MakeDirectoryAsync(new MakeDirectoryRequest { Bucket = "race", Path = "d2" });
        ulong d2 = (await client.StatAsync("race", "d2")).DirectoryId;

        // Stop the listing when it reaches d2 (after it listed d1), then move the object from d1 into d2.
        InterleavingEngine.Pause pause = engine.PauseNextScan(NamespaceKeys.DirectoryEntries(d2).Lower);
        Task<ListResponse> listing = client.ListAsync(new ListRequest { Bucket = "race", Delimiter = "" }).ResponseAsync;
        await pause.Reached;
        await client.RenameAsync(new RenameRequest { Bucket = "race", Source = "d1/o", Destination = "d2/o" });
        pause.Resume();

        List<string> paths = (await listing).Entries.Paths();
        Assert.True(paths.SequenceEqual(["d1", "d1/o", "d2"]) || paths.SequenceEqual(["d1", "d2", "d2/o"]),
            "the listing mixed two states: " + string.Join(", ", paths));
    }
}

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
