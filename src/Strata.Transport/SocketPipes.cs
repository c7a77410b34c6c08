using System.IO.Pipelines;
using System.Net.Sockets;

namespace Strata.Transport;

/// <summary>A connected socket with its stream and the pipe reader and writer over it.</summary>
internal sealed record SocketPipes(Socket Socket, NetworkStream Stream, PipeReader Reader, PipeWriter Writer)
{
    /// <summary>Segment size of both pipes: a whole record of up to 64 KiB of frame fits one segment (the default chunk
    /// and bulk threshold), and many small records share one write.</summary>
    private const int BufferSize = 128 << 10;

    /// <summary>Tunes a connected socket (no Nagle delay, keepalive to notice dead peers) and opens its pipes.</summary>
    public static SocketPipes Open(Socket socket)
    {
        socket.NoDelay = true;
        try
        {
            // Without keepalive a peer whose host vanished (no FIN, no RST) would look connected until the send buffer
            // fills; with it the connection fails within about 10 + 3 x 2 seconds.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 10);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 2);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
        }
        catch (Exception e) when (e is SocketException or PlatformNotSupportedException)
        {
            // Keepalive tuning is best effort; the store's own liveness beats still detect a silent peer.
        }

        var stream = new NetworkStream(socket, ownsSocket: true);
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: BufferSize, minimumReadSize: 4096, leaveOpen: true));
        var writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: BufferSize, leaveOpen: true));
        return new SocketPipes(socket, stream, reader, writer);
    }

    /// <summary>Closes everything without flushing what is unwritten; never throws.</summary>
    public void Close() => Close(Reader, Writer, Stream, Socket);

    public static void Close(PipeReader reader, PipeWriter writer, NetworkStream stream, Socket socket)
    {
        var closing = new OperationCanceledException("connection closed");
        try
        {
            // Completing with an exception discards buffered bytes instead of writing them to a dead socket.
            writer.Complete(closing);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
            // Nothing to do: the connection is gone either way.
        }

        try
        {
            reader.Complete(closing);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
            // As above.
        }

        stream.Dispose();
        socket.Dispose();
    }
}
