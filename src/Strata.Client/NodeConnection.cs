using Grpc.Core;
using Grpc.Net.Client;
using GrpcCluster = Strata.Api.V1.Cluster;
using GrpcStrata = Strata.Api.V1.Strata;

namespace Strata.Client;

/// <summary>
/// The stubs of one node's gRPC services over one channel: <c>strata.v1.Strata</c> and <c>strata.v1.Cluster</c>.
/// </summary>
/// <remarks>Thread-safe (gRPC stubs are). Disposing closes the channel only when this connection opened it.</remarks>
internal sealed class NodeConnection : IDisposable
{
    private readonly GrpcChannel? _ownedChannel;

    public NodeConnection(CallInvoker invoker, Uri? address, GrpcChannel? ownedChannel)
    {
        ArgumentNullException.ThrowIfNull(invoker);
        Strata = new GrpcStrata.StrataClient(invoker);
        Cluster = new GrpcCluster.ClusterClient(invoker);
        Address = address;
        Key = address is null ? "" : KeyOf(address);
        _ownedChannel = ownedChannel;
    }

    /// <summary>The node's address; null for a caller-supplied invoker.</summary>
    public Uri? Address { get; }

    /// <summary>The address as scheme://host:port, the identity of the connection in a pool.</summary>
    public string Key { get; }

    public GrpcStrata.StrataClient Strata { get; }

    public GrpcCluster.ClusterClient Cluster { get; }

    /// <summary>Opens an HTTP/2 channel to <paramref name="address"/> (lazily: nothing is dialled until a call).</summary>
    public static NodeConnection Open(Uri address)
    {
        var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                ConnectTimeout = TimeSpan.FromSeconds(5),
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                KeepAlivePingDelay = TimeSpan.FromSeconds(60),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
            },
            // False: a passed deadline must surface as DEADLINE_EXCEEDED, which the retry policy retries; with true,
            // gRPC reports it as a cancellation the caller never asked for and the call is not retried. The caller's
            // own cancellation still becomes OperationCanceledException (StrataClient.InvokeAsync translates it).
            ThrowOperationCanceledOnCancellation = false,
        });
        return new NodeConnection(channel.CreateCallInvoker(), address, channel);
    }

    /// <summary>scheme://host:port of <paramref name="address"/> (path, query and user info dropped).</summary>
    public static string KeyOf(Uri address) => address.GetLeftPart(UriPartial.Authority);

    public void Dispose() => _ownedChannel?.Dispose();
}
