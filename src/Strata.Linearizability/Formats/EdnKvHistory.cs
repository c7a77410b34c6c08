using System.Globalization;
using Strata.Linearizability.Models;

namespace Strata.Linearizability.Formats;

/// <summary>
/// Reads a key-value history written as one EDN map per line:
/// <c>{:process P, :type :invoke|:ok|:fail|:info, :f :get|:put|:append, :key "K", :value "V"}</c>.
/// </summary>
/// <remarks>
/// <para>Times are 1-based line numbers. Keys may be strings or integers (integers are read as their decimal text).</para>
/// <list type="bullet">
/// <item><c>:ok</c> completes the operation; for a get, <c>:value</c> is what it read (nil counts as the empty string).</item>
/// <item><c>:fail</c> means the operation did not happen: it is dropped.</item>
/// <item><c>:info</c>, and an invocation never completed by the end of the history, is indeterminate: unknown outcome.</item>
/// </list>
/// </remarks>
public static class EdnKvHistory
{
    /// <summary>Parses a whole history.</summary>
    /// <exception cref="HistoryFormatException">A line is malformed or does not fit the process's pending operation.</exception>
    public static IReadOnlyList<Operation<KvInput, string>> Parse(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var pending = new Dictionary<long, (int Line, KvInput Input)>();
        var operations = new List<Operation<KvInput, string>>();
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var map = EdnMapReader.ReadMap(line, lineNumber);
            var process = Required(map, "process", lineNumber) as long?
                ?? throw new HistoryFormatException(lineNumber, ":process must be an integer");
            var type = Keyword(map, "type", lineNumber);
            var f = Keyword(map, "f", lineNumber);
            var key = Required(map, "key", lineNumber) switch
            {
                string text => text,
                long number => number.ToString(CultureInfo.InvariantCulture),
                _ => throw new HistoryFormatException(lineNumber, ":key must be a string or an integer"),
            };
            map.TryGetValue("value", out var value);

            if (type == "invoke")
            {
                if (pending.TryGetValue(process, out var open))
                {
                    throw new HistoryFormatException(lineNumber, $"process {process} invokes again while its operation from line {open.Line} is pending");
                }

                pending[process] = (lineNumber, ParseInput(f, key, value, lineNumber));
                continue;
            }

            if (!pending.Remove(process, out var invoked))
            {
                throw new HistoryFormatException(lineNumber, $"process {process} completes an operation it never invoked");
            }

            if (ParseKind(f, lineNumber) != invoked.Input.Kind || key != invoked.Input.Key)
            {
                throw new HistoryFormatException(lineNumber, $"process {process} completes :{f} on key \"{key}\" but invoked something else on line {invoked.Line}");
            }

            var client = (int)process;
            switch (type)
            {
                case "ok":
                    string? output = null;
                    if (invoked.Input.Kind == KvOp.Get)
                    {
                        output = value switch
                        {
                            null => string.Empty,
                            string text => text,
                            _ => throw new HistoryFormatException(lineNumber, "a get must return a string or nil"),
                        };
                    }

                    operations.Add(new(client, invoked.Input, output, invoked.Line, lineNumber));
                    break;
                case "fail":
                    break; // Did not happen.
                case "info":
                    operations.Add(Operation<KvInput, string>.Indeterminate(client, invoked.Input, invoked.Line));
                    break;
                default:
                    throw new HistoryFormatException(lineNumber, $"unknown event type ':{type}' (expected :invoke, :ok, :fail or :info)");
            }
        }

        foreach (var (process, invoked) in pending)
        {
            operations.Add(Operation<KvInput, string>.Indeterminate((int)process, invoked.Input, invoked.Line));
        }

        operations.Sort((a, b) => a.Call.CompareTo(b.Call));
        return operations;
    }

    private static KvInput ParseInput(string f, string key, object? value, int lineNumber)
    {
        var kind = ParseKind(f, lineNumber);
        if (kind == KvOp.Get)
        {
            return KvInput.Get(key);
        }

        return value is string text
            ? new KvInput(kind, key, text)
            : throw new HistoryFormatException(lineNumber, $":{f} needs a string :value");
    }

    private static KvOp ParseKind(string f, int lineNumber) => f switch
    {
        "get" => KvOp.Get,
        "put" => KvOp.Put,
        "append" => KvOp.Append,
        _ => throw new HistoryFormatException(lineNumber, $"unknown function ':{f}' (expected :get, :put or :append)"),
    };

    private static object Required(Dictionary<string, object?> map, string key, int lineNumber) =>
        map.TryGetValue(key, out var value) && value is not null
            ? value
            : throw new HistoryFormatException(lineNumber, $"missing :{key}");

    private static string Keyword(Dictionary<string, object?> map, string key, int lineNumber) =>
        Required(map, key, lineNumber) is EdnKeyword keyword
            ? keyword.Name
            : throw new HistoryFormatException(lineNumber, $":{key} must be a keyword");
}
