using System.IO.Pipelines;
using System.Net.Sockets;

namespace Strata.Transport;

/// <summary>
/// One established (handshaken) TCP connection to a peer: a read loop that parses records and delivers frames, and
/// a write loop that drains the link's queue. The connection ends when either loop ends (peer closed, I/O error,
/// protocol violation, replacement, removal or disposal); then the other loop is stopped, the socket closed and the
/// link told (<see cref="PeerLink.Detach"/>).
/// </summary>
/// <remarks>Neither loop throws: every failure becomes the connection's <see cref="CloseReason"/>, is logged and,
/// for damaged records, counted.</remarks>
internal sealed partial class PeerConnection
{
    private readonly TcpTransport _transport;
    private readonly PeerLink _link;
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly CancellationTokenSource _stop;
    private readonly WakeSignal _writerWake = new();
    private string? _closeReason;

    public PeerConnection(TcpTransport transport, PeerLink link, SocketPipes pipes, bool dialed, CancellationToken transportStopping)
    {
        _transport = transport;
        _link = link;
        _socket = pipes.Socket;
        _stream = pipes.Stream;
        _reader = pipes.Reader;
        _writer = pipes.Writer;
        Dialed = dialed;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(link.Lifetime.Token, transportStopping);
    }

    /// <summary>True when this node dialed the connection, false when it accepted it.</summary>
    public bool Dialed { get; }

    /// <summary>Completes (never faults) when the connection has ended and the link has been told.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Why the connection ended (the first reason recorded wins).</summary>
    public string CloseReason => Volatile.Read(ref _closeReason) ?? "closed";

    public void Start() => Completion = RunAsync();

    /// <summary>Tells the writer that frames were queued.</summary>
    public void WakeWriter() => _writerWake.Set();

    /// <summary>Ends the connection (from any thread); <see cref="Completion"/> says when it is done.</summary>
    public void Abort(string reason)
    {
        SetReason(reason);
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already finished.
        }
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        var reading = ReadLoopAsync(token);
        var writing = WriteLoopAsync(token);
        await Task.WhenAny(reading, writing).ConfigureAwait(false);

        // Stop the other loop: cancellation, and closing the socket for an operation that does not observe it.
        Abort("closed");
        _socket.Dispose();
        await Task.WhenAll(reading, writing).ConfigureAwait(false);
        SocketPipes.Close(_reader, _writer, _stream, _socket);
        _transport.OnConnectionClosed(this, _link);
        _stop.Dispose();

        // _writerWake is not disposed: a Send that captured this connection just before it ended may still set it.
    }

    private void SetReason(string reason) => Interlocked.CompareExchange(ref _closeReason, reason, null);

    /// <summary>A reading of <paramref name="clock"/> in nanoseconds (the unit of the keepalives' clock readings).</summary>
    internal static long ClockNanos(TimeProvider clock)
    {
        long timestamp = clock.GetTimestamp();
        return clock.TimestampFrequency == 1_000_000_000 ? timestamp : (long)(timestamp * (1e9 / clock.TimestampFrequency));
    }
}
