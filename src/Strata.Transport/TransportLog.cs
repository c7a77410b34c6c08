using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Strata.Transport;

/// <summary>The transport's log messages (source-generated, allocation-free when the level is off).</summary>
internal static partial class TransportLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Node {Node} listening on {EndPoint}")]
    public static partial void Listening(ILogger logger, ulong node, IPEndPoint endPoint);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Node {Node} connected to peer {Peer} ({Direction}, remote {Remote})")]
    public static partial void Connected(ILogger logger, ulong node, ulong peer, string direction, EndPoint? remote);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Connection to peer {Peer} lost: {Reason}")]
    public static partial void ConnectionLost(ILogger logger, ulong peer, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Connection to peer {Peer} replaced by a newer one")]
    public static partial void Replaced(ILogger logger, ulong peer);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Dialing peer {Peer} at {Address} failed: {Reason}")]
    public static partial void DialFailed(ILogger logger, ulong peer, string address, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "Dialing peer {Peer} at {Address} failed again ({Failures} in a row): {Reason}")]
    public static partial void DialFailedAgain(ILogger logger, ulong peer, string address, int failures, string reason);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "Refused connection from {Remote} claiming node {Dialer} ({Status}): {Reason}")]
    public static partial void Refused(ILogger logger, string remote, ulong dialer, HandshakeStatus status, string reason);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "Handshake with {Remote} failed: {Reason}")]
    public static partial void HandshakeFailed(ILogger logger, string remote, string reason);

    [LoggerMessage(EventId = 9, Level = LogLevel.Error, Message = "Protocol violation by peer {Peer}, connection closed: {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, ulong peer, string reason);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Frame of {Size} bytes for peer {Peer} dropped: larger than the maximum of {Max}")]
    public static partial void FrameTooLarge(ILogger logger, ulong peer, int size, int max);

    [LoggerMessage(EventId = 11, Level = LogLevel.Error, Message = "The FrameArrived callback threw")]
    public static partial void CallbackFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Accepting a connection failed ({Code}): {Reason}")]
    public static partial void AcceptFailed(ILogger logger, SocketError code, string reason);

    [LoggerMessage(EventId = 13, Level = LogLevel.Error, Message = "Unexpected error in the transport (peer {Peer})")]
    public static partial void UnexpectedError(ILogger logger, ulong peer, Exception exception);

    [LoggerMessage(EventId = 15, Level = LogLevel.Information, Message = "Peer {Peer} moved from {Previous} to {Address}")]
    public static partial void PeerMoved(ILogger logger, ulong peer, string? previous, string address);

    [LoggerMessage(EventId = 14, Level = LogLevel.Information, Message = "Node {Node} transport stopped")]
    public static partial void Stopped(ILogger logger, ulong node);

    [LoggerMessage(EventId = 16, Level = LogLevel.Warning, Message = "Connection to peer {Peer} received nothing for {Seconds} s; closed (it is redialed)")]
    public static partial void IdleTimeout(ILogger logger, ulong peer, double seconds);
}
