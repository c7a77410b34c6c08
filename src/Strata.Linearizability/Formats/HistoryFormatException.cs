namespace Strata.Linearizability.Formats;

/// <summary>A recorded history could not be read; <see cref="LineNumber"/> says where.</summary>
public sealed class HistoryFormatException : FormatException
{
    /// <summary>Creates the exception for a problem at 1-based <paramref name="lineNumber"/>.</summary>
    public HistoryFormatException(int lineNumber, string message)
        : base($"line {lineNumber}: {message}")
    {
        LineNumber = lineNumber;
        Reason = message;
    }

    /// <summary>The 1-based line the problem is on.</summary>
    public int LineNumber { get; }

    /// <summary>The problem, without the line number.</summary>
    public string Reason { get; }
}
