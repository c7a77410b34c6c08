using System.CommandLine;
using Grpc.Core;
using Strata.Client;

namespace Strata.Cli;

/// <summary>
/// The one place where a command's outcome becomes an exit code and a <c>strata: ...</c> line: usage errors
/// exit 2, refusals by the node exit 1, an unreachable node exits 3.
/// </summary>
internal static class CommandActions
{
    /// <summary>Sets <paramref name="body"/> as the action of <paramref name="command"/>, with the error mapping.</summary>
    public static void SetGuardedAction(this Command command, CliEnvironment env, Func<ParseResult, CancellationToken, Task<int>> body) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                return await body(parse, cancellationToken).ConfigureAwait(false);
            }
            catch (UsageException e)
            {
                return env.Fail(e.Message, ExitCodes.Usage);
            }
            catch (CommandFailedException e)
            {
                return env.Fail(e.Message, e.ExitCode);
            }
            catch (StrataException e)
            {
                return env.Fail(Describe(e), ExitCodeOf(e));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return env.Fail("interrupted", ExitCodes.Refused);
            }
        });

    /// <summary>Exit 3 when the node could not be reached, 1 when it answered with a refusal.</summary>
    public static int ExitCodeOf(StrataException e) =>
        e.StatusCode == StatusCode.Unavailable ? ExitCodes.Unreachable : ExitCodes.Refused;

    /// <summary>
    /// One line: what failed, the status, the node's message (without a repeated lead-in), and the failing
    /// operation of a transaction.
    /// </summary>
    public static string Describe(StrataException e, Uri? address = null)
    {
        if (e.StatusCode == StatusCode.Unavailable)
        {
            string reason = e.IsConnectionFailure && e.InnerException is RpcException { Status.DebugException: { } debug }
                ? debug.GetBaseException().Message
                : e.Detail;
            string node = address is null ? "the node" : $"the node at {NodeLauncher.Display(address)}";
            return $"cannot reach {node} (Unavailable): {reason}";
        }

        string phrase = e.StatusCode switch
        {
            StatusCode.FailedPrecondition => "precondition failed",
            StatusCode.NotFound => "not found",
            StatusCode.AlreadyExists => "already exists",
            StatusCode.InvalidArgument => "invalid argument",
            StatusCode.Aborted => "aborted",
            StatusCode.DeadlineExceeded => "timed out",
            StatusCode.ResourceExhausted => "node overloaded",
            StatusCode.DataLoss => "data loss",
            _ => "request failed",
        };
        string detail = e.Detail.StartsWith(phrase + ": ", StringComparison.OrdinalIgnoreCase) ? e.Detail[(phrase.Length + 2)..] : e.Detail;
        string operation = e.FailedOperation is int index && !detail.Contains($"operation {index}", StringComparison.Ordinal)
            ? $" (transaction operation {index})"
            : "";
        return $"{phrase} ({e.StatusCode}): {detail}{operation}";
    }
}
