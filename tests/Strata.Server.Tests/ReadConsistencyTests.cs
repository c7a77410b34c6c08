using Grpc.Core;
using Grpc.Net.Client;
using Strata.Api.V1;
using Strata.Storage;
using NamespaceKeys = Strata.Namespace.NamespaceKeys;
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
        InterleavingEngine.Pause pause = engine.PauseNextGet(ServerHarness.EngineKey(server, "race", NamespaceKeys.Entry(a, "b"u8)));
        Task<Entry> stat = client.StatAsync("race", "a/b/o");
        await pause.Reached.WaitAsync(TimeSpan.FromSeconds(60)); // fails instead of hanging if the read never comes

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
        InterleavingEngine.Pause pause = engine.PauseNextScan(ServerHarness.EngineKey(server, "race", NamespaceKeys.DirectoryEntries(d2).Lower));
        Task<ListResponse> listing = client.ListAsync(new ListRequest { Bucket = "race", Delimiter = "" }).ResponseAsync;
        await pause.Reached.WaitAsync(TimeSpan.FromSeconds(60)); // fails instead of hanging if the read never comes
        await client.RenameAsync(new RenameRequest { Bucket = "race", Source = "d1/o", Destination = "d2/o" });
        pause.Resume();

        List<string> paths = (await listing).Entries.Paths();
        Assert.True(paths.SequenceEqual(["d1", "d1/o", "d2"]) || paths.SequenceEqual(["d1", "d2", "d2/o"]),
            "the listing mixed two states: " + string.Join(", ", paths));
    }
}
