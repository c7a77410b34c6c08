using Strata.Cli.Cluster;

namespace Strata.Cli.Tests;

/// <summary>
/// A 3-node cluster of real <c>strata start</c> processes (started by the <see cref="LocalCluster"/> the demo uses),
/// shared by the tests of <see cref="ProcessCollection"/>. Every process is stopped on dispose, and also when
/// starting fails; each node also stops by itself when this test process dies (its standard input closes).
/// </summary>
public sealed class LocalClusterFixture : IAsyncLifetime
{
    // A liveness bound, not a timing assertion: a cluster that never gets ready fails the tests instead of hanging.
    internal static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private int _buckets;

    internal LocalCluster Cluster { get; private set; } = null!;

    /// <summary>A bucket name no other test uses.</summary>
    public string NewBucketName(string hint) => $"{hint}-{Interlocked.Increment(ref _buckets)}";

    public async Task InitializeAsync()
    {
        Cluster = LocalCluster.Create(new LocalClusterOptions { Nodes = 3, ClusterId = "cli-tests" });
        try
        {
            Cluster.StartAll();
            await Cluster.WaitUntilReadyAsync(Patience, CancellationToken.None);
        }
        catch
        {
            await Cluster.DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>The tests that start real node processes: one at a time, so they do not compete for the machine's cores.</summary>
[CollectionDefinition(Name)]
public sealed class ProcessCollection : ICollectionFixture<LocalClusterFixture>
{
    public const string Name = "processes";
}
