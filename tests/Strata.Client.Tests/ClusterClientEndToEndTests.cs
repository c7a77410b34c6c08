using Strata.Api.V1;
using Strata.Server;

namespace Strata.Client.Tests;

/// <summary>
/// A cluster client against a real node (a one-node cluster): the map it serves, the trailers it sends and the
/// client's routing agree on the wire.
/// </summary>
public sealed class ClusterClientEndToEndTests : IAsyncLifetime
{
    private StrataServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await StrataServer.StartAsync(new StrataServerOptions { InMemory = true, Port = 0 });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_cluster_client_routes_by_the_nodes_map_and_learns_its_leader()
    {
        using StrataClient client = StrataClient.ConnectCluster([_server.Address]);

        await client.CreateBucketAsync("e2e-routing");
        Entry put = await client.PutObjectAsync("e2e-routing", "a/b.ts", new ObjectAttributes { Size = 3 });
        Entry stat = await client.StatAsync("e2e-routing", "a/b.ts");
        ListBucketsResponse buckets = await client.ListBucketsAsync();

        Assert.Equal(put.Generation, stat.Generation);
        Assert.Contains(buckets.Buckets, b => b.Name == "e2e-routing");
        ClusterSnapshot map = client.Cluster!.Current!;
        ClusterNode node = Assert.Single(map.Nodes);
        Assert.Equal(_server.Address.Port, new Uri($"http://{node.ApiAddress}").Port);
        ClusterShard shard = map.ShardFor("e2e-routing")!;
        Assert.Equal(node.Id, shard.Leader);
        RoutingCounters counters = client.Cluster.Counters;
        Assert.Equal(0, counters.RedirectsFollowed);
        Assert.Equal(0, counters.ConnectionFailures);
        Assert.True(counters.MapFetches >= 1);
    }
}
