using System.Net;
using System.Net.Sockets;

namespace Strata.Bench.Targets;

/// <summary>
/// Loopback ports for nodes that are killed and restarted on the same addresses (local clusters, chaos, crash trials) and for the peers benchmarks start.
/// They come from below Linux's ephemeral range (which starts at 32768): a port the kernel picked for a probe is free to
/// be picked again for any outgoing connection (a client, another node's transport) while its node is down, and the
/// restart then fails with "address already in use". Ports here are only ever taken by explicit listeners. Each process
/// starts at its own offset and walks on, so concurrent test processes rarely meet; a port someone listens on is skipped.
/// Thread-safe.
/// </summary>
public static class LoopbackPorts
{
    private const int Base = 20000;
    private const int Span = 12000;
    private static int _next = Environment.ProcessId * 7919 % Span;

    /// <summary>
    /// <paramref name="count"/> distinct ports nobody listened on when probed. All probes are held open together and
    /// closed before returning, so the caller binds them next.
    /// </summary>
    public static int[] Reserve(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var probes = new List<TcpListener>(count);
        try
        {
            for (int attempts = 0; probes.Count < count; attempts++)
            {
                if (attempts > Span)
                {
                    throw new IOException($"no free loopback port in {Base}..{Base + Span - 1}");
                }

                int port = Base + (int)((uint)Interlocked.Increment(ref _next) % Span);
                var probe = new TcpListener(IPAddress.Loopback, port);
                try
                {
                    probe.Start();
                    probes.Add(probe);
                }
                catch (SocketException)
                {
                    probe.Dispose(); // someone else's; try the next one
                }
            }

            return [.. probes.Select(p => ((IPEndPoint)p.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (TcpListener probe in probes)
            {
                probe.Stop();
                probe.Dispose();
            }
        }
    }
}
