using Strata.Cluster;
using Strata.Replication;
using Strata.Storage;

namespace Strata.Server;

/// <summary>How to run a <see cref="StrataServer"/>: where its data lives, where it listens, which cluster it joins.</summary>
public sealed record StrataServerOptions
{
    /// <summary>The RocksDB directory of the node (created if missing). Ignored when <see cref="InMemory"/> or <see cref="Engine"/> is set.</summary>
    public string DataDirectory { get; init; } = "./strata-data";

    /// <summary>Keep the namespace in memory only (tests, demos): everything is lost when the server stops.</summary>
    public bool InMemory { get; init; }

    /// <summary>
    /// Serve this engine instead of opening one; the caller owns it and disposes it after the server. For tests
    /// that need to reach the engine (fault injection, simulated crashes).
    /// </summary>
    public IKvEngine? Engine { get; init; }

    /// <summary>The IP address to listen on ("localhost" means 127.0.0.1).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The TCP port of strata.v1; 0 picks a free one (read the bound one from <see cref="StrataServer.Address"/>).</summary>
    public int Port { get; init; } = 7070;

    /// <summary>
    /// The TCP port (HTTP/1.1, same host) of the operations endpoint: <c>/metrics</c> (Prometheus text format: the
    /// <c>Strata.Cluster</c> and <c>Strata.Replication</c> meters) and <c>/healthz</c> (200 while the node is healthy,
    /// 503 after a storage failure). Null disables it; 0 picks a free port (see <see cref="StrataServer.MetricsAddress"/>).
    /// </summary>
    public int? MetricsPort { get; init; }

    /// <summary>
    /// The TCP port (same host) of the node-to-node transport of a single node or a joining node; with
    /// <see cref="ClusterNodeOptions.InitialCluster"/> the member's own entry gives it. Null: <see cref="Port"/> + 1
    /// (a free port when <see cref="Port"/> is 0); 0: a free port. A single node listens too, so others can join it.
    /// </summary>
    public int? RaftPort { get; init; }

    /// <summary>
    /// Join the cluster of this member (host:port of its strata.v1 endpoint) instead of founding one. On an empty data
    /// directory the server asks that member to add it (<c>JoinCluster</c>; <see cref="ClusterNodeOptions.NodeId"/>
    /// 0 lets the cluster assign the id) and starts with an empty meta replica that the cluster fills; on restart it
    /// reads its id from the data directory and needs no answer from the member.
    /// </summary>
    public string? JoinAddress { get; init; }

    /// <summary>
    /// The cluster node: its id, the founding members (<see cref="ClusterNodeOptions.InitialCluster"/>, empty for the
    /// embedded single-node cluster), shards, timing and garbage collection. A single node's own record gets the
    /// server's bound address.
    /// </summary>
    public ClusterNodeOptions Cluster { get; init; } = new();

    /// <summary>
    /// Makes the node-to-node transport of a multi-node cluster, given this node's options and the callback that
    /// wakes the node when a frame arrives. When null, a cluster of several members uses TCP
    /// (<see cref="Transport.TcpTransport"/>) listening on this node's <c>RaftAddress</c> in
    /// <see cref="ClusterNodeOptions.InitialCluster"/>. In-process tests pass their own. A single node needs none.
    /// </summary>
    public Func<ClusterNodeOptions, Action, ITransport>? Transport { get; init; }

    /// <summary>How long <see cref="StrataServer.StartAsync"/> waits for the node to be ready (bootstrapped, leaders
    /// known) before it starts serving; zero does not wait (a cluster node whose peers are not up yet).</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Least severe log level written to the console; <see cref="LogLevel.None"/> silences the server.</summary>
    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Warning;
}
