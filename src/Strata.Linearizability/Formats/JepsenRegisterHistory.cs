using System.Globalization;
using Strata.Linearizability.Models;

namespace Strata.Linearizability.Formats;

/// <summary>
/// Reads a Jepsen log of a single compare-and-set register (the etcd histories of Horn and Kroening's
/// study, also Porcupine's corpus), one event per line:
/// <c>INFO jepsen.util - &lt;process&gt; &lt;type&gt; &lt;f&gt; &lt;value&gt;</c>, fields separated by any whitespace.
/// </summary>
/// <remarks>
/// <para>Times are 1-based line numbers: an operation is called at its <c>:invoke</c> line and returns at its completion line.</para>
/// <list type="bullet">
/// <item><c>:ok</c> completes the operation with the value read, the write, or a successful cas.</item>
/// <item><c>:fail :cas</c> is a definite failed compare (nothing changed).</item>
/// <item><c>:fail</c> of a read (<c>:timed-out</c>) constrains nothing: it becomes a read with unknown outcome.</item>
/// <item><c>:fail</c> of a write did not take effect: the operation is dropped.</item>
/// <item><c>:info</c>, and an invocation never completed by the end of the log, is indeterminate: unknown outcome.</item>
/// </list>
/// </remarks>
public static class JepsenRegisterHistory
{
    /// <summary>Parses a whole log.</summary>
    /// <exception cref="HistoryFormatException">A line is malformed or does not fit the process's pending operation.</exception>
    public static IReadOnlyList<Operation<CasRegisterInput, CasRegisterOutput>> Parse(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var pending = new Dictionary<int, (int Line, CasRegisterInput Input)>();
        var operations = new List<Operation<CasRegisterInput, CasRegisterOutput>>();
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            var tokens = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (tokens.Length == 0)
            {
                continue;
            }

            if (tokens.Length < 7 || tokens[0] != "INFO" || tokens[1] != "jepsen.util" || tokens[2] != "-")
            {
                throw new HistoryFormatException(lineNumber, $"expected 'INFO jepsen.util - <process> <type> <f> <value>', got '{line.Trim()}'");
            }

            if (!int.TryParse(tokens[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var process))
            {
                throw new HistoryFormatException(lineNumber, $"process '{tokens[3]}' is not an integer");
            }

            var type = tokens[4];
            var f = tokens[5];
            var value = string.Join(' ', tokens, 6, tokens.Length - 6);
            if (type == ":invoke")
            {
                if (pending.TryGetValue(process, out var open))
                {
                    throw new HistoryFormatException(lineNumber, $"process {process} invokes again while its operation from line {open.Line} is pending");
                }

                pending[process] = (lineNumber, ParseInput(lineNumber, f, value));
                continue;
            }

            if (!pending.Remove(process, out var invoked))
            {
                throw new HistoryFormatException(lineNumber, $"process {process} completes an operation it never invoked");
            }

            if (f != Name(invoked.Input.Kind))
            {
                throw new HistoryFormatException(lineNumber, $"process {process} completes {f} but invoked {Name(invoked.Input.Kind)} on line {invoked.Line}");
            }

            switch (type)
            {
                case ":ok":
                    operations.Add(new(process, invoked.Input, Completion(lineNumber, invoked.Input, value), invoked.Line, lineNumber));
                    break;
                case ":fail" when invoked.Input.Kind == CasRegisterOp.Cas:
                    operations.Add(new(process, invoked.Input, CasRegisterOutput.CasResult(false), invoked.Line, lineNumber));
                    break;
                case ":fail" when invoked.Input.Kind == CasRegisterOp.Read:
                    operations.Add(Operation<CasRegisterInput, CasRegisterOutput>.Indeterminate(process, invoked.Input, invoked.Line));
                    break;
                case ":fail":
                    break; // A failed write did not happen.
                case ":info":
                    operations.Add(Operation<CasRegisterInput, CasRegisterOutput>.Indeterminate(process, invoked.Input, invoked.Line));
                    break;
                default:
                    throw new HistoryFormatException(lineNumber, $"unknown event type '{type}' (expected :invoke, :ok, :fail or :info)");
            }
        }

        foreach (var (process, invoked) in pending)
        {
            operations.Add(Operation<CasRegisterInput, CasRegisterOutput>.Indeterminate(process, invoked.Input, invoked.Line));
        }

        operations.Sort((a, b) => a.Call.CompareTo(b.Call));
        return operations;
    }

    private static CasRegisterInput ParseInput(int lineNumber, string f, string value)
    {
        switch (f)
        {
            case ":read":
                return CasRegisterInput.Read();
            case ":write":
                return CasRegisterInput.Write(ParseInteger(lineNumber, value));
            case ":cas":
                var (from, to) = ParsePair(lineNumber, value);
                return CasRegisterInput.Cas(from, to);
            default:
                throw new HistoryFormatException(lineNumber, $"unknown function '{f}' (expected :read, :write or :cas)");
        }
    }

    private static CasRegisterOutput Completion(int lineNumber, CasRegisterInput input, string value)
    {
        switch (input.Kind)
        {
            case CasRegisterOp.Read:
                return CasRegisterOutput.ReadResult(value == "nil" ? null : ParseInteger(lineNumber, value));
            case CasRegisterOp.Write:
                if (ParseInteger(lineNumber, value) != input.Value)
                {
                    throw new HistoryFormatException(lineNumber, $"write completes with {value} but was invoked with {input.Value}");
                }

                return CasRegisterOutput.WriteDone;
            default:
                if (ParsePair(lineNumber, value) != (input.Expected, input.Value))
                {
                    throw new HistoryFormatException(lineNumber, $"cas completes with {value} but was invoked with [{input.Expected} {input.Value}]");
                }

                return CasRegisterOutput.CasResult(true);
        }
    }

    private static long ParseInteger(int lineNumber, string text) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new HistoryFormatException(lineNumber, $"'{text}' is not an integer");

    private static (long From, long To) ParsePair(int lineNumber, string text)
    {
        var parts = text.Trim().TrimStart('[').TrimEnd(']').Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (!text.StartsWith('[') || !text.EndsWith(']') || parts.Length != 2)
        {
            throw new HistoryFormatException(lineNumber, $"'{text}' is not a pair [FROM TO]");
        }

        return (ParseInteger(lineNumber, parts[0]), ParseInteger(lineNumber, parts[1]));
    }

    private static string Name(CasRegisterOp kind) => kind switch
    {
        CasRegisterOp.Read => ":read",
        CasRegisterOp.Write => ":write",
        _ => ":cas",
    };
}
