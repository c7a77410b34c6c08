using System.Globalization;
using Spectre.Console;
using Strata.Cli.Cluster;

namespace Strata.Cli.Chaos;

/// <summary>
/// The <see cref="FaultKind.BitFlip"/> fault: the target (a replica of the bucket's shard) is killed, one seeded bit of
/// a write-ahead log, sorted table or manifest file of its data directory is flipped (<see cref="BitFlip"/>), and it is
/// restarted at once and watched, under the scheduler's own writes, for the fault's window (as an armed death is). The
/// node must find the damage through RocksDB's checksums — refuse to open, or stop naming the corruption — or serve
/// without touching the flipped bytes; a wrong answer it served would show in the checked history, an acknowledged write
/// it lost in the final reads through every replica.
/// </summary>
/// <remarks>
/// The repair at the window's end stands in for an operator restoring the node's files from a good copy (a corrupt
/// replica is not rebuilt from its peers): the node is killed and the bit flipped back where that restores exactly
/// what it had — a sorted table (never rewritten in place) that still exists, or any file of a node whose store RocksDB
/// refused to open. A log or manifest of a store that opened is left as it is: the node may have written since, and flipping the
/// bit back could resurrect a record it dropped. The timeline says which.
/// </remarks>
internal sealed partial class FaultScheduler
{
    private readonly Dictionary<int, BitFlip> _flips = [];

    /// <summary>
    /// Flips the fault's seeded bit of the target's data: half the faults (seeded) flip a bit of a sorted table under
    /// the running node — bit rot in a file it serves from, found only when it reads the block again (a cache miss, a
    /// compaction) — the others, and those that find no table yet, kill the node, flip a bit of any checksummed file,
    /// and restart it. Returns the event with the flip.
    /// </summary>
    private async Task<FaultEvent> FlipAsync(PlannedFault fault, FaultEvent started)
    {
        LocalNode node = _cluster.Node(started.Node);
        var random = new Random(fault.Salt);
        bool live = random.Next(2) == 0;
        BitFlip? flip = live ? BitFlip.Choose(node.DataDirectory, random, tablesOnly: true) : null;
        if (flip is not null && flip.Apply(node.DataDirectory))
        {
            // The node runs on; its window starts now.
            Remember(fault, flip);
            return started with { Flip = flip.ToString(), Live = true, ArmedProcessId = node.ProcessId, ArmedNanos = _clock.Now };
        }

        await _cluster.KillAsync(started.Node).ConfigureAwait(false);
        flip = BitFlip.Choose(node.DataDirectory, random);
        if (flip is not null && flip.Apply(node.DataDirectory))
        {
            Remember(fault, flip);
            started = started with { Flip = flip.ToString(), Live = false };
        }

        _cluster.Start(started.Node);
        return started with { ArmedProcessId = node.ProcessId, ArmedNanos = _clock.Now };
    }

    private void Remember(PlannedFault fault, BitFlip flip)
    {
        lock (_gate)
        {
            _flips[fault.Number] = flip;
        }
    }

    /// <summary>
    /// Ends flip entry <paramref name="index"/>: records whether the node found the damage, repairs what can be repaired
    /// exactly, and restarts the node; a node that exited without naming corruption is left to the recovery (a crash).
    /// </summary>
    private async Task EndFlipAsync(int index)
    {
        FaultEvent fault = Timeline[index];
        LocalNode node = _cluster.Node(fault.Node);
        BitFlip? flip;
        lock (_gate)
        {
            flip = _flips.GetValueOrDefault(fault.Number);
        }

        string prefix = $"fault {fault.Number}: node {fault.Node}";
        string flipped = flip is null ? "no checksummed file to flip"
            : fault.Live == true ? $"{flip} ({flip.FileKind}) flipped under the running node" : $"{flip} ({flip.FileKind}) flipped";
        double watched = ChaosClock.Seconds(_clock.Now - fault.ArmedNanos!.Value);
        bool opened;
        string note;
        bool detected;
        if (node.IsRunning)
        {
            await _cluster.KillAsync(fault.Node).ConfigureAwait(false);
            opened = true;
            detected = false;
            note = string.Create(CultureInfo.InvariantCulture,
                $"{flipped}; still serving {watched:0.0} s after the {(fault.Live == true ? "flip" : "restart")} (pid {fault.ArmedProcessId}): no read it made touched the flipped bytes, or it refused them (DATA_LOSS); killed");
        }
        else if (await LogLineSinceStartAsync(fault.Node, "corrupt").ConfigureAwait(false) is { } line && node.Process is { ExitCode: not 0 } process)
        {
            // Only RocksDB refusing the open itself leaves every file as it was before the start; a node that opened
            // its store and then found the damage (reading its state at start, or serving) may have written since.
            bool serving = fault.ServingNanos is not null || process.ExitCode == ExitCodes.NodeFailed;
            bool refusedOpen = !serving && line.Contains("RocksDB at", StringComparison.Ordinal) && line.Contains("is corrupt", StringComparison.Ordinal);
            opened = !refusedOpen;
            detected = true;
            string when = serving ? "stopped while serving" : refusedOpen ? "refused to open" : "refused to start (its store opened)";
            note = string.Create(CultureInfo.InvariantCulture,
                $"{flipped}; found: the node {when} (pid {fault.ArmedProcessId}, exit {process.ExitCode}, {ChaosClock.Seconds((fault.DiedNanos ?? _clock.Now) - fault.ArmedNanos!.Value):0.00} s after the {(fault.Live == true ? "flip" : "restart")}): {Shorten(line)}");
        }
        else
        {
            // Gone without naming the corruption: a crash, which the recovery records (with its log) and restarts.
            lock (_gate)
            {
                _killed.Remove(fault.Node);
            }

            // A table is flipped back all the same (always exact), so the restart does not meet the same damage.
            string back = flip is { FileKind: "SST" } && flip.Apply(node.DataDirectory) ? "; flipped back" : "";
            string exited = $"{flipped}; the process (pid {fault.ArmedProcessId}) exited without naming corruption: see the crash entry{back}";
            Update(index, e => e with { Note = exited, HealNanos = _clock.Now });
            _log.Line($"[red bold]{Markup.Escape(prefix)}[/]: " + Markup.Escape(exited));
            return;
        }

        if (flip is not null)
        {
            note += flip.FileKind == "SST" || !opened
                ? flip.Apply(node.DataDirectory) ? "; flipped back" : "; its file is gone (compacted away)"
                : $"; not flipped back (the node's store opened past its {flip.FileKind} and may have written since)";
        }

        note += "; restarted";
        Update(index, e => e with { Detected = detected, Note = note });
        _log.Line((detected ? $"[red]{Markup.Escape(prefix)}[/]: " : Markup.Escape(prefix) + ": ") + Markup.Escape(note));
        lock (_gate)
        {
            _killed.Remove(fault.Node);
        }

        _cluster.Start(fault.Node);
        Update(index, e => e with { HealNanos = _clock.Now });
    }

    /// <summary>A log line cut to a length that fits a timeline note.</summary>
    private static string Shorten(string line) => line.Length <= 300 ? line.Trim() : line[..300].Trim() + " ...";
}
