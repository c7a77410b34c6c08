using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using Spectre.Console;
using Strata.Api.V1;
using Strata.Cli.Cluster;

namespace Strata.Cli.Commands;

/// <summary>
/// <c>strata cluster status</c> (nodes with liveness, replicas and leaderships; shards with replication lag) and
/// <c>strata shards</c> (the shard map: ranges, generations, replicas, leader and leaseholder). Both read
/// <c>strata.v1.Cluster</c>: the map from <c>--address</c>, then the status of every node in it. Tables by
/// default, <c>--json</c> for scripts; exit 3 when <c>--address</c> does not answer.
/// </summary>
internal static class ClusterCommands
{
    // An operator's command: a node that does not answer within this is reported as not answering.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
    };

    public static Command CreateCluster(CliEnvironment env)
    {
        var status = new Command("status", "Nodes (answering or not, suspected by whom, replicas, leaderships) and shards with replication lag");
        AddCommon(status, env, (observation, json) =>
        {
            if (json)
            {
                env.Out.WriteLine(JsonSerializer.Serialize(StatusDocument(observation), JsonOptions));
            }
            else
            {
                WriteStatus(env, observation);
            }
        });
        return new Command("cluster", "Inspect a running cluster") { status };
    }

    public static Command CreateShards(CliEnvironment env)
    {
        var shards = new Command("shards", "The shard map: key ranges (hex), generation, replicas, leader and leaseholder");
        AddCommon(shards, env, (observation, json) =>
        {
            if (json)
            {
                env.Out.WriteLine(JsonSerializer.Serialize(ShardsDocument(observation), JsonOptions));
            }
            else
            {
                env.Console.Write(ShardTable(observation));
            }
        });
        return shards;
    }

    /// <summary>The nodes table of <c>cluster status</c> (also shown by the cluster demo).</summary>
    public static Table NodeTable(ClusterObservation observation, Func<ulong, string>? process = null)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("Nodes");
        table.AddColumns("node", "state", "API address", "raft address", "alive", "suspected by", "replicas (shards)", "leads");
        if (process is not null)
        {
            table.AddColumn("process");
        }

        foreach (NodeObservation node in observation.Nodes)
        {
            IReadOnlyList<ulong> suspectedBy = observation.SuspectedBy(node.Node.Id);
            string alive = node.Answers ? "yes" : "no: " + Markup.Escape(node.Error ?? "");
            string[] row =
            [
                Id(node.Node.Id),
                StateOf(node.Node),
                Markup.Escape(node.Node.ApiAddress),
                Markup.Escape(node.Node.RaftAddress),
                node.Answers ? "[green]yes[/]" : node.Node.State == "decommissioned" ? "-" : "[red]" + alive + "[/]",
                suspectedBy.Count == 0 ? "-" : List(suspectedBy),
                node.Status is null ? "?" : List(node.Status.Replicas.Select(r => r.ShardId).Order()),
                node.Status is null ? "?" : OrDash(List(node.Status.Replicas.Where(r => r.Role == ClusterObservation.LeaderRole).Select(r => r.ShardId).Order())),
            ];
            table.AddRow(process is null ? row : [.. row, Markup.Escape(process(node.Node.Id))]);
        }

        return table;
    }

    /// <summary>The shards table of <c>strata shards</c> (also shown by the cluster demo).</summary>
    public static Table ShardTable(ClusterObservation observation)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("Shards");
        table.AddColumns("shard", "key range (hex)", "generation", "replicas", "leader", "leaseholder", "moving");
        foreach (ShardInfo shard in observation.Map.Shards)
        {
            table.AddRow(
                Id(shard.ShardId),
                Markup.Escape(ClusterObservation.Range(shard.Start, shard.End)),
                Id(shard.Generation),
                List(shard.Replicas),
                LeaderOf(observation, shard.ShardId),
                Holder(observation.Leaseholder(shard.ShardId)),
                shard.Move is { } move ? Markup.Escape($"{NodeCommands.Describe(move)} ({move.Reason})") : "-");
        }

        return table;
    }

    private static void AddCommon(Command command, CliEnvironment env, Action<ClusterObservation, bool> write)
    {
        Option<string> address = NodeCommand.AddressOption(env);
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON instead of tables" };
        command.Add(address);
        command.Add(json);
        command.SetGuardedAction(env, async (parse, cancellationToken) =>
        {
            Uri node = NodeCommand.ParseAddress(parse.GetValue(address)!);
            ClusterObservation observation;
            try
            {
                observation = await ClusterObservation.ObserveAsync(node, Timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
            {
                bool unreachable = e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded;
                string reason = e.Status.DebugException is { } debug ? debug.GetBaseException().Message : e.Status.Detail;
                throw new CommandFailedException(
                    $"cannot {(unreachable ? "reach" : "read the cluster map from")} the node at {NodeLauncher.Display(node)} ({e.StatusCode}): {reason}",
                    unreachable ? ExitCodes.Unreachable : ExitCodes.Refused);
            }

            write(observation, parse.GetValue(json));
            return ExitCodes.Ok;
        });
    }

    private static void WriteStatus(CliEnvironment env, ClusterObservation observation)
    {
        int answering = observation.Nodes.Count(n => n.Answers);
        int moving = observation.Map.Shards.Count(s => s.Move is not null);
        env.Console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"cluster {observation.Map.ClusterId}: {observation.Nodes.Count} nodes ({answering} answering), {observation.Map.Shards.Count} shards, replication factor {observation.Map.ReplicationFactor}{(moving > 0 ? $", {moving} replica move(s) in progress" : "")}; map from node {observation.Map.AnsweredBy}")));
        env.Console.Write(NodeTable(observation));

        var table = new Table().Border(TableBorder.Rounded).Title("Replication");
        table.AddColumns("shard", "replicas", "leader", "term", "leader commit", "lag (follower: entries behind)");
        foreach (ulong shard in ShardIds(observation))
        {
            (ulong Node, ReplicaInfo Replica)? leader = observation.Leader(shard);
            IReadOnlyDictionary<ulong, ulong> lag = observation.Lag(shard);
            table.AddRow(
                shard == 0 ? "0 (meta)" : Id(shard),
                List(Replicas(observation, shard)),
                LeaderOf(observation, shard),
                leader is { } l ? Id(l.Replica.Term) : "-",
                leader is { } c ? Id(c.Replica.Committed) : "-",
                lag.Count == 0 ? "-" : string.Join(", ", lag.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}: {p.Value}"))));
        }

        env.Console.Write(table);
    }

    private static object StatusDocument(ClusterObservation observation) => new
    {
        clusterId = observation.Map.ClusterId,
        answeredBy = observation.Map.AnsweredBy,
        nodes = observation.Nodes.Select(n => new
        {
            id = n.Node.Id,
            state = n.Node.State,
            apiAddress = n.Node.ApiAddress,
            raftAddress = n.Node.RaftAddress,
            answers = n.Answers,
            error = n.Error,
            suspectedBy = observation.SuspectedBy(n.Node.Id),
            replicas = n.Status?.Replicas.Select(r => r.ShardId).Order().ToList(),
            leads = n.Status?.Replicas.Where(r => r.Role == ClusterObservation.LeaderRole).Select(r => r.ShardId).Order().ToList(),
        }),
        shards = ShardIds(observation).Select(shard =>
        {
            (ulong Node, ReplicaInfo Replica)? leader = observation.Leader(shard);
            return new
            {
                shardId = shard,
                meta = shard == 0,
                replicas = Replicas(observation, shard),
                leader = leader?.Node ?? 0,
                term = leader?.Replica.Term ?? 0,
                leaderCommit = leader?.Replica.Committed ?? 0,
                lag = observation.Lag(shard).ToDictionary(p => p.Key.ToString(CultureInfo.InvariantCulture), p => p.Value),
            };
        }),
    };

    private static object ShardsDocument(ClusterObservation observation) => new
    {
        clusterId = observation.Map.ClusterId,
        answeredBy = observation.Map.AnsweredBy,
        shards = observation.Map.Shards.Select(s => new
        {
            shardId = s.ShardId,
            start = s.Start.ToString("x16", CultureInfo.InvariantCulture),
            end = s.End == 0 ? null : s.End.ToString("x16", CultureInfo.InvariantCulture),
            generation = s.Generation,
            replicas = s.Replicas.ToList(),
            leader = observation.Leader(s.ShardId)?.Node ?? 0,
            leaseholder = observation.Leaseholder(s.ShardId),
            move = s.Move is null ? null : new { from = s.Move.FromNode, to = s.Move.ToNode, reason = s.Move.Reason },
        }),
    };

    /// <summary>The meta shard, then the shards of the map.</summary>
    private static IEnumerable<ulong> ShardIds(ClusterObservation observation) =>
        observation.Map.Shards.Select(s => s.ShardId).Prepend(ClusterObservation.MetaShardId).Distinct();

    /// <summary>The map's replicas of a shard; for the meta shard (not in the map), the voters its replicas report.</summary>
    private static List<ulong> Replicas(ClusterObservation observation, ulong shard) =>
        observation.Map.Shards.FirstOrDefault(s => s.ShardId == shard) is { } info
            ? [.. info.Replicas]
            : [.. observation.Nodes.Where(n => n.Status is not null)
                .SelectMany(n => n.Status!.Replicas.Where(r => r.ShardId == shard).SelectMany(r => r.Voters)).Distinct().Order()];

    private static string LeaderOf(ClusterObservation observation, ulong shard) =>
        observation.Leader(shard) is { } leader ? Id(leader.Node) : "[red]none[/]";

    private static string StateOf(NodeInfo node) => node.State switch
    {
        "" or "active" => "active",
        "decommissioning" => "[yellow]decommissioning[/]",
        var other => Markup.Escape(other),
    };

    private static string Holder(ulong node) => node == 0 ? "-" : Id(node);

    private static string Id(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    private static string List(IEnumerable<ulong> values) => string.Join(", ", values.Select(Id));

    private static string OrDash(string text) => text.Length == 0 ? "-" : text;
}
