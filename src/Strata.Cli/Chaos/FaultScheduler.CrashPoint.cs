using System.Globalization;
using Spectre.Console;
using Strata.Api.V1;
using Strata.Cli.Cluster;
using Strata.Client;

namespace Strata.Cli.Chaos;

/// <summary>
/// The <see cref="FaultKind.CrashPoint"/> fault: the target is killed and restarted at once over its data with a
/// seeded crash point armed (<see cref="ArmedCrashPoint"/>, through <see cref="LocalCluster.Start"/>'s per-start
/// environment — the path a power loss's restart takes too); it serves again until a store step reaches the point's
/// N-th hit and it SIGKILLs itself. The scheduler waits for that, bounded by the fault's window, then restarts it
/// without the point.
/// </summary>
/// <remarks>
/// <para>A crash point is aimed at a replica of the bucket's shard (the leader, or a seeded replica), the shard the
/// workload writes to. While it is armed the scheduler writes an object of its own (<see cref="LoadKey"/>, outside every
/// key the workloads check, read or list) every <see cref="LoadInterval"/>: the clients stop at the next fault's
/// starting point until that fault begins, and without writes an armed node would never reach its point.</para>
/// <para>While armed the node counts as killed (<c>_killed</c>), so its death at the point is never taken for a crash. Its
/// death counts as the point firing only when its log, since the armed start, ends with the point's dying line
/// (<see cref="ArmedCrashPoint.DyingLine"/>); a process that exited without it is left to the recovery that follows,
/// which records it as a <c>crash</c> (a bug) and restarts it.</para>
/// </remarks>
internal sealed partial class FaultScheduler
{
    // How long the node's last log lines may take to come through the pipe after its process is gone.
    private static readonly TimeSpan DyingLineWait = TimeSpan.FromSeconds(2);

    // How long an armed node may take to answer again before its window starts anyway (a liveness bound: a loaded
    // machine can take several seconds to start a node process).
    private static readonly TimeSpan ArmedStartBound = TimeSpan.FromSeconds(30);

    /// <summary>The object the scheduler writes (at the bucket's root) while a crash point is armed.</summary>
    public const string LoadKey = "crash-point-load";

    /// <summary>The pause between two of the scheduler's writes while a crash point is armed (one write at a time).</summary>
    public static readonly TimeSpan LoadInterval = TimeSpan.FromMilliseconds(5);

    private static readonly StrataClientOptions LoadClient = new()
    {
        DefaultDeadline = TimeSpan.FromSeconds(1),
        Retry = new RetryPolicy { MaxAttempts = 10, MaxBackoff = TimeSpan.FromMilliseconds(200), MaxElapsed = TimeSpan.FromSeconds(2) },
    };

    /// <summary>
    /// The nodes a fault not aimed at the leader picks its seeded target from: for a crash point, the running
    /// replicas of the bucket's shard when known (a node without one would see none of the workload's writes);
    /// otherwise every active node.
    /// </summary>
    private IReadOnlyList<ulong> SeededCandidates(PlannedFault fault, IReadOnlyList<ulong>? replicas)
    {
        ulong[] active = ActiveIds();
        if (fault.Kind != FaultKind.CrashPoint || replicas is null)
        {
            return active;
        }

        ulong[] running = [.. replicas.Where(r => active.Contains(r) && _cluster.Node(r).IsRunning).Order()];
        return running.Length > 0 ? running : active;
    }

    /// <summary>Kills the target of <paramref name="started"/> and restarts it with the fault's crash point armed; returns the event with the point.</summary>
    private async Task<FaultEvent> ArmCrashPointAsync(PlannedFault fault, FaultEvent started)
    {
        ArmedCrashPoint armed = ArmedCrashPoint.Of(fault.Salt);
        await _cluster.KillAsync(started.Node).ConfigureAwait(false);
        _cluster.Start(started.Node, armed.Environment);
        return started with
        {
            CrashPoint = armed.Value,
            ArmedProcessId = _cluster.Node(started.Node).ProcessId,
            ArmedNanos = _clock.Now,
        };
    }

