using Spectre.Console;

namespace Strata.Cli;

/// <summary>
/// What a command talks to: standard input, output and error, a Spectre console over the output for tables and
/// progress, and the process environment. Tests build one over string writers.
/// </summary>
internal sealed class CliEnvironment
{
    private CliEnvironment(TextReader input, TextWriter output, TextWriter error, IAnsiConsole console, Func<string, string?> environment)
    {
        In = input;
        Out = output;
        Error = error;
        Console = console;
        GetEnvironmentVariable = environment;
    }

    public TextReader In { get; }

    /// <summary>Plain text and JSON; the console writes here too.</summary>
    public TextWriter Out { get; }

    public TextWriter Error { get; }

    /// <summary>Tables, rules and progress bars, written to <see cref="Out"/>.</summary>
    public IAnsiConsole Console { get; }

    public Func<string, string?> GetEnvironmentVariable { get; }

    /// <summary>The process's own terminal: colours and live progress when it is a terminal.</summary>
    public static CliEnvironment ForTerminal()
    {
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(System.Console.Out),
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
            Interactive = InteractionSupport.Detect,
        });
        if (System.Console.IsOutputRedirected)
        {
            console.Profile.Width = PipeWidth;
        }

        return new CliEnvironment(System.Console.In, System.Console.Out, System.Console.Error, console, Environment.GetEnvironmentVariable);
    }

    /// <summary>Plain writers (tests, embedding): no colours, no live rendering, wide tables.</summary>
    public static CliEnvironment ForWriters(TextWriter output, TextWriter error, TextReader? input = null, Func<string, string?>? environment = null)
    {
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = PipeWidth;
        return new CliEnvironment(input ?? TextReader.Null, output, error, console, environment ?? (_ => null));
    }

    /// <summary>Writes <c>strata: message</c> to standard error and returns <paramref name="exitCode"/>.</summary>
    public int Fail(string message, int exitCode)
    {
        Error.WriteLine("strata: " + message);
        return exitCode;
    }

    // Wide enough that paths in tables are not wrapped when the output is a file or a pipe.
    private const int PipeWidth = 200;
}
