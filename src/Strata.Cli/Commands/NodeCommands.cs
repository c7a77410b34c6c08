using System.CommandLine;
using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using Spectre.Console;
using Strata.Api.V1;
using Strata.Cli.Cluster;
using ClusterApi = Strata.Api.V1.Cluster;

namespace Strata.Cli.Commands;

/// <summary>
/// <c>strata node decommission NODE_ID</c>: drains a node — its replicas move to the other nodes (learner, catch-up,
/// joint consensus), then the cluster marks it decommissioned — and waits for that, showing what is left.
/// </summary>
internal static class NodeCommands
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    public static Command Create(CliEnvironment env)
    {
        var nodeId = new Argument<ulong>("NODE_ID") { Description = "The node to drain" };
        Option<string> address = NodeCommand.AddressOption(env);
        var noWait = new Option<bool>("--no-wait") { Description = "Return once the cluster accepted the request, without waiting for the drain" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the drain before giving up (the drain goes on)", DefaultValueFactory = _ => 600 };
        var decommission = new Command("decommission", "Drain a node: move its replicas to other nodes, then mark it decommissioned")
        {
            nodeId, address, noWait, timeout,
        };
        decommission.SetGuardedAction(env, async (parse, cancellationToken) =>
        {
            ulong id = parse.GetValue(nodeId);
            if (id == 0)
            {
                throw new UsageException("NODE_ID must name a node (ids start at 1)");
            }

            int seconds = parse.GetValue(timeout);
            if (seconds < 1)
            {
                throw new UsageException("--timeout must be at least 1 second");
            }

            Uri node = NodeCommand.ParseAddress(parse.GetValue(address)!);
            using GrpcChannel channel = ProbeChannel.For(node);
            var client = new ClusterApi.ClusterClient(channel);
            NodeInfo draining = (await Call(node, () => client.DecommissionNodeAsync(new DecommissionNodeRequest { NodeId = id },
                deadline: DateTime.UtcNow.Add(CallTimeout), cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false)).Node;
            env.Console.MarkupLine(Markup.Escape($"node {id} ({draining.ApiAddress}) is {draining.State}"));
            if (parse.GetValue(noWait) || draining.State == "decommissioned")
            {
                return ExitCodes.Ok;
            }

            var clock = System.Diagnostics.Stopwatch.StartNew();
            string last = "";
            while (true)
            {
                ClusterMap map = await Call(node, () => client.GetClusterMapAsync(new GetClusterMapRequest(),
                    deadline: DateTime.UtcNow.Add(CallTimeout), cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
                NodeInfo? current = map.Nodes.FirstOrDefault(n => n.Id == id);
                if (current?.State == "decommissioned")
                {
                    env.Console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                        $"node {id} is decommissioned after {clock.Elapsed.TotalSeconds:0.0} s: it holds no replicas; stop its process")));
                    return ExitCodes.Ok;
                }

                string progress = Progress(map, id);
                if (progress != last)
                {
                    env.Console.MarkupLine(Markup.Escape(progress));
                    last = progress;
                }

                if (clock.Elapsed > TimeSpan.FromSeconds(seconds))
                {
                    throw new CommandFailedException(
                        $"node {id} is still being drained after {seconds} s ({progress}); the drain goes on — check `strata shards`",
                        ExitCodes.Refused);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
            }
        });
        return new Command("node", "Manage the cluster's nodes") { decommission };
    }

    /// <summary>What is left on the node and what is moving now.</summary>
    private static string Progress(ClusterMap map, ulong id)
    {
        int left = map.Shards.Count(s => s.Replicas.Contains(id));
        string moving = string.Join("; ", map.Shards.Where(s => s.Move is not null).Select(s =>
            string.Create(CultureInfo.InvariantCulture, $"shard {s.ShardId}: {Describe(s.Move)}")));
        return string.Create(CultureInfo.InvariantCulture, $"node {id}: {left} replica(s) left") + (moving.Length > 0 ? $"; moving {moving}" : "");
    }

    /// <summary>A move in words: "3 -> 5", "+5", "-3".</summary>
    public static string Describe(ShardMove move) => (move.FromNode, move.ToNode) switch
    {
        (0, var to) => string.Create(CultureInfo.InvariantCulture, $"+{to}"),
        (var from, 0) => string.Create(CultureInfo.InvariantCulture, $"-{from}"),
        var (from, to) => string.Create(CultureInfo.InvariantCulture, $"{from} -> {to}"),
    };

    private static async Task<T> Call<T>(Uri node, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
        {
            throw new CommandFailedException($"cannot reach the node at {NodeLauncher.Display(node)} ({e.StatusCode}): {e.Status.Detail}",
                ExitCodes.Unreachable);
        }
        catch (RpcException e)
        {
            throw new CommandFailedException($"the cluster refused ({e.StatusCode}): {e.Status.Detail}", ExitCodes.Refused);
        }
    }
}
