using System.Net;
using System.Net.Sockets;

namespace Strata.Transport;

public sealed partial class TcpTransport
{
    /// <summary>
    /// Keeps the connection to a peer with a higher id: dial, handshake, run the connection until it ends, wait a
    /// backoff, dial again — until the peer is removed or the transport disposed. The backoff starts at the initial
    /// delay after a connection that worked and doubles per consecutive failed attempt, up to the maximum, each delay
    /// shortened by a random fraction of up to <see cref="TcpTransportOptions.ReconnectJitter"/>.
    /// </summary>
    private async Task DialLoopAsync(PeerLink link)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(link.Lifetime.Token, _stop.Token);
        var cancellationToken = stopping.Token;
        var failures = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var address = link.Address!;
                try
                {
                    var connection = await DialAsync(link, address, cancellationToken).ConfigureAwait(false);
                    failures = 0;
                    await connection.Completion.ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    // Whatever went wrong with this attempt, the loop goes on: the peer may come back.
                    failures++;
                    var reason = e is SocketException s ? $"{s.SocketErrorCode}: {s.Message}" : e.Message;
                    link.DialFailed(reason);
                    if (failures == 1)
                    {
                        TransportLog.DialFailed(Logger, link.NodeId, address, reason);
                    }
                    else
                    {
                        TransportLog.DialFailedAgain(Logger, link.NodeId, address, failures, reason);
                    }
                }

                // An address change (SetPeer) cuts the wait short.
                await link.AddressChanged.WaitAsync(Backoff(failures), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Removed or disposed.
        }
        catch (Exception e)
        {
            TransportLog.UnexpectedError(Logger, link.NodeId, e);
        }
    }

    /// <summary>Connects to <paramref name="address"/>, says hello and checks the welcome; on success the connection
    /// is the link's current one and running.</summary>
    private async Task<PeerConnection> DialAsync(PeerLink link, string address, CancellationToken cancellationToken)
    {
        var socket = await ConnectAsync(PeerAddress.Parse(address), address, cancellationToken).ConfigureAwait(false);
        SocketPipes? pipes = null;
        try
        {
            pipes = SocketPipes.Open(socket);
            using (var handshakeTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                handshakeTimeout.CancelAfter(Options.HandshakeTimeout);
                try
                {
                    var hello = Handshake.EncodeHello(LocalNode, link.NodeId, Options.ClusterId);
                    await pipes.Writer.WriteAsync(hello, handshakeTimeout.Token).ConfigureAwait(false);
                    var payload = await Handshake.ReadRecordAsync(pipes.Reader, RecordKind.Welcome, handshakeTimeout.Token).ConfigureAwait(false);
                    CheckWelcome(Handshake.DecodeWelcome(payload), link.NodeId, address);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"handshake with {address} timed out after {Options.HandshakeTimeout}");
                }
            }

            return Adopt(link, pipes, dialed: true);
        }
        catch
        {
            if (pipes is not null)
            {
                pipes.Close();
            }
            else
            {
                socket.Dispose();
            }

            throw;
        }
    }

    /// <summary>Resolves the host and connects to the first of its addresses that answers, within the connect
    /// timeout. The socket's address family follows the address (no reliance on dual-mode IPv6 sockets, which a host
    /// without IPv6 cannot create).</summary>
    private async Task<Socket> ConnectAsync(PeerAddress peer, string address, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.ConnectTimeout);
        try
        {
            var candidates = IPAddress.TryParse(peer.Host, out var literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(peer.Host, timeout.Token).ConfigureAwait(false);
            if (candidates.Length == 0)
            {
                throw new SocketException((int)SocketError.HostNotFound);
            }

            SocketException? last = null;
            foreach (var ip in candidates)
            {
                var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(ip, peer.Port), timeout.Token).ConfigureAwait(false);
                    return socket;
                }
                catch (SocketException e)
                {
                    socket.Dispose();
                    last = e;
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            }

            throw last!;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"connecting to {address} timed out after {Options.ConnectTimeout}");
        }
    }

    private static void CheckWelcome(Handshake.Welcome welcome, ulong expected, string address)
    {
        if (welcome.Magic != Handshake.Magic)
        {
            throw new WireProtocolException($"{address} does not speak the Strata transport protocol", corrupt: false);
        }

        if (welcome.Status != HandshakeStatus.Accepted)
        {
            throw new WireProtocolException($"refused by {address} ({welcome.Status}): {welcome.Reason}", corrupt: false);
        }

        if (welcome.Version != Handshake.Version)
        {
            throw new WireProtocolException($"{address} answered with protocol version {welcome.Version}, expected {Handshake.Version}", corrupt: false);
        }

        if (welcome.Acceptor != expected)
        {
            throw new WireProtocolException($"{address} is node {welcome.Acceptor}, expected node {expected}", corrupt: false);
        }
    }

    private TimeSpan Backoff(int failures)
    {
        var initial = Options.ReconnectInitialBackoff.TotalMilliseconds;
        var delay = Math.Min(Options.ReconnectMaxBackoff.TotalMilliseconds, initial * Math.Pow(2, Math.Min(failures, 30)));
        double random;
        lock (_jitter)
        {
            random = _jitter.NextDouble();
        }

        return TimeSpan.FromMilliseconds(Math.Max(1, delay * (1 - (Options.ReconnectJitter * random))));
    }
}