    /// <summary>
    /// Waits until the armed node of timeline entry <paramref name="index"/> is gone, or <paramref name="window"/> has
    /// passed since it answered again (its restart done; the restart itself may take up to <see cref="ArmedStartBound"/>), and
    /// records when it answered and when it went. Writes <see cref="LoadKey"/> all the while.
    /// </summary>
    private async Task WaitForCrashPointAsync(int index, TimeSpan window, CancellationToken cancellationToken)
    {
        FaultEvent fault = Timeline[index];
        LocalNode node = _cluster.Node(fault.Node);
        if (node.Process is not { } process)
        {
            return;
        }

        using var load = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task writes = KeepWritingAsync(load.Token);
        Task exited = process.WaitForExitAsync(CancellationToken.None); // completes: the node dies, or is killed at the end
        try
        {
            var restart = System.Diagnostics.Stopwatch.StartNew();
            while (!exited.IsCompleted && restart.Elapsed < ArmedStartBound)
            {
                if (await ClusterObservation.TryGetStatusAsync(node.Uri, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false) is not null)
                {
                    Update(index, e => e with { ServingNanos = _clock.Now });
                    break;
                }

                await Task.WhenAny(exited, Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }

            if (!exited.IsCompleted && Timeline[index].ServingNanos is not null)
            {
                await Task.WhenAny(exited, Task.Delay(window, cancellationToken)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }

            if (exited.IsCompleted)
            {
                Update(index, e => e with { DiedNanos = _clock.Now });
            }
        }
        finally
        {
            await load.CancelAsync().ConfigureAwait(false);
            await writes.ConfigureAwait(false);
        }
    }

    /// <summary>Writes <see cref="LoadKey"/> every <see cref="LoadInterval"/> until cancelled; a write that fails is simply followed by the next.</summary>
    private async Task KeepWritingAsync(CancellationToken cancellationToken)
    {
        using StrataClient client = StrataClient.ConnectCluster([.. _cluster.ActiveNodes.Select(n => n.Uri)], LoadClient);
        for (ulong n = 1; ; n++)
        {
            try
            {
                var attributes = new ObjectAttributes { Size = n, ContentType = "application/octet-stream", Tier = Tier.Ssd };
                await client.PutObjectAsync(_bucket, LoadKey, attributes, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (StrataException)
            {
                // Refused or timed out while the armed node restarts or leadership moves: the next write tries again.
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // An attempt's deadline: as a failed write.
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                await Task.Delay(LoadInterval, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Ends crash-point entry <paramref name="index"/>: says whether the point fired (killing the node if it still
    /// runs) and restarts the node without it; a node that exited some other way is left to the recovery (a crash).
    /// </summary>
    private async Task EndCrashPointAsync(int index)
    {
        FaultEvent fault = Timeline[index];
        ArmedCrashPoint armed = ArmedCrashPoint.Of(_plan[fault.Number - 1].Salt);
        LocalNode node = _cluster.Node(fault.Node);
        double armedFor = ChaosClock.Seconds((fault.DiedNanos ?? _clock.Now) - fault.ArmedNanos!.Value);
        string serving = fault.ServingNanos is long answered
            ? string.Create(CultureInfo.InvariantCulture, $"it answered {ChaosClock.Seconds(answered - fault.ArmedNanos!.Value):0.00} s after the armed start")
            : fault.DiedNanos is null ? "it never answered a status call" : "it died before it answered a status call";
        string prefix = $"fault {fault.Number}: node {fault.Node}";
        if (node.IsRunning)
        {
            await _cluster.KillAsync(fault.Node).ConfigureAwait(false);
            string note = string.Create(CultureInfo.InvariantCulture,
                $"crash point {armed} armed; not reached within {armedFor:0.0} s ({serving}): killed (pid {fault.ArmedProcessId}) and restarted without it");
            Update(index, e => e with { Fired = false, Note = note });
            _log.Line(Markup.Escape($"{prefix}: {note}"));
        }
        else if (await DiedAtAsync(fault.Node, armed).ConfigureAwait(false))
        {
            long died = fault.DiedNanos ?? _clock.Now;
            string note = string.Create(CultureInfo.InvariantCulture,
                $"crash point {armed} fired {ChaosClock.Seconds(died - fault.ArmedNanos!.Value):0.00} s after the armed start (pid {fault.ArmedProcessId}; {serving}); restarted without it");
            Update(index, e => e with { Fired = true, DiedNanos = died, Note = note });
            _log.Line($"[red]{Markup.Escape(prefix)}[/]: " + Markup.Escape(note));
        }
        else
        {
            // Gone without reaching its point: a crash, which the recovery records (with its log) and restarts.
            lock (_gate)
            {
                _killed.Remove(fault.Node);
            }

            string note = $"crash point {armed} armed; the process (pid {fault.ArmedProcessId}) exited without reaching it: see the crash entry";
            Update(index, e => e with { Fired = false, Note = note, HealNanos = _clock.Now });
            _log.Line($"[red bold]{Markup.Escape(prefix)}[/]: " + Markup.Escape(note));
            return;
        }

        lock (_gate)
        {
            _killed.Remove(fault.Node);
        }

        _cluster.Start(fault.Node);
        Update(index, e => e with { HealNanos = _clock.Now });
    }

    /// <summary>
    /// Whether node <paramref name="id"/>'s log since its last start ends with <paramref name="armed"/>'s dying line;
    /// waits up to <see cref="DyingLineWait"/> for the last lines to come through the pipe.
    /// </summary>
    private async Task<bool> DiedAtAsync(ulong id, ArmedCrashPoint armed)
    {
        for (var waited = TimeSpan.Zero; ; waited += TimeSpan.FromMilliseconds(100))
        {
            string[] tail = _cluster.LogTail(id, lines: 200).Split(Environment.NewLine);
            int start = Array.FindLastIndex(tail, line => line.StartsWith("--- ", StringComparison.Ordinal) && line.Contains(" start ", StringComparison.Ordinal));
            if (tail.Skip(start + 1).Any(line => line.Contains(armed.DyingLine, StringComparison.Ordinal)))
            {
                return true;
            }

            if (waited >= DyingLineWait)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
        }
    }
}
