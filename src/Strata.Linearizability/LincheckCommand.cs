using System.Globalization;
using Strata.Linearizability.Formats;
using Strata.Linearizability.Models;

namespace Strata.Linearizability;

/// <summary>
/// The logic of <c>strata lincheck --model cas-register|kv --format jepsen|edn FILE...</c>: checks recorded
/// histories and prints one verdict line per file.
/// </summary>
/// <remarks>
/// <para>Output: <c>FILE: linearizable</c>, <c>FILE: illegal</c> or <c>FILE: unknown</c>, the latter two followed by
/// the explanation, each line indented by two spaces (operation times in it are the file's line numbers). Errors go to the error writer as <c>lincheck: ...</c>;
/// a parse error names <c>FILE:LINE</c>.</para>
/// <para>Exit codes: 0 all linearizable; 1 at least one illegal; 2 usage error (unknown model or format, a model
/// and format that do not go together, no files, a missing or unreadable file, a parse error; nothing is
/// checked then); 3 none illegal but at least one undecided within the budget.</para>
/// </remarks>
public static class LincheckCommand
{
    /// <summary>Exit code: every history is linearizable.</summary>
    public const int ExitLinearizable = 0;

    /// <summary>Exit code: at least one history is not linearizable.</summary>
    public const int ExitIllegal = 1;

    /// <summary>Exit code: bad arguments or unreadable input; nothing was checked.</summary>
    public const int ExitUsage = 2;

    /// <summary>Exit code: no history is illegal but at least one was not decided within its budget.</summary>
    public const int ExitUndecided = 3;

    /// <summary>The models the command knows, by their command-line name.</summary>
    public static IReadOnlyList<string> Models { get; } = ["cas-register", "kv"];

    /// <summary>The formats the command knows, by their command-line name.</summary>
    public static IReadOnlyList<string> Formats { get; } = ["jepsen", "edn"];

    /// <summary>Checks <paramref name="files"/> and reports to <paramref name="output"/> and <paramref name="error"/>.</summary>
    /// <param name="model"><c>cas-register</c> (with format <c>jepsen</c>) or <c>kv</c> (with format <c>edn</c>).</param>
    /// <param name="format"><c>jepsen</c> or <c>edn</c>.</param>
    /// <param name="files">Paths of the histories.</param>
    /// <param name="output">Receives the verdict lines.</param>
    /// <param name="error">Receives usage and parse errors.</param>
    /// <param name="budgetPerFile">Time the checker may spend on each file.</param>
    /// <returns>The exit code (see the remarks).</returns>
    public static int Run(string model, string format, IReadOnlyList<string> files, TextWriter output, TextWriter error, TimeSpan budgetPerFile)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        if (!Models.Contains(model))
        {
            return Usage(error, $"unknown model '{model}' (expected {string.Join(" or ", Models)})");
        }

        if (!Formats.Contains(format))
        {
            return Usage(error, $"unknown format '{format}' (expected {string.Join(" or ", Formats)})");
        }

        if (files.Count == 0)
        {
            return Usage(error, "no history files given");
        }

        return (model, format) switch
        {
            ("cas-register", "jepsen") => CheckFiles(CasRegisterModel.Instance, JepsenRegisterHistory.Parse, files, output, error, budgetPerFile),
            ("kv", "edn") => CheckFiles(KvModel.Instance, EdnKvHistory.Parse, files, output, error, budgetPerFile),
            _ => Usage(error, $"model '{model}' cannot read format '{format}' (use cas-register with jepsen, kv with edn)"),
        };
    }

    private static int CheckFiles<TState, TInput, TOutput>(
        IModel<TState, TInput, TOutput> model,
        Func<TextReader, IReadOnlyList<Operation<TInput, TOutput>>> parse,
        IReadOnlyList<string> files,
        TextWriter output,
        TextWriter error,
        TimeSpan budgetPerFile)
    {
        // Read everything first: a typo in the last path should not cost the time of checking the others.
        var histories = new List<IReadOnlyList<Operation<TInput, TOutput>>>(files.Count);
        foreach (var file in files)
        {
            if (!File.Exists(file))
            {
                return Usage(error, $"{file}: no such file");
            }

            try
            {
                using var reader = new StreamReader(file);
                histories.Add(parse(reader));
            }
            catch (HistoryFormatException e)
            {
                return Usage(error, string.Create(CultureInfo.InvariantCulture, $"{file}:{e.LineNumber}: {e.Reason}"));
            }
            catch (IOException e)
            {
                return Usage(error, $"{file}: {e.Message}");
            }
            catch (UnauthorizedAccessException e)
            {
                return Usage(error, $"{file}: {e.Message}");
            }
        }

        var exit = ExitLinearizable;
        for (var i = 0; i < files.Count; i++)
        {
            var result = LinearizabilityChecker.Check(model, histories[i], budgetPerFile);
            output.Write(files[i]);
            output.WriteLine(result.Verdict switch
            {
                Verdict.Ok => ": linearizable",
                Verdict.Illegal => ": illegal",
                _ => ": unknown",
            });
            if (result.Explanation is { } explanation)
            {
                output.WriteLine("  (call and return times below are line numbers in the file)");
                foreach (var line in explanation.Split('\n'))
                {
                    output.Write("  ");
                    output.WriteLine(line.TrimEnd('\r'));
                }
            }

            if (result.Verdict == Verdict.Illegal)
            {
                exit = ExitIllegal;
            }
            else if (result.Verdict == Verdict.Unknown && exit == ExitLinearizable)
            {
                exit = ExitUndecided;
            }
        }

        return exit;
    }

    private static int Usage(TextWriter error, string message)
    {
        error.WriteLine("lincheck: " + message);
        return ExitUsage;
    }
}
