using Strata.Storage;

namespace Strata.Server;

/// <summary>How to run a <see cref="StrataServer"/>: where its data lives and where it listens.</summary>
public sealed record StrataServerOptions
{
    /// <summary>The RocksDB directory of the node (created if missing). Ignored when <see cref="InMemory"/> or <see cref="Engine"/> is set.</summary>
    public string DataDirectory { get; init; } = "./strata-data";

    /// <summary>Keep the namespace in memory only (tests, demos): everything is lost when the server stops.</summary>
    public bool InMemory { get; init; }

    /// <summary>
    /// Serve this engine instead of opening one; the caller owns it and disposes it after the server. For tests
    /// that need to reach the engine (fault injection, simulated crashes).
    /// </summary>
    public IKvEngine? Engine { get; init; }

    /// <summary>The IP address to listen on ("localhost" means 127.0.0.1).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The TCP port; 0 picks a free one (read the bound one from <see cref="StrataServer.Address"/>).</summary>
    public int Port { get; init; } = 7070;

    /// <summary>Settings of the namespace node.</summary>
    public NamespaceNodeOptions Node { get; init; } = new();

    /// <summary>Least severe log level written to the console; <see cref="LogLevel.None"/> silences the server.</summary>
    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Warning;
}
