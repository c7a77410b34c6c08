using System.CommandLine;
using Strata.Cli.Commands;

namespace Strata.Cli;

/// <summary>
/// The <c>strata</c> command line: <c>start</c>, <c>demo</c>, the namespace commands, <c>cluster status</c>, <c>shards</c>, <c>lincheck</c>, <c>bench</c> and <c>chaos</c>.
/// </summary>
/// <remarks>
/// Exit codes (<see cref="ExitCodes"/>): 0 done; 1 refused by the node (nothing changed); 2 usage error (nothing
/// sent); 3 node unreachable. <c>lincheck</c> keeps the checker's own codes; <c>chaos</c> exits 1 on an anomaly and 3 when undecided. Every error is one line on standard
/// error starting with <c>strata: </c>.
/// </remarks>
internal static class StrataCli
{
    /// <summary>Runs the command line over plain writers (tests, embedding).</summary>
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default) =>
        RunAsync(args, CliEnvironment.ForWriters(stdout, stderr), cancellationToken);

    public static async Task<int> RunAsync(string[] args, CliEnvironment env, CancellationToken cancellationToken)
    {
        RootCommand root = Build(env);
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (System.CommandLine.Parsing.ParseError error in parse.Errors)
            {
                env.Error.WriteLine("strata: " + error.Message);
            }

            string command = string.Join(' ', parse.CommandResult.Command is RootCommand ? [] : CommandPath(parse.CommandResult.Command));
            env.Error.WriteLine($"strata: see 'strata {(command.Length == 0 ? "" : command + " ")}--help'");
            return ExitCodes.Usage;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration
            {
                Output = env.Out,
                Error = env.Error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = TimeSpan.FromSeconds(30),
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return env.Fail($"unexpected error: {e.GetType().Name}: {e.Message}", ExitCodes.Refused);
        }
    }

    private static RootCommand Build(CliEnvironment env)
    {
        var node = new NodeCommand(env);
        var root = new RootCommand("Strata: a strongly consistent metadata control plane for object storage.");
        root.Add(StartCommand.Create(env));
        root.Add(DemoCommand.Create(env));
        root.Add(BucketCommands.Create(node));
        foreach (Command command in EntryCommands.Create(node))
        {
            root.Add(command);
        }

        root.Add(ListCommand.Create(node));
        foreach (Command command in DirectoryCommands.Create(node))
        {
            root.Add(command);
        }

        root.Add(TransactionCommand.Create(node));
        root.Add(ClusterCommands.CreateCluster(env));
        root.Add(ClusterCommands.CreateShards(env));
        root.Add(NodeCommands.Create(env));
        root.Add(LincheckCommandLine.Create(env));
        root.Add(BenchCommand.Create(env));
        root.Add(ChaosCommand.Create(env));
        return root;
    }

    private static IEnumerable<string> CommandPath(Command command)
    {
        var names = new Stack<string>();
        for (Symbol? symbol = command; symbol is Command current && current is not RootCommand; symbol = current.Parents.FirstOrDefault())
        {
            names.Push(current.Name);
        }

        return names;
    }
}
