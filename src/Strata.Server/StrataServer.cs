using System.Net;
using System.Net.Sockets;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Grpc.Net.Client;
using Strata.Api.V1;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Strata.Cluster;
using Strata.Cluster.Meta;
using OpenTelemetry.Metrics;
using Strata.Replication;
using Strata.Storage;
using Strata.Transport;

namespace Strata.Server;

/// <summary>
/// A running Strata node: a <see cref="ClusterNode"/> served over gRPC (<c>strata.v1.Strata</c>, <c>strata.v1.Cluster</c>
/// and the standard <c>grpc.health.v1.Health</c>) by Kestrel, HTTP/2 without TLS (h2c), on one address. With no
/// founding members configured it is the embedded single-node cluster: every shard's only voter is this node.
/// </summary>
/// <remarks>
/// <para>Lifecycle: <see cref="StartAsync"/> opens the node, waits until it is ready (up to
/// <see cref="StrataServerOptions.ReadyTimeout"/>), then starts listening; it returns once the port is bound
/// (<see cref="Address"/> is the actual address, also when port 0 asked for a free one).
/// <see cref="DisposeAsync"/> stops accepting, lets in-flight calls finish, then closes the node (every
/// acknowledged mutation is already durable) and its engine. Host executables call
/// <see cref="WaitForShutdownAsync"/> and dispose the server when it returns (Ctrl+C or SIGTERM).</para>
/// <para>Health: SERVING while the node runs; NOT_SERVING once a storage failure stopped it (calls then fail
/// with UNAVAILABLE and the operator is expected to restart the process).</para>
/// <para>Thread-safe. Dispose exactly once; further disposals do nothing.</para>
/// </remarks>
public sealed class StrataServer : IAsyncDisposable
{
    /// <summary>The service name the health service also reports under (besides "", the whole server).</summary>
    public const string HealthServiceName = "strata.v1.Strata";

    private readonly WebApplication _application;
    private readonly IKvEngine? _ownedEngine;
    private readonly IAsyncDisposable? _ownedTransport;
    private int _disposed;

    private StrataServer(WebApplication application, ClusterNode node, IAsyncDisposable? ownedTransport, IKvEngine? ownedEngine,
        string dataDirectory, Uri address)
    {
        _application = application;
        Node = node;
        _ownedTransport = ownedTransport;
        _ownedEngine = ownedEngine;
        DataDirectory = dataDirectory;
        Address = address;
    }

    /// <summary>The operations endpoint (<c>/metrics</c>, <c>/healthz</c>), or null when it is off.</summary>
    public Uri? MetricsAddress { get; private init; }

    /// <summary>The bound address, e.g. http://127.0.0.1:7070.</summary>
    public Uri Address { get; }

    /// <summary>The node the server serves (tests and embedding hosts may use it directly).</summary>
    public ClusterNode Node { get; }

    /// <summary>The full path of the node's RocksDB directory; empty when the node's engine is not on disk.</summary>
    public string DataDirectory { get; }

    /// <summary>Opens the node and starts serving. Throws if the data directory cannot be opened or the port bound.</summary>
    public static async Task<StrataServer> StartAsync(StrataServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        IPAddress address = ParseHost(options.Host);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Port, IPEndPoint.MaxPort);

