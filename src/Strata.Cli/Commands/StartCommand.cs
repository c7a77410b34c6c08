using System.CommandLine;
using Strata.Server;

namespace Strata.Cli.Commands;

/// <summary><c>strata start</c>: runs one node until Ctrl+C.</summary>
internal static class StartCommand
{
    public static Command Create(CliEnvironment env)
    {
        var data = new Option<string>("--data") { Description = "RocksDB data directory (created if missing)", HelpName = "DIR", DefaultValueFactory = _ => "./strata-data" };
        var port = new Option<int>("--port") { Description = "TCP port (0 picks a free one)", DefaultValueFactory = _ => 7070 };
        var host = new Option<string>("--host") { Description = "IP address to listen on ('*' for all)", DefaultValueFactory = _ => "127.0.0.1" };
        var inMemory = new Option<bool>("--in-memory") { Description = "Keep everything in memory (lost on exit); --data is ignored" };
        var command = new Command("start", "Run a Strata node until Ctrl+C") { data, port, host, inMemory };
        command.SetGuardedAction(env, async (parse, cancellationToken) =>
        {
            await using StrataServer server = await NodeLauncher.StartAsync(new StrataServerOptions
            {
                DataDirectory = parse.GetValue(data)!,
                Port = parse.GetValue(port),
                Host = parse.GetValue(host)!,
                InMemory = parse.GetValue(inMemory),
            }, cancellationToken).ConfigureAwait(false);
            NodeLauncher.WriteBanner(env, server);
            await NodeLauncher.ServeUntilStoppedAsync(env, server, cancellationToken).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
