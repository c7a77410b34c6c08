using Strata.Storage;

namespace Strata.Cluster.Tests;

/// <summary>How a client must read a failed call to a cluster node.</summary>
internal static class CallOutcome
{
    /// <summary>The node refused before handing anything to Raft: nothing was done (the call can be dropped from a history).</summary>
    public static bool NothingDone(Exception e) => e is ShardUnavailableException or NotLeaderException;

    /// <summary>The call may or may not have taken effect: leadership changed, it timed out, or the node died under it.</summary>
    public static bool Unknown(Exception e) =>
        e is OutcomeUnknownException or OperationCanceledException or ObjectDisposedException or StorageFailureException;
}
