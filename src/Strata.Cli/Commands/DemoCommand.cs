using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Spectre.Console;
using Strata.Cli.Cluster;
using Strata.Cli.Demo;
using Strata.Client;
using Strata.Server;

namespace Strata.Cli.Commands;

/// <summary>
/// <c>strata demo</c>: the first command for a newcomer. Starts a node (RocksDB in a temporary directory unless
/// <c>--data</c>), loads the sample media namespace, runs the four <see cref="DemoScenes"/>, and exits 0, or keeps
/// serving with <c>--keep-running</c>. A temporary directory is deleted when the node stops. With <c>--nodes N</c>
/// (N &gt; 1) the same over a cluster of N node processes, followed by a shard leader's failure (see
/// <see cref="ClusterDemo"/>).
/// </summary>
internal static class DemoCommand
{
    /// <summary>Seed of the sample catalog's sizes, so every run loads the same namespace.</summary>
    private const int CatalogSeed = 2026;

    public static Command Create(CliEnvironment env)
    {
        var port = new Option<int>("--port") { Description = "TCP port (0 picks a free one)", DefaultValueFactory = _ => 0 };
        var data = new Option<string>("--data") { Description = "Data directory to use instead of a temporary one (must not already hold the demo)", HelpName = "DIR" };
        var keepRunning = new Option<bool>("--keep-running") { Description = "Keep serving after the demo, until Ctrl+C, to explore with other commands" };
        var nodes = new Option<int>("--nodes")
        {
            Description = $"Node processes to start (1..{LocalCluster.MaxNodes}); above 1, a replicated cluster on loopback, and the demo also kills a shard leader",
            DefaultValueFactory = _ => 1,
        };
        var command = new Command("demo", "Start a node, load a sample media namespace and show what Strata does (takes seconds)")
        {
            port, data, keepRunning, nodes,
        };
        command.SetGuardedAction(env, async (parse, cancellationToken) =>
        {
            int nodeCount = parse.GetValue(nodes);
            if (nodeCount is < 1 or > LocalCluster.MaxNodes)
            {
                throw new UsageException($"--nodes {nodeCount} is outside 1..{LocalCluster.MaxNodes}");
            }

            if (nodeCount > 1)
            {
                if (parse.GetResult(port) is { Implicit: false })
                {
                    throw new UsageException("--port applies to the single-node demo; with --nodes every node gets free ports");
                }

                return await new ClusterDemo(env, nodeCount, parse.GetValue(data), cancellationToken).RunAsync(parse.GetValue(keepRunning)).ConfigureAwait(false);
            }

            string? chosen = parse.GetValue(data);
            string directory = chosen ?? Directory.CreateTempSubdirectory("strata-demo-").FullName;
            try
            {
                await using StrataServer server = await NodeLauncher.StartAsync(
                    new StrataServerOptions { DataDirectory = directory, Port = parse.GetValue(port) }, cancellationToken).ConfigureAwait(false);
                env.Console.MarkupLine($"Strata node at [bold]{Markup.Escape(NodeLauncher.Display(server.Address))}[/], data in {Markup.Escape(server.DataDirectory)}");
                await RunDemoAsync(env, server.Address, cancellationToken).ConfigureAwait(false);
                if (parse.GetValue(keepRunning))
                {
                    env.Console.WriteLine();
                    NodeLauncher.WriteBanner(env, server, chosen is null ? "temporary: deleted when the node stops" : null);
                    await NodeLauncher.ServeUntilStoppedAsync(env, server, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                if (chosen is null)
                {
                    Directory.Delete(directory, recursive: true);
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task RunDemoAsync(CliEnvironment env, Uri address, CancellationToken cancellationToken)
    {
        using StrataClient client = StrataClient.Connect(address);
        await LoadAndRunScenesAsync(env, client, () => StrataClient.Connect(address), cancellationToken).ConfigureAwait(false);
        WriteComplete(env, "Next: [bold]strata start[/] runs a node of your own; [bold]strata --help[/] lists the commands.");
    }

    /// <summary>
    /// Loads the sample namespace through <paramref name="client"/> (with a progress bar) and runs the four
    /// <see cref="DemoScenes"/>; returns the loaded catalog. <paramref name="connectWriter"/> opens another client of
    /// the same node or cluster.
    /// </summary>
    internal static async Task<SampleMedia> LoadAndRunScenesAsync(CliEnvironment env, StrataClient client, Func<StrataClient> connectWriter, CancellationToken cancellationToken)
    {
        var sample = new SampleMedia(CatalogSeed);
        env.Console.WriteLine();
        env.Console.Write(new Rule("[bold yellow]Loading the sample namespace[/]").LeftJustified());
        long started = Stopwatch.GetTimestamp();
        try
        {
            await sample.LoadAsync(client, env.Console, cancellationToken).ConfigureAwait(false);
        }
        catch (StrataException e) when (e.StatusCode == StatusCode.AlreadyExists)
        {
            throw new CommandFailedException(
                $"the data directory already holds bucket '{SampleMedia.Bucket}' from an earlier demo; omit --data or pass an empty directory");
        }

        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        env.Console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"Loaded [bold]{sample.ObjectCount:N0}[/] objects into bucket [bold]{SampleMedia.Bucket}[/] in {seconds:0.00} s."));
        env.Console.WriteLine(
            "Layout: creators/<creator>/channels/<channel>/videos/<video>/segments/seg-NNNNN.ts (video/mp2t), each with size, ETag, tier, " +
            "location, encoding profile and DRM key reference.");

        await new DemoScenes(client, connectWriter, env.Console, cancellationToken).RunAsync().ConfigureAwait(false);
        return sample;
    }

    /// <summary>The closing heading and the line that says what to try next (markup).</summary>
    internal static void WriteComplete(CliEnvironment env, string nextMarkup)
    {
        env.Console.WriteLine();
        env.Console.Write(new Rule("[bold green]Demo complete[/]").LeftJustified());
        env.Console.MarkupLine(nextMarkup);
    }
}
