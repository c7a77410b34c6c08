using System.Runtime.InteropServices;
using Grpc.Core;
using Strata.Cluster;

namespace Strata.Cli.Cluster;

internal sealed partial class LocalCluster
{
    /// <summary>
    /// Waits until the cluster serves: every running node answers its status, and every shard of the map (and the
    /// meta shard) has a replica on a running node that says it leads. Returns the observation that showed it.
    /// Throws <see cref="CommandFailedException"/> if a node process exits meanwhile or <paramref name="timeout"/>
    /// passes, naming what was missing and the node's log. <paramref name="waiting"/>, when given, is told each new
    /// reason the cluster is not ready yet (on the waiting thread; keep it short).
    /// </summary>
    public Task<ClusterObservation> WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken, Action<string>? waiting = null) =>
        WaitUntilAsync(NotReady, "the cluster was not ready", timeout, cancellationToken, waiting);

    /// <summary>
    /// Waits until the cluster serves (as <see cref="WaitUntilReadyAsync"/>) and its leadership is settled: no
    /// leader has a transfer left to make by the balancing rule (<see cref="LeadershipBalance"/>). A fresh cluster
    /// elects leaders where its elections fall and then moves some; what is measured or shown after this wait does
    /// not meet those moves. Throws as <see cref="WaitUntilReadyAsync"/> does.
    /// </summary>
    public Task<ClusterObservation> WaitUntilSettledAsync(TimeSpan timeout, CancellationToken cancellationToken, Action<string>? waiting = null) =>
        WaitUntilAsync(o => NotReady(o) ?? o.PendingLeadershipTransfer(), "the cluster's leadership did not settle", timeout, cancellationToken, waiting);

    private async Task<ClusterObservation> WaitUntilAsync(Func<ClusterObservation, string?> notReady, string failure, TimeSpan timeout,
        CancellationToken cancellationToken, Action<string>? waiting)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        string missing = "no node answered yet";
        while (true)
        {
            foreach (LocalNode node in Nodes.Where(n => n.Process is { HasExited: true } && !n.IsRetired))
            {
                throw new CommandFailedException(
                    $"node {node.Id} exited with code {node.Process!.ExitCode} while the cluster was starting; its log ({node.LogPath}) ends with:{Environment.NewLine}{LogTail(node.Id)}");
            }

            try
            {
                ClusterObservation? observation = await TryObserveAsync(deadline.Token).ConfigureAwait(false);
                if (observation is not null)
                {
                    string? reason = notReady(observation);
                    if (reason is null)
                    {
                        return observation;
                    }

                    if (reason != missing)
                    {
                        waiting?.Invoke(reason);
                    }

                    missing = reason;
                }

                await Task.Delay(PollInterval, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new CommandFailedException($"{failure} within {timeout.TotalSeconds:0} s: {missing} (logs in {Directory})");
            }
        }
    }

    /// <summary>The cluster as the first running node that answers sees it; null when none answers.</summary>
    public Task<ClusterObservation?> TryObserveAsync(CancellationToken cancellationToken) => TryObserveAsync(excluded: 0, cancellationToken);

    /// <summary>
    /// The cluster as the first running node other than <paramref name="excluded"/> that answers sees it (a node
    /// being decommissioned stops learning the map once it left the meta shard); null when none answers.
    /// </summary>
    public async Task<ClusterObservation?> TryObserveAsync(ulong excluded, CancellationToken cancellationToken)
    {
        foreach (Uri address in RunningAddresses(excluded))
        {
            try
            {
                return await ClusterObservation.ObserveAsync(address, ProbeTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException) when (!cancellationToken.IsCancellationRequested)
            {
                // Try the next node.
            }
        }

        return null;
    }

    /// <summary>What keeps <paramref name="observation"/> from showing a serving cluster; null when nothing does.</summary>
    private string? NotReady(ClusterObservation observation)
    {
        if (observation.Map.Shards.Count == 0)
        {
            return "the cluster is not bootstrapped yet (the map has no shards)";
        }

        foreach (LocalNode node in Nodes.Where(n => n.IsRunning))
        {
            NodeObservation? seen = observation.Nodes.FirstOrDefault(o => o.Node.Id == node.Id);
            if (seen is not { Answers: true })
            {
                return $"node {node.Id} does not answer ({seen?.Error ?? "not in the map"})";
            }
        }

        foreach (ulong shard in observation.Map.Shards.Select(s => s.ShardId).Append(ClusterObservation.MetaShardId).Distinct())
        {
            if (observation.Leader(shard) is not { } leader)
            {
                return $"shard {shard} has no leader yet";
            }

            if (!Node(leader.Node).IsRunning)
            {
                return $"shard {shard} is led by node {leader.Node}, which is not running";
            }
        }

        return null;
    }

    /// <summary>Asks process <paramref name="processId"/> to stop (SIGTERM); false where signals do not exist.</summary>
    private static bool Terminate(int processId)
    {
        if (OperatingSystem.IsWindows())
        {
            return false;
        }

        return SendSignal(processId, SignalTerminate) == 0;
    }

    private const int SignalTerminate = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int processId, int signal);
}
