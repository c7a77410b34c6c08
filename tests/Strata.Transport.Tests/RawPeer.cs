using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Strata.Transport.Tests;

/// <summary>A hand-driven socket speaking (or breaking) the wire protocol, for tests of what a transport refuses.</summary>
internal sealed class RawPeer : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    private RawPeer(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public static async Task<RawPeer> Connect(IPEndPoint endPoint)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint);
        return new RawPeer(socket);
    }

    public static RawPeer Wrap(Socket accepted) => new(accepted);

    public async Task Write(byte[] bytes) => await _stream.WriteAsync(bytes);

    /// <summary>Sends a hello and returns the acceptor's welcome.</summary>
    public async Task<Handshake.Welcome> Hello(ulong dialer, ulong acceptor, string cluster = TestNodes.Cluster)
    {
        await Write(Handshake.EncodeHello(dialer, acceptor, cluster));
        var (kind, payload) = await ReadRecord();
        Assert.Equal(RecordKind.Welcome, kind);
        return Handshake.DecodeWelcome(payload);
    }

    /// <summary>Reads one whole record (the test's own minimal parser; it trusts the peer).</summary>
    public async Task<(RecordKind Kind, byte[] Payload)> ReadRecord()
    {
        using var timeout = new CancellationTokenSource(Eventually.Limit);
        var header = new byte[WireRecord.HeaderSize];
        await _stream.ReadExactlyAsync(header, timeout.Token);
        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        var rest = new byte[length + WireRecord.TrailerSize];
        await _stream.ReadExactlyAsync(rest, timeout.Token);
        return ((RecordKind)header[4], rest[..length]);
    }

    /// <summary>True when the other side closes the connection (end of stream or reset) before the test's limit.</summary>
    public async Task<bool> ClosedByPeer()
    {
        using var timeout = new CancellationTokenSource(Eventually.Limit);
        var buffer = new byte[4096];
        try
        {
            while (await _stream.ReadAsync(buffer, timeout.Token) > 0)
            {
                // Discard anything the peer still had in flight.
            }

            return true;
        }
        catch (IOException)
        {
            return true; // reset
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        _stream.Dispose();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
