using System.Globalization;
using Spectre.Console;
using Strata.Api.V1;
using Strata.Cli.Cluster;
using Strata.Client;

namespace Strata.Cli.Chaos;

/// <summary>
/// The faults that arm a node to die by itself while serving (<see cref="ChaosOptions.IsArmedDeath"/>): the target is
/// killed and restarted at once over its data with something armed through <see cref="LocalCluster.Start"/>'s per-start
/// environment (the path a power loss's restart takes too) — a seeded crash point (<see cref="FaultKind.CrashPoint"/>,
/// <see cref="ArmedCrashPoint"/>), at whose N-th hit a store step SIGKILLs the node, or a seeded failed fsync
/// (<see cref="FaultKind.SyncFailure"/>, <see cref="ArmedSyncFailure"/>), after which the node must stop with exit code 4.
/// It serves again until then. The scheduler waits for the death, bounded by the fault's window, then restarts it
/// without anything armed — after a failed fsync, only after cutting its power, so that the pages the failed fsync
/// left behind are lost as they may be on a real disk.
/// </summary>
/// <remarks>
/// <para>The fault is aimed at a replica of the bucket's shard (the leader, or a seeded replica), the shard the
/// workload writes to. While it is armed the scheduler writes an object of its own (<see cref="LoadKey"/>, outside every
/// key the workloads check, read or list) every <see cref="LoadInterval"/>: the clients stop at the next fault's
/// starting point until the scheduler takes that fault up, and without writes an armed node would never reach its point or its sync.</para>
/// <para>While armed the node counts as killed (<c>_killed</c>), so its death is never taken for a crash. Its death
/// counts as the armed one only when it is what was armed: for a crash point, its log since the armed start ends with
/// the point's dying line (<see cref="ArmedCrashPoint.DyingLine"/>); for a failed fsync, it exited with code 4 and its
/// log says it stopped after a storage failure with an I/O error. A process that exited any other way is left to the
/// recovery that follows, which records it as a <c>crash</c> (a bug) and restarts it.</para>
/// </remarks>
internal sealed partial class FaultScheduler
{
    // How long the node's last log lines may take to come through the pipe after its process is gone.
    private static readonly TimeSpan DyingLineWait = TimeSpan.FromSeconds(2);

    // How long an armed node may take to answer again before its window starts anyway (a liveness bound: a loaded
    // machine can take several seconds to start a node process).
    private static readonly TimeSpan ArmedStartBound = TimeSpan.FromSeconds(30);

    /// <summary>The object the scheduler writes (at the bucket's root) while a node is armed to die.</summary>
    public const string LoadKey = "crash-point-load";

    /// <summary>The pause between two of the scheduler's writes while a node is armed to die (one write at a time).</summary>
    public static readonly TimeSpan LoadInterval = TimeSpan.FromMilliseconds(5);

    private static readonly StrataClientOptions LoadClient = new()
    {
        DefaultDeadline = TimeSpan.FromSeconds(1),
        Retry = new RetryPolicy { MaxAttempts = 10, MaxBackoff = TimeSpan.FromMilliseconds(200), MaxElapsed = TimeSpan.FromSeconds(2) },
    };

    /// <summary>
    /// The nodes a fault not aimed at the leader picks its seeded target from: for a watched restart (a crash point, a
    /// failed fsync, a flipped bit), the running replicas of the bucket's shard when known (a node without one would see
    /// none of the workload's writes); otherwise every active node.
    /// </summary>
    private IReadOnlyList<ulong> SeededCandidates(PlannedFault fault, IReadOnlyList<ulong>? replicas)
    {
        ulong[] active = ActiveIds();
        if (!ChaosOptions.IsWatchedRestart(fault.Kind) || replicas is null)
        {
            return active;
        }

        ulong[] running = [.. replicas.Where(r => active.Contains(r) && _cluster.Node(r).IsRunning).Order()];
        return running.Length > 0 ? running : active;
    }

    /// <summary>
    /// Kills the target of <paramref name="started"/> and restarts it with the fault's crash point or failed fsync
    /// armed; returns the event with what was armed.
    /// </summary>
    private async Task<FaultEvent> ArmAsync(PlannedFault fault, FaultEvent started)
    {
        IReadOnlyDictionary<string, string> environment;
        if (fault.Kind == FaultKind.CrashPoint)
        {
            ArmedCrashPoint point = ArmedCrashPoint.Of(fault.Salt);
            environment = point.Environment;
            started = started with { CrashPoint = point.Value };
        }
        else
        {
            ArmedSyncFailure sync = ArmedSyncFailure.Of(fault.Salt);
            environment = sync.Environment;
            started = started with { FailedSync = sync.Sync };
        }

        await _cluster.KillAsync(started.Node).ConfigureAwait(false);
        _cluster.Start(started.Node, environment);
        return started with
        {
            ArmedProcessId = _cluster.Node(started.Node).ProcessId,
            ArmedNanos = _clock.Now,
        };
    }

    /// <summary>What fault <paramref name="fault"/> armed, in words: <c>crash point NAME:N</c> or <c>a failed fsync N</c>.</summary>
    private static string ArmedText(FaultEvent fault) =>
        fault.CrashPoint is { } point ? $"crash point {point}" : string.Create(CultureInfo.InvariantCulture, $"a failed fsync {fault.FailedSync}");

