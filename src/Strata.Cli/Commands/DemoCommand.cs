using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Spectre.Console;
using Strata.Cli.Demo;
using Strata.Client;
using Strata.Server;

namespace Strata.Cli.Commands;

/// <summary>
/// <c>strata demo</c>: the first command for a newcomer. Starts a node (RocksDB in a temporary directory unless
/// <c>--data</c>), loads the sample media namespace, runs the four <see cref="DemoScenes"/>, and exits 0, or keeps
/// serving with <c>--keep-running</c>. A temporary directory is deleted when the node stops.
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
        var command = new Command("demo", "Start a node, load a sample media namespace and show what Strata does (takes seconds)")
        {
            port, data, keepRunning,
        };
        command.SetGuardedAction(env, async (parse, cancellationToken) =>
        {
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

        await new DemoScenes(client, address, env.Console, cancellationToken).RunAsync().ConfigureAwait(false);

        env.Console.WriteLine();
        env.Console.Write(new Rule("[bold green]Demo complete[/]").LeftJustified());
        env.Console.MarkupLine("Next: [bold]strata start[/] runs a node of your own; [bold]strata --help[/] lists the commands.");
    }
}
