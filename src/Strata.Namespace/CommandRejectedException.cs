using Strata.Namespace.Commands;

namespace Strata.Namespace;

/// <summary>
/// Thrown inside apply and validation when a command must be refused; apply turns it into a
/// <see cref="CommandResult"/> and writes nothing of the refused command.
/// </summary>
public sealed class CommandRejectedException(ResultCode code, string message) : Exception(message)
{
    public ResultCode Code { get; } = code;

    /// <summary>The path whose precondition or existence check failed, if any.</summary>
    public string FailedPath { get; init; } = "";

    public ulong CurrentGeneration { get; init; }

    public ulong CurrentMetageneration { get; init; }

    /// <summary>Transactions: the index of the operation that was refused; -1 otherwise.</summary>
    public int FailedOperation { get; init; } = -1;

    public CommandResult ToResult() => new()
    {
        Code = Code,
        Message = Message,
        FailedPath = FailedPath,
        CurrentGeneration = CurrentGeneration,
        CurrentMetageneration = CurrentMetageneration,
        FailedOperation = FailedOperation,
    };

    public static CommandRejectedException Invalid(string message) => new(ResultCode.ResultInvalidArgument, message);

    public static CommandRejectedException NotFound(string message) => new(ResultCode.ResultNotFound, message);
}