        int port = options.Port == 0 ? FreePort(address) : options.Port;
        int? metricsPort = options.MetricsPort switch
        {
            null => null,
            0 => FreePort(address),
            int chosen when chosen is > 0 and <= IPEndPoint.MaxPort => chosen,
            int bad => throw new ArgumentOutOfRangeException(nameof(options), $"metrics port {bad} is outside 0..65535"),
        };
        (IKvEngine engine, IKvEngine? ownedEngine, string dataDirectory) = OpenEngine(options);
        ClusterNode? node = null;
        IAsyncDisposable? transport = null;
        WebApplication? application = null;
        try
        {
            int raftPort = options.RaftPort switch
            {
                null when options.Port != 0 && port < IPEndPoint.MaxPort => port + 1,
                null or 0 => FreePort(address),
                int chosen when chosen is > 0 and <= IPEndPoint.MaxPort => chosen,
                int bad => throw new ArgumentOutOfRangeException(nameof(options), $"raft port {bad} is outside 0..65535"),
            };
            (node, transport) = await StartNodeAsync(options, engine, $"{FormatHost(address)}:{port}", $"{FormatHost(address)}:{raftPort}",
                cancellationToken).ConfigureAwait(false);
            if (options.ReadyTimeout > TimeSpan.Zero)
            {
                using var ready = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                ready.CancelAfter(options.ReadyTimeout);
                await node.WaitUntilReadyAsync(ready.Token).ConfigureAwait(false);
            }

            application = BuildApplication(options, address, port, metricsPort, node);
            await application.StartAsync(cancellationToken).ConfigureAwait(false);
            var bound = new Uri($"http://{FormatHost(address)}:{port}");
            Uri? metrics = metricsPort is int m ? new Uri($"http://{FormatHost(address)}:{m}") : null;
            return new StrataServer(application, node, transport, ownedEngine, dataDirectory, bound) { MetricsAddress = metrics };
        }
        catch
        {
            if (application is not null)
            {
                await application.DisposeAsync().ConfigureAwait(false);
            }

            if (node is not null)
            {
                await node.DisposeAsync().ConfigureAwait(false);
            }

            if (transport is not null)
            {
                await transport.DisposeAsync().ConfigureAwait(false);
            }

            ownedEngine?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Completes when the server is asked to stop: Ctrl+C or SIGTERM, or <see cref="DisposeAsync"/>. Throws
    /// <see cref="OperationCanceledException"/> if <paramref name="cancellationToken"/> fires first.
    /// </summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default)
    {
        IHostApplicationLifetime lifetime = _application.Lifetime;
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        CancellationTokenRegistration registration = lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());
        _ = stopping.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return stopping.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Stops gracefully: no new calls, in-flight calls finish, then the node and its engine close.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _application.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            await _application.DisposeAsync().ConfigureAwait(false);
            await Node.DisposeAsync().ConfigureAwait(false);
            if (_ownedTransport is not null)
            {
                await _ownedTransport.DisposeAsync().ConfigureAwait(false);
            }

            _ownedEngine?.Dispose();
        }
    }

    private static (IKvEngine Engine, IKvEngine? OwnedEngine, string DataDirectory) OpenEngine(StrataServerOptions options)
    {
        if (options.Engine is { } engine)
        {
            return (engine, null, engine is RocksDbEngine rocks ? rocks.Directory : "");
        }

        if (options.InMemory)
        {
            var memory = new InMemoryKvEngine();
            return (memory, memory, "");
        }

        string directory = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(directory);
        RocksDbEngine rocksDb = RocksDbEngine.Open(directory);
        return (rocksDb, rocksDb, directory);
    }

    /// <summary>
    /// Starts the cluster node and its transport (TCP unless the options bring one). A single node's own record names
    /// the addresses it serves on; a joining node first asks a member to add it (see
    /// <see cref="StrataServerOptions.JoinAddress"/>). Returns the transport if the server owns it.
    /// </summary>
    private static async Task<(ClusterNode Node, IAsyncDisposable? OwnedTransport)> StartNodeAsync(StrataServerOptions options,
        IKvEngine engine, string apiAddress, string raftAddress, CancellationToken cancellationToken)
    {
        ClusterNodeOptions cluster = options.Cluster;
        ulong? recorded = ClusterNode.RecordedNodeId(engine);
        if (options.JoinAddress is { } join)
        {
            cluster = await JoinAsync(cluster, join, recorded, apiAddress, raftAddress, options.ReadyTimeout, cancellationToken)
                .ConfigureAwait(false);
        }
        else if (cluster.InitialCluster.Count == 0)
        {
            // The embedded single node (or a node that joined once and restarts without --join: its id is recorded).
            ulong id = recorded ?? cluster.NodeId;
            cluster = cluster with
            {
                NodeId = id,
                InitialCluster = [new NodeRecord { Id = id, ApiAddress = apiAddress, RaftAddress = raftAddress }],
            };
        }

        ClusterNode? started = null;
        void Wake() => started?.Wake();
        if (options.Transport is { } makeTransport)
        {
            started = ClusterNode.Start(cluster, engine, makeTransport(cluster, Wake), time: SkewedClock.Process);
            return (started, null);
        }

        TcpLink tcp = await StartTcpAsync(cluster, Wake, options.MinimumLogLevel, cancellationToken).ConfigureAwait(false);
        try
        {
            started = ClusterNode.Start(cluster, engine, tcp.Transport, time: SkewedClock.Process);
            CheckRecordedAddresses(started, apiAddress, raftAddress, cluster.InitialCluster.Count > 1 && !cluster.Joining);
            return (started, tcp);
        }
        catch
        {
            if (started is not null)
            {
                await started.DisposeAsync().ConfigureAwait(false);
            }

            await tcp.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Other nodes reach this one at the addresses the meta shard recorded: a node of a cluster of several that
    /// restarts elsewhere would be unreachable, so it is refused with the addresses to use. (Founding members take
    /// theirs from the initial cluster, which names them.)
    /// </summary>
    private static void CheckRecordedAddresses(ClusterNode node, string apiAddress, string raftAddress, bool addressesFromFlags)
    {
        ShardMap map = node.Map;
        if (addressesFromFlags || !map.IsBootstrapped || map.LiveNodes.Count() < 2 || map.FindNode(node.NodeId) is not { } self)
        {
            return;
        }

        if (self.RaftAddress != raftAddress || self.ApiAddress != apiAddress)
        {
            throw new InvalidOperationException(
                $"node {node.NodeId} is recorded in cluster '{map.ClusterId}' at API {self.ApiAddress} and raft {self.RaftAddress}, "
                + $"not {apiAddress} and {raftAddress}: start it on its recorded addresses (--host, --port, --raft-port); "
                + "moving a node to new addresses is not supported");
        }
    }

    /// <summary>
    /// The options of a joining node: on an empty data directory, asks the member at <paramref name="joinAddress"/> to
    /// add this node (retrying while the cluster has no meta leader, up to <paramref name="patience"/>) and takes the
    /// id and members it answers with; on restart, the recorded id (the map in the node's meta replica names the peers).
    /// </summary>
    private static async Task<ClusterNodeOptions> JoinAsync(ClusterNodeOptions cluster, string joinAddress, ulong? recorded,
        string apiAddress, string raftAddress, TimeSpan patience, CancellationToken cancellationToken)
    {
        if (recorded is { } id)
        {
            return cluster with
            {
                NodeId = id,
                Joining = true,
                InitialCluster = [new NodeRecord { Id = id, ApiAddress = apiAddress, RaftAddress = raftAddress }],
            };
        }

        using GrpcChannel channel = GrpcChannel.ForAddress(joinAddress.Contains("://", StringComparison.Ordinal) ? joinAddress : $"http://{joinAddress}");
        var client = new Api.V1.Cluster.ClusterClient(channel);
        var request = new JoinClusterRequest { NodeId = cluster.NodeId, ApiAddress = apiAddress, RaftAddress = raftAddress };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        JoinClusterResponse response;
        while (true)
        {
            try
            {
                response = await client.JoinClusterAsync(request, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: cancellationToken);
                break;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded && clock.Elapsed < patience)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException e)
            {
                throw new InvalidOperationException($"joining the cluster through {joinAddress} failed: {e.Status.Detail} ({e.StatusCode})", e);
            }
        }

        if (cluster.ClusterId != response.ClusterId && cluster.ClusterId != new ClusterNodeOptions().ClusterId)
        {
            throw new InvalidOperationException($"{joinAddress} belongs to cluster '{response.ClusterId}', not '{cluster.ClusterId}'");
        }

        return cluster with
        {
            NodeId = response.NodeId,
            ClusterId = response.ClusterId,
            Joining = true,
            InitialCluster = [.. response.Nodes.Select(n => new NodeRecord { Id = n.Id, ApiAddress = n.ApiAddress, RaftAddress = n.RaftAddress })],
        };
    }

    /// <summary>The TCP transport the server owns, with the logger factory that writes its log (disposed together).</summary>
    private sealed class TcpLink(TcpTransport transport, ILoggerFactory logs) : IAsyncDisposable
    {
        public TcpTransport Transport => transport;

        public async ValueTask DisposeAsync()
        {
            await transport.DisposeAsync().ConfigureAwait(false);
            logs.Dispose();
        }
    }

    /// <summary>The node-to-node TCP transport: listens on this node's raft address, dials the other founding members.</summary>
    private static async Task<TcpLink> StartTcpAsync(ClusterNodeOptions cluster, Action wake, LogLevel level, CancellationToken cancellationToken)
    {
        NodeRecord self = cluster.InitialCluster.First(n => n.Id == cluster.NodeId);
        if (string.IsNullOrEmpty(self.RaftAddress))
        {
            throw new ArgumentException($"node {self.Id} has no raft address in the initial cluster");
        }

        PeerAddress listen = PeerAddress.Parse(self.RaftAddress);
        IPAddress listenAddress = IPAddress.TryParse(listen.Host, out IPAddress? literal) ? literal
            : listen.Host == "localhost" ? IPAddress.Loopback
            : throw new ArgumentException($"the raft address of node {self.Id} must be an IP literal to listen on, not '{listen.Host}'");
        var peers = cluster.InitialCluster.Where(n => n.Id != cluster.NodeId).ToDictionary(n => n.Id, n => n.RaftAddress);
        ILoggerFactory logs = LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(level);
            if (level != LogLevel.None)
            {
                builder.AddSimpleConsole(console => console.SingleLine = true);
            }
        });
        try
        {
            TcpTransport transport = await TcpTransport.StartAsync(new TcpTransportOptions
            {
                LocalNodeId = cluster.NodeId,
                ClusterId = cluster.ClusterId,
                ListenEndPoint = new IPEndPoint(listenAddress, listen.Port),
                Peers = peers,
                FrameArrived = wake,
                Logger = logs.CreateLogger("Strata.Transport"),
                NodeClock = SkewedClock.Process ?? TimeProvider.System,
            }, cancellationToken).ConfigureAwait(false);
            return new TcpLink(transport, logs);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            // Reported like the API port in use (Kestrel's IOException), naming the port and the flag that moves it.
            logs.Dispose();
            throw new IOException($"the node-to-node address {self.RaftAddress} is already in use (choose another with --raft-port)", e);
        }
        catch
        {
            logs.Dispose();
            throw;
        }
    }

    /// <summary>A port nobody listens on now (the OS picks it), so the node can name its address before Kestrel binds.</summary>
    private static int FreePort(IPAddress address)
    {
        using var probe = new TcpListener(address, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static string FormatHost(IPAddress address) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();

    private static WebApplication BuildApplication(StrataServerOptions options, IPAddress address, int port, int? metricsPort, ClusterNode node)
    {
        // The empty builder reads no configuration files or environment: the options are the whole configuration.
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(StrataServer).Assembly.GetName().Name,
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(address, port, listen => listen.Protocols = HttpProtocols.Http2);
            if (metricsPort is int m)
            {
                kestrel.Listen(address, m, listen => listen.Protocols = HttpProtocols.Http1);
            }
        });
        builder.Logging.SetMinimumLevel(options.MinimumLogLevel);
        if (options.MinimumLogLevel != LogLevel.None)
        {
            builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
        }

        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(node);
        builder.Services.AddSingleton<StrataService>();
        builder.Services.AddSingleton<ClusterService>();
        builder.Services.AddSingleton<StrataEndpoint>();
        builder.Services.AddSingleton<IServiceMethodProvider<StrataEndpoint>, StrictRequestMethodProvider>();
        builder.Services.AddGrpc();
        builder.Services.AddGrpcHealthChecks(health =>
        {
            health.Services.Map("", _ => true);
            health.Services.Map(HealthServiceName, _ => true);
        }).AddCheck<NodeHealthCheck>("node");

        if (metricsPort is not null)
        {
            builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
                .AddMeter(ClusterMetrics.MeterName, ReplicationMetrics.MeterName)
                .AddPrometheusExporter());
        }

        WebApplication application = builder.Build();
        application.UseRouting();
        application.MapGrpcService<StrataEndpoint>(); // strata.v1.Strata, see StrictRequestMethodProvider
        application.MapGrpcService<ClusterService>();
        application.MapGrpcHealthChecksService();
        if (metricsPort is int operations)
        {
            string host = $"*:{operations}";
            application.MapPrometheusScrapingEndpoint("/metrics").RequireHost(host);
            application.MapHealthChecks("/healthz").RequireHost(host);
        }
        return application;
    }

    private static IPAddress ParseHost(string host) => host switch
    {
        "localhost" => IPAddress.Loopback,
        "*" => IPAddress.Any,
        _ when IPAddress.TryParse(host, out IPAddress? parsed) => parsed,
        _ => throw new ArgumentException($"host '{host}' is not an IP address (or 'localhost', or '*' for every address)", nameof(host)),
    };
}
