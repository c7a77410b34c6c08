using Grpc.Net.Client;

namespace Strata.Cli.Cluster;

/// <summary>
/// The gRPC channel the CLI's own calls to a node go through (observing a cluster, membership and chaos faults, node
/// administration). Cancelling a call's token ends it with <see cref="OperationCanceledException"/>, the way every
/// caller's waits end: gRPC's default, an <see cref="Grpc.Core.RpcException"/> with status Cancelled, escaped the
/// callers' "gave up after N s" handling whenever a deadline fell while a call was in flight (a slow machine).
/// </summary>
internal static class ProbeChannel
{
    public static GrpcChannel For(Uri address) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions { ThrowOperationCanceledOnCancellation = true });
}
