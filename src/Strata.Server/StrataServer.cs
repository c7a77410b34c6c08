using System.Net;
using System.Net.Sockets;
using Grpc.AspNetCore.Server.Model;
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
            (node, transport) = await StartNodeAsync(options, engine, $"{FormatHost(address)}:{port}", cancellationToken).ConfigureAwait(false);
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
    /// Starts the cluster node and its transport (TCP for a cluster of several nodes unless the options bring one);
    /// a single node's own record names the address it serves on. Returns the transport if the server owns it.
    /// </summary>
    private static async Task<(ClusterNode Node, IAsyncDisposable? OwnedTransport)> StartNodeAsync(StrataServerOptions options,
        IKvEngine engine, string apiAddress, CancellationToken cancellationToken)
    {
        ClusterNodeOptions cluster = options.Cluster;
        if (cluster.InitialCluster.Count == 0)
        {
            cluster = cluster with { InitialCluster = [new NodeRecord { Id = cluster.NodeId, ApiAddress = apiAddress }] };
        }

        if (cluster.InitialCluster.Count == 1)
        {
            return (ClusterNode.Start(cluster, engine, new LoneNodeTransport(cluster.NodeId)), null);
        }

        ClusterNode? started = null;
        void Wake() => started?.Wake();
        if (options.Transport is { } makeTransport)
        {
            started = ClusterNode.Start(cluster, engine, makeTransport(cluster, Wake));
            return (started, null);
        }

        TcpLink tcp = await StartTcpAsync(cluster, Wake, options.MinimumLogLevel, cancellationToken).ConfigureAwait(false);
        try
        {
            started = ClusterNode.Start(cluster, engine, tcp.Transport);
            return (started, tcp);
        }
        catch
        {
            await tcp.DisposeAsync().ConfigureAwait(false);
            throw;
        }
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
            }, cancellationToken).ConfigureAwait(false);
            return new TcpLink(transport, logs);
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