    /// <summary>
    /// Waits until the watched node of timeline entry <paramref name="index"/> (armed to die, or over a flipped bit) is
    /// gone, or <paramref name="window"/> has passed since it answered again (its restart done; the restart itself may
    /// take up to <see cref="ArmedStartBound"/>), and records when it answered and when it went. Writes
    /// <see cref="LoadKey"/> all the while.
    /// </summary>
    private async Task WaitForWatchedRestartAsync(int index, TimeSpan window, CancellationToken cancellationToken)
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
    /// Ends armed-death entry <paramref name="index"/>: says whether the armed death happened (killing the node if it
    /// still runs), cuts the power of a node that stopped after its failed fsync, and restarts the node with nothing
    /// armed; a node that exited some other way is left to the recovery (a crash).
    /// </summary>
    private async Task EndArmedDeathAsync(int index)
    {
        FaultEvent fault = Timeline[index];
        LocalNode node = _cluster.Node(fault.Node);
        string armed = ArmedText(fault);
        double armedFor = ChaosClock.Seconds((fault.DiedNanos ?? _clock.Now) - fault.ArmedNanos!.Value);
        string serving = fault.ServingNanos is long answered
            ? string.Create(CultureInfo.InvariantCulture, $"it answered {ChaosClock.Seconds(answered - fault.ArmedNanos!.Value):0.00} s after the armed start")
            : fault.DiedNanos is null ? "it never answered a status call" : "it died before it answered a status call";
        string prefix = $"fault {fault.Number}: node {fault.Node}";
        if (node.IsRunning)
        {
            await _cluster.KillAsync(fault.Node).ConfigureAwait(false);
            string note = string.Create(CultureInfo.InvariantCulture,
                $"{armed} armed; not reached within {armedFor:0.0} s ({serving}): killed (pid {fault.ArmedProcessId}) and restarted without it");
            Update(index, e => e with { Fired = false, Note = note });
            _log.Line(Markup.Escape($"{prefix}: {note}"));
        }
        else if (await DiedAsArmedAsync(fault).ConfigureAwait(false))
        {
            long died = fault.DiedNanos ?? _clock.Now;
            string how = fault.CrashPoint is not null ? "fired" : "failed; the node stopped (exit 4)";
            string note = string.Create(CultureInfo.InvariantCulture,
                $"{armed} {how} {ChaosClock.Seconds(died - fault.ArmedNanos!.Value):0.00} s after the armed start (pid {fault.ArmedProcessId}; {serving})");
            if (fault.FailedSync is not null)
            {
                PowerLossOutcome lost = await _cluster.PowerLossAsync(fault.Node).ConfigureAwait(false);
                note += string.Create(CultureInfo.InvariantCulture,
                    $"; power cut: {lost.BytesLost:N0} unsynced bytes dropped, {lost.WriteAheadLogBytesLost:N0} of them of the WAL");
            }

            note += "; restarted without it";
            Update(index, e => e with { Fired = true, DiedNanos = died, Note = note });
            _log.Line($"[red]{Markup.Escape(prefix)}[/]: " + Markup.Escape(note));
        }
        else
        {
            // Gone without reaching what was armed: a crash, which the recovery records (with its log) and restarts.
            lock (_gate)
            {
                _killed.Remove(fault.Node);
            }

            string note = $"{armed} armed; the process (pid {fault.ArmedProcessId}) exited without reaching it: see the crash entry";
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
    /// Whether the armed process of <paramref name="fault"/> (gone) died of what was armed: its log since its start
    /// ends with the crash point's dying line, or it exited with code 4 saying it stopped after a storage failure with
    /// an I/O error.
    /// </summary>
    private async Task<bool> DiedAsArmedAsync(FaultEvent fault)
    {
        if (fault.CrashPoint is { } value)
        {
            ArmedCrashPoint point = ArmedCrashPoint.Of(_plan[fault.Number - 1].Salt);
            return point.Value == value && await LogLineSinceStartAsync(fault.Node, point.DyingLine).ConfigureAwait(false) is not null;
        }

        return _cluster.Node(fault.Node).Process is { HasExited: true, ExitCode: ExitCodes.NodeFailed }
            && await LogLineSinceStartAsync(fault.Node, ArmedSyncFailure.StoppedLine, ArmedSyncFailure.SyncError).ConfigureAwait(false) is not null;
    }

    /// <summary>
    /// The last line of node <paramref name="id"/>'s log since its last start that holds every one of
    /// <paramref name="needles"/> (ignoring case), or null; waits up to <see cref="DyingLineWait"/> for the last lines to
    /// come through the pipe.
    /// </summary>
    private async Task<string?> LogLineSinceStartAsync(ulong id, params string[] needles)
    {
        for (var waited = TimeSpan.Zero; ; waited += TimeSpan.FromMilliseconds(100))
        {
            string[] tail = _cluster.LogTail(id, lines: 200).Split(Environment.NewLine);
            int start = Array.FindLastIndex(tail, line => line.StartsWith("--- ", StringComparison.Ordinal) && line.Contains(" start ", StringComparison.Ordinal));
            if (tail.Skip(start + 1).LastOrDefault(line => needles.All(needle => line.Contains(needle, StringComparison.OrdinalIgnoreCase))) is { } found)
            {
                return found;
            }

            if (waited >= DyingLineWait)
            {
                return null;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
        }
    }
}
