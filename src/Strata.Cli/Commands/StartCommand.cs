using System.CommandLine;
using System.Globalization;
using Strata.Cluster;
using Strata.Cluster.Meta;
using Strata.Server;
using Strata.Transport;

namespace Strata.Cli.Commands;

/// <summary>
/// <c>strata start</c>: runs one node until Ctrl+C — by default the embedded single-node cluster; with
/// <c>--initial-cluster</c> one founding member of a replicated cluster.
/// </summary>
internal static class StartCommand
{
    /// <summary>
    /// Hidden option used by <see cref="Cluster.LocalCluster"/>: the node stops (as on Ctrl+C) when its standard input
    /// reaches end of file, so a node started by another process does not outlive it even if that process is killed.
    /// </summary>
    public const string StopWhenInputClosesOption = "--stop-when-input-closes";

    public static Command Create(CliEnvironment env)
    {
        var data = new Option<string>("--data") { Description = "RocksDB data directory (created if missing)", HelpName = "DIR", DefaultValueFactory = _ => "./strata-data" };
        var port = new Option<int>("--port") { Description = "TCP port of strata.v1 (0 picks a free one); with --initial-cluster, this node's entry gives it", DefaultValueFactory = _ => 7070 };
        var host = new Option<string>("--host") { Description = "IP address to listen on ('*' for all); with --initial-cluster, this node's entry gives it", DefaultValueFactory = _ => "127.0.0.1" };
        var inMemory = new Option<bool>("--in-memory") { Description = "Keep everything in memory (lost on exit); --data is ignored" };
        var nodeId = new Option<ulong>("--node-id") { Description = "This node's id in the cluster (stable across restarts, never 0)", DefaultValueFactory = _ => 1 };
        var initialCluster = new Option<string>("--initial-cluster")
        {
            Description = "The founding members, this node included: ID=API_HOST:PORT@RAFT_HOST:PORT,... (same value on every founding node)",
            HelpName = "MEMBERS",
        };
        var clusterId = new Option<string>("--cluster-id") { Description = "Cluster name; nodes of different clusters refuse each other", DefaultValueFactory = _ => "strata" };
        var shards = new Option<int>("--shards") { Description = "Namespace shards of a new cluster", DefaultValueFactory = _ => 4 };
        var replicas = new Option<int>("--replication-factor") { Description = "Replicas per shard (capped by the number of nodes)", DefaultValueFactory = _ => 3 };
        var metricsPort = new Option<int?>("--metrics-port") { Description = "Serve /metrics (Prometheus) and /healthz over HTTP/1.1 on this port (0 picks a free one)" };
        var compaction = new Option<ulong>("--compaction-threshold")
        {
            Description = "Compact a shard's log (snapshot it) once this many applied entries follow its last snapshot; a replica that falls further behind is sent a snapshot",
            HelpName = "ENTRIES",
            DefaultValueFactory = _ => new ClusterNodeOptions().CompactionThreshold,
        };
        var raftPort = new Option<int?>("--raft-port") { Description = "TCP port of the node-to-node transport (default: --port + 1; 0 picks a free one); with --initial-cluster, this node's entry gives it" };
        var join = new Option<string>("--join")
        {
            Description = "Join the cluster of this member (HOST:PORT of its strata.v1 endpoint) instead of founding one; the cluster assigns the node id unless --node-id is given",
            HelpName = "ADDRESS",
        };
        var stopWhenInputCloses = new Option<bool>(StopWhenInputClosesOption) { Hidden = true };
        var command = new Command("start", "Run a Strata node until Ctrl+C (a single-node cluster unless --initial-cluster or --join)")
        {
            data, port, host, inMemory, nodeId, initialCluster, clusterId, shards, replicas, metricsPort, raftPort, join, compaction, stopWhenInputCloses,
        };
        command.SetGuardedAction(env, async (parse, interrupted) =>
        {
            using var stopping = CancellationTokenSource.CreateLinkedTokenSource(interrupted);
            if (parse.GetValue(stopWhenInputCloses))
            {
                StopWhenInputCloses(env.In, stopping);
            }

            CancellationToken cancellationToken = stopping.Token;
            string? joinAddress = parse.GetValue(join);
            // A joining node takes the id the cluster assigns unless one is asked for.
            ulong id = joinAddress is not null && parse.GetResult(nodeId) is null or { Implicit: true } ? 0 : parse.GetValue(nodeId);
            IReadOnlyList<NodeRecord> members = parse.GetValue(initialCluster) is { } text ? ParseMembers(text) : [];
            if (joinAddress is not null && members.Count > 0)
            {
                throw new UsageException("--join and --initial-cluster exclude each other: a node either founds a cluster or joins one");
            }

            if (joinAddress is not null && !IsHostAndPort(joinAddress))
            {
                throw new UsageException($"--join needs HOST:PORT of a member's strata.v1 endpoint, not '{joinAddress}'");
            }

            if (parse.GetValue(compaction) == 0)
            {
                throw new UsageException("--compaction-threshold must be at least 1 entry");
            }

            if (parse.GetValue(raftPort) is int rp && rp is < 0 or > 65535)
            {
                throw new UsageException($"--raft-port {rp} is outside 0..65535");
            }

            string listenHost = parse.GetValue(host)!;
            int listenPort = parse.GetValue(port);
            if (members.Count > 0)
            {
                NodeRecord self = members.FirstOrDefault(m => m.Id == id)
                    ?? throw new UsageException($"--initial-cluster does not name this node (--node-id {id})");
                PeerAddress api = PeerAddress.Parse(self.ApiAddress);
                (listenHost, listenPort) = (api.Host, api.Port);
            }

            var cluster = new ClusterNodeOptions
            {
                NodeId = id,
                ClusterId = parse.GetValue(clusterId)!,
                InitialCluster = members,
                InitialShards = parse.GetValue(shards),
                ReplicationFactor = parse.GetValue(replicas),
                CompactionThreshold = parse.GetValue(compaction),
            };
            await using StrataServer server = await NodeLauncher.StartAsync(new StrataServerOptions
            {
                DataDirectory = parse.GetValue(data)!,
                Port = listenPort,
                Host = listenHost,
                InMemory = parse.GetValue(inMemory),
                Cluster = cluster,
                MetricsPort = parse.GetValue(metricsPort),
                RaftPort = parse.GetValue(raftPort),
                JoinAddress = joinAddress,
                // A founding member serves at once; its shards become available as its peers come up.
                ReadyTimeout = members.Count > 1 ? TimeSpan.Zero : TimeSpan.FromSeconds(30),
            }, cancellationToken).ConfigureAwait(false);
            NodeLauncher.WriteBanner(env, server);
            await NodeLauncher.ServeUntilStoppedAsync(env, server, cancellationToken).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static bool IsHostAndPort(string address)
    {
        try
        {
            PeerAddress.Parse(address);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void StopWhenInputCloses(TextReader input, CancellationTokenSource stopping)
    {
        // A dedicated thread: reading standard input blocks, and the node must not lose a pool thread to it.
        var watcher = new Thread(() =>
        {
            try
            {
                while (input.Read() >= 0)
                {
                    // Input is ignored; only its end matters.
                }
            }
            catch (IOException)
            {
                // A broken pipe is an end too.
            }

            try
            {
                stopping.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The node already stopped.
            }
        })
        { IsBackground = true, Name = "stop-when-input-closes" };
        watcher.Start();
    }

    /// <summary>Parses <c>ID=API_HOST:PORT@RAFT_HOST:PORT,...</c>; a malformed member is a usage error naming it.</summary>
    internal static IReadOnlyList<NodeRecord> ParseMembers(string text)
    {
        var members = new List<NodeRecord>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string[] idAndAddresses = part.Split('=', 2);
            string[] addresses = idAndAddresses.Length == 2 ? idAndAddresses[1].Split('@') : [];
            if (idAndAddresses.Length != 2 || addresses.Length != 2
                || !ulong.TryParse(idAndAddresses[0], NumberStyles.None, CultureInfo.InvariantCulture, out ulong id) || id == 0)
            {
                throw new UsageException($"--initial-cluster member '{part}' is not ID=API_HOST:PORT@RAFT_HOST:PORT with an id above 0");
            }

            try
            {
                _ = PeerAddress.Parse(addresses[0]);
                _ = PeerAddress.Parse(addresses[1]);
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"--initial-cluster member '{part}': {e.Message}");
            }

            if (members.Any(m => m.Id == id))
            {
                throw new UsageException($"--initial-cluster names node {id} twice");
            }

            members.Add(new NodeRecord { Id = id, ApiAddress = addresses[0], RaftAddress = addresses[1] });
        }

        return members.Count > 0 ? members : throw new UsageException("--initial-cluster names no member");
    }
}
