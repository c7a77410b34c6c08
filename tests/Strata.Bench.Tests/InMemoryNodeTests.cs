using Strata.Client;
using Strata.Server;

namespace Strata.Bench.Tests;

/// <summary>Tests against one in-memory node started for each test, with a client that does not retry.</summary>
public abstract class InMemoryNodeTests : IAsyncLifetime
{
    private StrataServer? _server;
    private StrataClient? _client;

    protected StrataClient Client => _client!;

    /// <summary>The node's address (for more clients).</summary>
    protected Uri Address => _server!.Address;

    public async Task InitializeAsync()
    {
        _server = await StrataServer.StartAsync(new StrataServerOptions { InMemory = true, Port = 0 });
        _client = StrataClient.Connect(_server.Address, new StrataClientOptions { Retry = RetryPolicy.None });
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
