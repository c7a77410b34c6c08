using System.CommandLine;
using System.Globalization;
using Strata.Linearizability;

namespace Strata.Cli.Commands;

/// <summary>
/// <c>strata lincheck</c>: checks recorded histories for linearizability through
/// <see cref="LincheckCommand.Run"/>, whose exit codes it keeps (0 linearizable, 1 illegal, 2 usage, 3 undecided).
/// </summary>
internal static class LincheckCommandLine
{
    public static Command Create(CliEnvironment env)
    {
        var model = new Option<string>("--model") { Description = string.Join("|", LincheckCommand.Models), Required = true, HelpName = "MODEL" };
        var format = new Option<string>("--format") { Description = string.Join("|", LincheckCommand.Formats), Required = true, HelpName = "FORMAT" };
        var budget = new Option<double>("--budget")
        {
            Description = "Seconds the checker may spend on each file before answering 'unknown'",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => 60,
        };
        var files = new Argument<string[]>("FILE") { Description = "History files", Arity = ArgumentArity.OneOrMore };
        var command = new Command("lincheck", "Check recorded histories for linearizability (Jepsen register logs, EDN key-value logs)")
        {
            model, format, budget, files,
        };
        command.SetGuardedAction(env, (parse, _) =>
        {
            double seconds = parse.GetValue(budget);
            if (!(seconds > 0) || seconds > TimeSpan.MaxValue.TotalSeconds)
            {
                throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"--budget {seconds} must be a positive number of seconds"));
            }

            // The checker reports its own errors as "lincheck: ..."; every CLI error line starts with "strata: ".
            using var errors = new StringWriter(CultureInfo.InvariantCulture);
            int exit = LincheckCommand.Run(parse.GetValue(model)!, parse.GetValue(format)!, parse.GetValue(files)!, env.Out, errors,
                TimeSpan.FromSeconds(seconds));
            foreach (string line in errors.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                env.Error.WriteLine("strata: " + line.TrimEnd('\r'));
            }

            return Task.FromResult(exit);
        });
        return command;
    }
}
