using Strata.Server;

namespace Strata.Cli.Tests;

/// <summary>One in-memory node on a free port, shared by the tests of a collection; each test uses its own bucket.</summary>
public sealed class NodeFixture : IAsyncLifetime
{
    private StrataServer? _server;
    private int _buckets;

    public string Address => _server!.Address.ToString().TrimEnd('/');

    /// <summary>A bucket name no other test uses.</summary>
    public string NewBucketName(string hint) => $"{hint}-{Interlocked.Increment(ref _buckets)}";

    public async Task InitializeAsync() =>
        _server = await StrataServer.StartAsync(new StrataServerOptions { InMemory = true, Port = 0 });

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class NodeCollection : ICollectionFixture<NodeFixture>
{
    public const string Name = "node";
}
