using System.Net;
using System.Net.Sockets;
using Strata.Cli.Cluster;

namespace Strata.Cli.Tests;

/// <summary>
/// The CLI's waits on a cluster (readiness, membership steps, chaos faults) end with "gave up after N s" when their
/// token is cancelled: a call still in flight at that moment must end as a cancellation too, not as an
/// <see cref="Grpc.Core.RpcException"/> with status Cancelled that no wait handles (a chaos run once died of it as
/// "unexpected error" on a loaded machine).
/// </summary>
public sealed class ProbeChannelTests
{
    [Fact]
    public async Task A_wait_that_runs_out_while_a_call_is_in_flight_ends_as_a_cancellation()
    {
        // Accepts connections (the kernel completes them) and never speaks HTTP/2: every call to it stays in flight.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var address = new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}");

        using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        Exception ended = await Record.ExceptionAsync(() => ClusterObservation.ObserveAsync(address, TimeSpan.FromMinutes(5), wait.Token));

        Assert.IsAssignableFrom<OperationCanceledException>(ended);
    }
}
