using Strata.Api.V1;
using Strata.Bench.Targets;
using Strata.Bench.Workloads;
using Strata.Client;
using Strata.Server;

namespace Strata.Bench.Tests;

/// <summary>
/// One contract for every target the bench measures: each peer's real server (etcd, Redis, PostgreSQL) is started,
/// put through point reads, creates, compare-and-swap (won and lost), a missing key, listing, renames and a preload
/// batch, then torn down, and no process of it may be left. Strata (an in-memory node) passes the same contract.
/// </summary>
public sealed class PeerContractTests
{
    private const string Bucket = "contract";

    [Fact]
    public async Task Etcd_keeps_the_contract_and_leaves_no_process()
    {
        EtcdPeer peer = await EtcdPeer.StartAsync();
        await AssertContractThenTeardownAsync(peer, peer.ProcessIds);
    }

    [Fact]
    public async Task Etcd_with_three_members_keeps_the_contract_and_leaves_no_process()
    {
        EtcdPeer peer = await EtcdPeer.StartAsync(members: 3);
        Assert.Equal(3, peer.ProcessIds.Count);
        Assert.Contains("majority of 3 members", peer.Durability, StringComparison.Ordinal);
        await AssertContractThenTeardownAsync(peer, peer.ProcessIds);
    }

    [Fact]
    public async Task Peer_names_parse_and_unknown_ones_are_refused()
    {
        Assert.Equal(["etcd", "redis", "postgres"], Peers.Parse("etcd, Redis,postgresql,etcd"));
        Assert.Equal(["postgres"], Peers.Parse("pg"));
        ArgumentException unknown = Assert.Throws<ArgumentException>(() => Peers.Parse("etcd,mongodb"));
        Assert.Contains("mongodb", unknown.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Peers.Parse(" , "));
        Assert.All(Peers.Known, name => Assert.Null(Peers.Missing(name)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => EtcdPeer.StartAsync(members: 2));
    }

    [Fact]
    public async Task Redis_keeps_the_contract_and_leaves_no_process()
    {
        RedisPeer peer = await RedisPeer.StartAsync();
        Assert.Contains("appendfsync always", peer.Durability, StringComparison.Ordinal);
        await AssertContractThenTeardownAsync(peer, [peer.ProcessId]);
    }

    [Fact]
    public async Task Postgres_keeps_the_contract_and_leaves_no_process()
    {
        PostgresPeer peer = await PostgresPeer.StartAsync();
        Assert.Contains("synchronous_commit on", peer.Durability, StringComparison.Ordinal);
        await AssertContractThenTeardownAsync(peer, [peer.ProcessId]);
    }

    [Fact]
    public async Task Strata_keeps_the_same_contract()
    {
        await using StrataServer server = await StrataServer.StartAsync(new StrataServerOptions { InMemory = true, Port = 0 });
        using StrataClient client = StrataClient.Connect(server.Address, new StrataClientOptions { Retry = RetryPolicy.None });
        await using var target = new StrataTarget(client);
        await AssertContractAsync(target);
    }

    private static async Task AssertContractAsync(BenchTarget target)
    {
        await target.CreateBucketAsync(Bucket, CancellationToken.None);
        IBenchStore store = target.StoreOf(0);
        Assert.Same(store, target.StoreOf(0));
        CancellationToken none = CancellationToken.None;
        ObjectAttributes first = ObjectCatalog.Attributes(1);
        ObjectAttributes second = ObjectCatalog.Attributes(2);

        // A missing key reads as nothing; a compare-and-swap against it fails and says generation 0.
        Assert.Null(await store.GetAsync(Bucket, "dir/missing", none));
        WriteOutcome onMissing = await store.PutAsync(Bucket, "dir/missing", first, 12345, none);
        Assert.False(onMissing.Committed);
        Assert.Equal(0, onMissing.Generation ?? 0);
        Assert.Null(await store.GetAsync(Bucket, "dir/missing", none));

        // A create (if-generation-match 0) writes once; the second create of the same key is a conflict naming the first generation.
        WriteOutcome created = await store.PutAsync(Bucket, "dir/b", first, 0, none);
        Assert.True(created.Committed);
        long generation = Assert.NotNull(created.Generation);
        Assert.True(generation > 0);
        StoredEntry? read = await store.GetAsync(Bucket, "dir/b", none);
        Assert.NotNull(read);
        Assert.Equal(generation, read.Generation);
        Assert.Equal(first, read.Attributes);
        WriteOutcome again = await store.PutAsync(Bucket, "dir/b", second, 0, none);
        Assert.False(again.Committed);
        Assert.True(again.Generation is null || again.Generation == generation, $"conflict said {again.Generation}, current is {generation}");
        Assert.Equal(first, (await store.GetAsync(Bucket, "dir/b", none))!.Attributes);

        // Compare-and-swap: the current generation wins and moves the generation; the stale one loses and changes nothing.
        WriteOutcome swapped = await store.PutAsync(Bucket, "dir/b", second, generation, none);
        Assert.True(swapped.Committed);
        long next = swapped.Generation!.Value;
        Assert.NotEqual(generation, next);
        WriteOutcome stale = await store.PutAsync(Bucket, "dir/b", first, generation, none);
        Assert.False(stale.Committed);
        Assert.True(stale.Generation is null || stale.Generation == next, $"conflict said {stale.Generation}, current is {next}");
        StoredEntry afterStale = (await store.GetAsync(Bucket, "dir/b", none))!;
        Assert.Equal(next, afterStale.Generation);
        Assert.Equal(second, afterStale.Attributes);

        // An unconditional put always writes.
        WriteOutcome overwritten = await store.PutAsync(Bucket, "dir/b", first, null, none);
        Assert.True(overwritten.Committed);
        Assert.Equal(first, (await store.GetAsync(Bucket, "dir/b", none))!.Attributes);

        // Listing: one page of the directory's entries in byte order, nothing from a sibling directory or another bucket's keys.
        Assert.True((await store.PutAsync(Bucket, "dir/a", first, 0, none)).Committed);
        Assert.True((await store.PutAsync(Bucket, "dir/c", first, 0, none)).Committed);
        Assert.True((await store.PutAsync(Bucket, "dir0/x", first, 0, none)).Committed);
        Assert.True((await store.PutAsync(Bucket, "di/y", first, 0, none)).Committed);
        Assert.Equal(["dir/a", "dir/b"], await store.ListAsync(Bucket, "dir", null, 2, none));
        Assert.Equal(["dir/a", "dir/b", "dir/c"], await store.ListAsync(Bucket, "dir", null, 100, none));
        Assert.Empty(await store.ListAsync(Bucket, "nothing-here", null, 100, none));

        // A page resumes strictly after the given entry, still inside the directory.
        Assert.Equal(["dir/b"], await store.ListAsync(Bucket, "dir", "dir/a", 1, none));
        Assert.Equal(["dir/b", "dir/c"], await store.ListAsync(Bucket, "dir", "dir/a", 100, none));
        Assert.Empty(await store.ListAsync(Bucket, "dir", "dir/c", 100, none));

        // Rename moves the entry with its attributes; a missing source and an existing destination change nothing.
        Assert.Equal(RenameOutcome.Renamed, await store.RenameAsync(Bucket, "dir/c", "dir/d", none));
        Assert.Null(await store.GetAsync(Bucket, "dir/c", none));
        Assert.Equal(first, (await store.GetAsync(Bucket, "dir/d", none))!.Attributes);
        Assert.Equal(["dir/a", "dir/b", "dir/d"], await store.ListAsync(Bucket, "dir", null, 100, none));
        Assert.Equal(RenameOutcome.SourceMissing, await store.RenameAsync(Bucket, "dir/c", "dir/e", none));
        Assert.Equal(RenameOutcome.DestinationExists, await store.RenameAsync(Bucket, "dir/a", "dir/b", none));
        Assert.NotNull(await store.GetAsync(Bucket, "dir/a", none));

        // A preload batch lands whole.
        var catalog = new ObjectCatalog("load", 150, 3);
        await store.LoadAsync(Bucket, [.. Enumerable.Range(0, 150).Select(i => (catalog.PathOf(i), ObjectCatalog.Attributes(i)))], none);
        foreach (int i in new[] { 0, 74, 149 })
        {
            Assert.Equal(ObjectCatalog.Attributes(i), (await store.GetAsync(Bucket, catalog.PathOf(i), none))!.Attributes);
        }

        Assert.Equal(50, (await store.ListAsync(Bucket, "load/d00001", null, 1000, none)).Count);

        // A directory rename moves every entry under the new name, attributes kept; nothing stays under the old one.
        Assert.Equal(RenameOutcome.Renamed, await store.RenameDirectoryAsync(Bucket, "load/d00001", "moved", none));
        IReadOnlyList<string> moved = await store.ListAsync(Bucket, "moved", null, 1000, none);
        Assert.Equal(50, moved.Count);
        Assert.All(moved, path => Assert.StartsWith("moved/obj-", path, StringComparison.Ordinal));
        Assert.Empty(await store.ListAsync(Bucket, "load/d00001", null, 1000, none));
        Assert.Equal(ObjectCatalog.Attributes(1), (await store.GetAsync(Bucket, "moved/obj-000000001", none))!.Attributes);
        Assert.Null(await store.GetAsync(Bucket, catalog.PathOf(1), none));
        Assert.Equal(RenameOutcome.SourceMissing, await store.RenameDirectoryAsync(Bucket, "load/d00001", "elsewhere", none));
        Assert.Equal(RenameOutcome.DestinationExists, await store.RenameDirectoryAsync(Bucket, "moved", "load/d00002", none));
        Assert.Equal(50, (await store.ListAsync(Bucket, "load/d00002", null, 1000, none)).Count);
        Assert.Equal(50, (await store.ListAsync(Bucket, "moved", null, 1000, none)).Count);
        Assert.False(string.IsNullOrWhiteSpace(target.Description));
        Assert.False(string.IsNullOrWhiteSpace(target.Durability));
    }

    /// <summary>
    /// Runs the contract, then disposes the peer (also when the contract fails) and asserts its server processes and
    /// every child they had are gone.
    /// </summary>
    private static async Task AssertContractThenTeardownAsync(BenchTarget peer, IReadOnlyList<int> servers)
    {
        List<int> family;
        try
        {
            await AssertContractAsync(peer);
            family = [.. servers.SelectMany(ProcessTree)];
            Assert.All(servers, pid => Assert.True(PeerServer.IsAlive(pid), $"server {pid} is not running before teardown"));
        }
        finally
        {
            await peer.DisposeAsync();
        }

        Assert.True(family.Count >= servers.Count);
        Assert.All(family, pid => Assert.False(PeerServer.IsAlive(pid), $"process {pid} survived the teardown"));
    }

    /// <summary><paramref name="root"/> and its descendants, from /proc (e.g. PostgreSQL's backends and background workers).</summary>
    private static IEnumerable<int> ProcessTree(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (string directory in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out int pid))
            {
                continue;
            }

            try
            {
                string stat = File.ReadAllText(Path.Combine(directory, "stat"));
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parents[pid] = int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
        }

        var tree = new List<int> { root };
        for (int i = 0; i < tree.Count; i++)
        {
            tree.AddRange(parents.Where(p => p.Value == tree[i]).Select(p => p.Key));
        }

        return tree;
    }
}
