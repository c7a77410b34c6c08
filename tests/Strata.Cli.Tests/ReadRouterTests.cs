using Strata.Cli.Chaos;
using Strata.Client;

namespace Strata.Cli.Tests;

/// <summary>
/// Where the chaos workloads send their reads (<see cref="ReadRouter"/>), without processes: the addresses below are
/// never dialled, except by the disposal test, which expects no dial at all.
/// </summary>
public sealed class ReadRouterTests : IDisposable
{
    private static readonly Uri[] Addresses = [new("http://127.0.0.1:1"), new("http://127.0.0.1:2"), new("http://127.0.0.1:3"), new("http://127.0.0.1:4")];
    private readonly StrataClient[] _routed = [.. Enumerable.Range(0, 5).Select(_ => StrataClient.Connect(Addresses[0]))];
    private readonly List<(int Client, Uri Uri)> _connected = [];

    public void Dispose()
    {
        foreach (StrataClient client in _routed)
        {
            client.Dispose();
        }
    }

    [Fact]
    public void Leader_reads_always_take_the_clients_own_shard_aware_client()
    {
        using ReadRouter router = Router(ChaosReads.Leader, () => Homes(1, 2, 3));

        for (int client = 0; client < _routed.Length; client++)
        {
            for (int read = 0; read < 20; read++)
            {
                Assert.Equal(new ReadRoute(_routed[client], null), router.Route(client));
            }
        }

        Assert.Empty(_connected);
    }

    [Fact]
    public void Home_reads_go_to_the_clients_replica_by_id_order_over_one_direct_client_each()
    {
        IReadOnlyList<(ulong, Uri)> homes = Homes(1, 2, 3);
        using ReadRouter router = Router(ChaosReads.Home, () => homes);

        ReadRoute[] first = [.. Enumerable.Range(0, 5).Select(router.Route)];
        Assert.Equal([1UL, 2, 3, 1, 2], first.Select(r => r.Node!.Value));
        Assert.All(first, r => Assert.DoesNotContain(r.Client, _routed));
        Assert.Equal(5, first.Select(r => r.Client).Distinct().Count()); // clients 0 and 3 share a home, not a connection
        Assert.Equal([(0, Addresses[0]), (1, Addresses[1]), (2, Addresses[2]), (3, Addresses[0]), (4, Addresses[1])], _connected);

        // The same client keeps its connection to the same home.
        Assert.Same(first[2].Client, router.Route(2).Client);
        Assert.Equal(5, _connected.Count);

        // The replicas moved (a decommission, a join): client 2's home is now node 4, over a new connection.
        homes = Homes(1, 2, 4);
        ReadRoute moved = router.Route(2);
        Assert.Equal(4UL, moved.Node);
        Assert.NotSame(first[2].Client, moved.Client);
        Assert.Equal((2, Addresses[3]), _connected[^1]);
    }

    [Fact]
    public void With_no_replica_known_a_home_read_takes_the_shard_aware_route()
    {
        using ReadRouter router = Router(ChaosReads.Home, () => []);

        Assert.Equal(new ReadRoute(_routed[3], null), router.Route(3));
        Assert.Empty(_connected);
    }

    [Fact]
    public void Mixed_reads_take_both_routes_by_a_seeded_coin_per_client()
    {
        List<ulong?> Draws(int seed, int client)
        {
            using ReadRouter router = new(ChaosReads.Mixed, seed, _routed, () => Homes(1, 2, 3), (_, uri) => StrataClient.Connect(uri));
            return [.. Enumerable.Range(0, 200).Select(_ => router.Route(client).Node)];
        }

        List<ulong?> draws = Draws(seed: 7, client: 1);
        Assert.Equal(draws, Draws(seed: 7, client: 1));
        Assert.NotEqual(draws, Draws(seed: 8, client: 1));
        Assert.Equal([null, 2UL], draws.Distinct().Order());
        Assert.InRange(draws.Count(n => n is null), 60, 140); // about half of 200 (binomial: 5 sigma is ±35)
    }

    [Fact]
    public async Task Disposing_the_router_disposes_the_direct_clients_it_made_and_refuses_more_routes()
    {
        ReadRouter router = Router(ChaosReads.Home, () => Homes(1, 2, 3));
        StrataClient direct = router.Route(0).Client;

        router.Dispose();

        await Assert.ThrowsAnyAsync<ObjectDisposedException>(() => direct.StatAsync("bucket", "key"));
        Assert.Throws<ObjectDisposedException>(() => router.Route(1));
    }

    private ReadRouter Router(ChaosReads mode, Func<IReadOnlyList<(ulong, Uri)>> homes) =>
        new(mode, seed: 1, _routed, homes, (client, uri) =>
        {
            _connected.Add((client, uri));
            return StrataClient.Connect(uri);
        });

    private static IReadOnlyList<(ulong, Uri)> Homes(params ulong[] ids) => [.. ids.Select(id => (id, Addresses[id - 1]))];
}
