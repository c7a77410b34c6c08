using System.Globalization;
using System.Text;

namespace Strata.Linearizability.Formats;

/// <summary>A keyword such as <c>:invoke</c>, stored without its colon.</summary>
internal readonly record struct EdnKeyword(string Name)
{
    public override string ToString() => ":" + Name;
}

/// <summary>
/// Reads one flat EDN map per line: <c>{:k v, :k v}</c> whose keys are keywords and whose values are
/// strings, keywords, integers, booleans or nil. Enough EDN for Jepsen's history lines, not a general reader.
/// </summary>
internal static class EdnMapReader
{
    /// <summary>Parses <paramref name="line"/>; values are string, <see cref="EdnKeyword"/>, long, bool or null.</summary>
    public static Dictionary<string, object?> ReadMap(string line, int lineNumber)
    {
        var position = 0;
        SkipSpace(line, ref position);
        Expect(line, ref position, '{', lineNumber);
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        while (true)
        {
            SkipSpace(line, ref position);
            if (position >= line.Length)
            {
                throw new HistoryFormatException(lineNumber, "map is not closed with '}'");
            }

            if (line[position] == '}')
            {
                position++;
                break;
            }

            if (ReadValue(line, ref position, lineNumber) is not EdnKeyword key)
            {
                throw new HistoryFormatException(lineNumber, "map keys must be keywords");
            }

            SkipSpace(line, ref position);
            var value = ReadValue(line, ref position, lineNumber);
            if (!map.TryAdd(key.Name, value))
            {
                throw new HistoryFormatException(lineNumber, $"key :{key.Name} appears twice");
            }
        }

        SkipSpace(line, ref position);
        if (position != line.Length)
        {
            throw new HistoryFormatException(lineNumber, "unexpected text after the map");
        }

        return map;
    }

    private static object? ReadValue(string text, ref int position, int lineNumber)
    {
        if (position >= text.Length)
        {
            throw new HistoryFormatException(lineNumber, "expected a value");
        }

        if (text[position] == '"')
        {
            return ReadString(text, ref position, lineNumber);
        }

        var start = position;
        while (position < text.Length && !IsDelimiter(text[position]))
        {
            position++;
        }

        var token = text[start..position];
        if (token.Length == 0)
        {
            throw new HistoryFormatException(lineNumber, $"unexpected '{text[position]}'");
        }

        if (token[0] == ':' && token.Length > 1)
        {
            return new EdnKeyword(token[1..]);
        }

        switch (token)
        {
            case "nil":
                return null;
            case "true":
                return true;
            case "false":
                return false;
        }

        return long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new HistoryFormatException(lineNumber, $"unsupported value '{token}'");
    }

    private static string ReadString(string text, ref int position, int lineNumber)
    {
        position++; // opening quote
        var value = new StringBuilder();
        while (position < text.Length)
        {
            var c = text[position++];
            if (c == '"')
            {
                return value.ToString();
            }

            if (c != '\\')
            {
                value.Append(c);
                continue;
            }

            if (position >= text.Length)
            {
                break;
            }

            var escaped = text[position++];
            value.Append(escaped switch
            {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                '"' => '"',
                '\\' => '\\',
                _ => throw new HistoryFormatException(lineNumber, $"unsupported escape '\\{escaped}' in string"),
            });
        }

        throw new HistoryFormatException(lineNumber, "string is not closed");
    }

    private static bool IsDelimiter(char c) => char.IsWhiteSpace(c) || c is ',' or '{' or '}' or '"';

    private static void SkipSpace(string text, ref int position)
    {
        // In EDN, commas are whitespace.
        while (position < text.Length && (char.IsWhiteSpace(text[position]) || text[position] == ','))
        {
            position++;
        }
    }

    private static void Expect(string text, ref int position, char expected, int lineNumber)
    {
        if (position >= text.Length || text[position] != expected)
        {
            throw new HistoryFormatException(lineNumber, $"expected '{expected}'");
        }

        position++;
    }
}
