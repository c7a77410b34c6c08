using System.Globalization;
using System.Net;

namespace Strata.Transport;

/// <summary>A peer's <c>host:port</c> address (a name, an IPv4 literal or a bracketed IPv6 literal).</summary>
public readonly record struct PeerAddress(string Host, int Port)
{
    /// <summary>Parses <c>host:port</c>; throws <see cref="ArgumentException"/> when it is not one.</summary>
    public static PeerAddress Parse(string hostAndPort)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hostAndPort);
        if (IPEndPoint.TryParse(hostAndPort, out var endPoint) && endPoint.Port != 0)
        {
            return new PeerAddress(endPoint.Address.ToString(), endPoint.Port);
        }

        var colon = hostAndPort.LastIndexOf(':');
        if (colon <= 0 || colon == hostAndPort.Length - 1
            || !int.TryParse(hostAndPort.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535)
        {
            throw new ArgumentException($"'{hostAndPort}' is not host:port", nameof(hostAndPort));
        }

        var host = hostAndPort[..colon];
        if (host.Contains(':', StringComparison.Ordinal) && !(host.StartsWith('[') && host.EndsWith(']')))
        {
            throw new ArgumentException($"'{hostAndPort}': an IPv6 host must be in brackets", nameof(hostAndPort));
        }

        return new PeerAddress(host.Trim('[', ']'), port);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
