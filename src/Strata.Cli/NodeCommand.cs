using System.CommandLine;
using Google.Protobuf;
using Spectre.Console.Rendering;
using Strata.Cli.Output;
using Strata.Client;

namespace Strata.Cli;

/// <summary>What a namespace command's body gets: a connected client, its parsed arguments, and where to write.</summary>
internal sealed record NodeRequest(StrataClient Client, ParseResult Parse, CliEnvironment Env, bool Json, CancellationToken CancellationToken)
{
    public T Value<T>(Argument<T> argument) => Parse.GetValue(argument)!;

    public T Value<T>(Option<T> option) => Parse.GetValue(option)!;

    /// <summary>The outcome of a mutation: <paramref name="result"/> as JSON with <c>--json</c>, else the one-line summary.</summary>
    public int Report(IMessage result, string summary)
    {
        if (Json)
        {
            ProtoJson.Write(Env, result);
        }
        else
        {
            Env.Out.WriteLine(summary);
        }

        return ExitCodes.Ok;
    }

    /// <summary>The outcome of a read: <paramref name="result"/> as JSON with <c>--json</c>, else <paramref name="view"/>.</summary>
    public int Show(IMessage result, IRenderable view)
    {
        if (Json)
        {
            ProtoJson.Write(Env, result);
        }
        else
        {
            Env.Console.Write(view);
        }

        return ExitCodes.Ok;
    }
}

/// <summary>
/// Builds the commands that talk to a node: each gets <c>--address</c> (default <c>$STRATA_ADDRESS</c> or
/// http://127.0.0.1:7070) and <c>--json</c>, a client connected for the duration of the command, and the shared
/// error mapping of <see cref="CommandActions"/>.
/// </summary>
internal sealed class NodeCommand(CliEnvironment env)
{
    public const string DefaultAddress = "http://127.0.0.1:7070";
    public const string AddressVariable = "STRATA_ADDRESS";

    // A command line is interactive: fail within seconds rather than retry for long.
    private static readonly StrataClientOptions ClientOptions = new()
    {
        DefaultDeadline = TimeSpan.FromSeconds(15),
        Retry = new RetryPolicy { MaxAttempts = 4, InitialBackoff = TimeSpan.FromMilliseconds(100), MaxElapsed = TimeSpan.FromSeconds(10) },
    };

    public CliEnvironment Env => env;

    public Command Create(string name, string description, IEnumerable<Symbol> symbols, Func<NodeRequest, Task<int>> body)
    {
        var command = new Command(name, description);
        foreach (Symbol symbol in symbols)
        {
            switch (symbol)
            {
                case Argument argument:
                    command.Add(argument);
                    break;
                case Option option:
                    command.Add(option);
                    break;
                default:
                    throw new ArgumentException($"unexpected symbol {symbol.Name}", nameof(symbols));
            }
        }

        Option<string> address = AddressOption(env);
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON instead of tables" };
        command.Add(address);
        command.Add(json);
        command.SetGuardedAction(env, async (parse, cancellationToken) =>
        {
            Uri node = ParseAddress(parse.GetValue(address)!);
            using StrataClient client = StrataClient.Connect(node, ClientOptions);
            try
            {
                return await body(new NodeRequest(client, parse, env, parse.GetValue(json), cancellationToken)).ConfigureAwait(false);
            }
            catch (StrataException e) when (e.StatusCode == Grpc.Core.StatusCode.Unavailable)
            {
                throw new CommandFailedException(CommandActions.Describe(e, node), ExitCodes.Unreachable);
            }
        });
        return command;
    }

    /// <summary><c>--address</c>: the node's URL, by default <c>$STRATA_ADDRESS</c> or <see cref="DefaultAddress"/>.</summary>
    public static Option<string> AddressOption(CliEnvironment env) => new("--address")
    {
        Description = $"The node's gRPC address (${AddressVariable}, when set, replaces the default)",
        HelpName = "URL",
        DefaultValueFactory = _ => env.GetEnvironmentVariable(AddressVariable) is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : DefaultAddress,
    };

    /// <summary>An absolute http(s) URL; "host:port" means http://host:port.</summary>
    public static Uri ParseAddress(string text)
    {
        string withScheme = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        return Uri.TryCreate(withScheme, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new UsageException($"--address '{text}' is not an http:// or https:// URL");
    }
}
