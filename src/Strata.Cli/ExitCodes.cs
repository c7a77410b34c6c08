namespace Strata.Cli;

/// <summary>The exit codes of <c>strata</c>, the same for every command.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Ok = 0;

    /// <summary>The node refused the operation (the message says why); nothing changed.</summary>
    public const int Refused = 1;

    /// <summary>The command line was wrong (unknown option, bad value, unreadable input); nothing was sent.</summary>
    public const int Usage = 2;

    /// <summary>The node could not be reached.</summary>
    public const int Unreachable = 3;

    /// <summary>
    /// A node (<c>strata start</c>) stopped by itself: its storage failed (a failed fsync, corruption found). Nothing it
    /// acknowledged is lost; restart it over the same data directory (a supervisor should do so), or replace the disk.
    /// </summary>
    public const int NodeFailed = 4;
}

/// <summary>A value on the command line (or in an input file) is unusable: reported as a usage error (exit 2).</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>A command could not do its work for a reason other than a node's refusal (e.g. the port is taken).</summary>
internal sealed class CommandFailedException(string message, int exitCode = ExitCodes.Refused) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
