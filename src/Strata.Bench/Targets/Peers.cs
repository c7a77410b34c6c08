namespace Strata.Bench.Targets;

/// <summary>
/// The peers <c>strata bench --peers</c> can measure beside Strata, by name: <c>etcd</c>, <c>redis</c>,
/// <c>postgres</c> (also <c>postgresql</c>). Each is started as a real server process on loopback with a temporary
/// data directory and torn down when its target is disposed.
/// </summary>
public static class Peers
{
    /// <summary>The peers' canonical names, in the order the bench runs them.</summary>
    public static IReadOnlyList<string> Known { get; } = ["etcd", "redis", "postgres"];

    /// <summary>
    /// The canonical peer names in <paramref name="list"/> (comma-separated, case-insensitive, duplicates dropped, in
    /// the order given). Throws <see cref="ArgumentException"/> naming an unknown peer.
    /// </summary>
    public static IReadOnlyList<string> Parse(string list)
    {
        ArgumentNullException.ThrowIfNull(list);
        var names = new List<string>();
        foreach (string part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string name = part.ToLowerInvariant() switch
            {
                "etcd" => "etcd",
                "redis" => "redis",
                "postgres" or "postgresql" or "pg" => "postgres",
                _ => throw new ArgumentException($"unknown peer '{part}': the peers are {string.Join(", ", Known)}"),
            };
            if (!names.Contains(name))
            {
                names.Add(name);
            }
        }

        return names.Count > 0 ? names : throw new ArgumentException($"no peer named: the peers are {string.Join(", ", Known)}");
    }

    /// <summary>Why peer <paramref name="name"/> cannot run on this machine (its server is not installed), or null when it can.</summary>
    public static string? Missing(string name) => name switch
    {
        "etcd" => PeerServer.FindExecutable("etcd", "/usr/bin/etcd") is null ? "etcd is not installed (Debian package etcd-server)" : null,
        "redis" => PeerServer.FindExecutable("redis-server", "/usr/bin/redis-server") is null ? "redis-server is not installed (Debian package redis-server)" : null,
        "postgres" => Directory.Exists("/usr/lib/postgresql") && Directory.GetDirectories("/usr/lib/postgresql").Any(d => File.Exists(Path.Combine(d, "bin", "postgres")))
            ? null
            : "PostgreSQL is not installed (Debian package postgresql)",
        _ => throw new ArgumentException($"unknown peer '{name}'", nameof(name)),
    };

    /// <summary>
    /// Starts peer <paramref name="name"/> (a canonical name) and returns it serving; etcd with
    /// <paramref name="etcdMembers"/> members (1 or 3). Throws <see cref="PeerUnavailableException"/> if it cannot start.
    /// </summary>
    public static async Task<BenchTarget> StartAsync(string name, int etcdMembers = 1, CancellationToken cancellationToken = default) => name switch
    {
        "etcd" => await EtcdPeer.StartAsync(etcdMembers, cancellationToken).ConfigureAwait(false),
        "redis" => await RedisPeer.StartAsync(cancellationToken).ConfigureAwait(false),
        "postgres" => await PostgresPeer.StartAsync(cancellationToken).ConfigureAwait(false),
        _ => throw new ArgumentException($"unknown peer '{name}'", nameof(name)),
    };
}
