using System.Net.Sockets;

namespace Strata.Transport;

public sealed partial class TcpTransport
{
    /// <summary>Accepts sockets until disposal; each one gets its own handshake task.</summary>
    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (cancellationToken.IsCancellationRequested && e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            catch (SocketException e)
            {
                // Transient (e.g. too many open files): wait a little rather than spin.
                TransportLog.AcceptFailed(Logger, e.SocketErrorCode, e.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }
            catch (Exception e)
            {
                TransportLog.UnexpectedError(Logger, 0, e);
                return;
            }

            Interlocked.Increment(ref _acceptedConnections);
            Track(AcceptAsync(socket, cancellationToken));
        }
    }

    /// <summary>The acceptor's side of the handshake; on success runs the connection until it ends.</summary>
    private async Task AcceptAsync(Socket socket, CancellationToken cancellationToken)
    {
        var remote = "unknown";
        SocketPipes? pipes = null;
        PeerConnection connection;
        try
        {
            remote = socket.RemoteEndPoint?.ToString() ?? remote;
            pipes = SocketPipes.Open(socket);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.HandshakeTimeout);
            var payload = await Handshake.ReadRecordAsync(pipes.Reader, RecordKind.Hello, timeout.Token).ConfigureAwait(false);
            var hello = Handshake.DecodeHello(payload);
            var (status, reason, link) = Admit(hello);
            var welcome = Handshake.EncodeWelcome(LocalNode, status, reason);
            await pipes.Writer.WriteAsync(welcome, timeout.Token).ConfigureAwait(false);
            if (link is null)
            {
                TransportLog.Refused(Logger, remote, hello.Dialer, status, reason);
                pipes.Close();
                return;
            }

            connection = Adopt(link, pipes, dialed: false);
        }
        catch (Exception e)
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                var reason = e is OperationCanceledException ? $"no handshake within {Options.HandshakeTimeout}" : e.Message;
                TransportLog.HandshakeFailed(Logger, remote, reason);
            }

            if (pipes is not null)
            {
                pipes.Close();
            }
            else
            {
                socket.Dispose();
            }

            return;
        }

        await connection.Completion.ConfigureAwait(false);
    }

    /// <summary>Decides on a dialer's hello: the link to attach it to, or the refusal to send.</summary>
    private (HandshakeStatus Status, string Reason, PeerLink? Link) Admit(Handshake.Hello hello)
    {
        if (hello.Magic != Handshake.Magic)
        {
            return (HandshakeStatus.BadMagic, "not the Strata transport protocol", null);
        }

        if (hello.Version != Handshake.Version)
        {
            return (HandshakeStatus.UnsupportedVersion, $"protocol version {hello.Version} is not supported (this node speaks {Handshake.Version})", null);
        }

        if (hello.ClusterId != Options.ClusterId)
        {
            return (HandshakeStatus.WrongCluster, $"cluster '{hello.ClusterId}' does not match this node's cluster '{Options.ClusterId}'", null);
        }

        if (hello.Acceptor != LocalNode)
        {
            return (HandshakeStatus.WrongNode, $"dialed node {hello.Acceptor} but reached node {LocalNode}", null);
        }

        if (hello.Dialer == 0 || hello.Dialer >= LocalNode)
        {
            return (HandshakeStatus.WrongDirection, $"node {hello.Dialer} may not dial node {LocalNode}: the lower id dials", null);
        }

        lock (_peersLock)
        {
            if (_links.TryGetValue(hello.Dialer, out var link))
            {
                return (HandshakeStatus.Accepted, "", link);
            }

            if (!Options.AcceptUnknownPeers)
            {
                return (HandshakeStatus.UnknownNode, $"node {hello.Dialer} is not a known peer of node {LocalNode}", null);
            }

            link = new PeerLink(hello.Dialer, null, Options);
            _links[hello.Dialer] = link;
            return (HandshakeStatus.Accepted, "", link);
        }
    }
}
