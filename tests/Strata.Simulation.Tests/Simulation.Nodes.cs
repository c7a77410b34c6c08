using Strata.Consensus;

namespace Strata.Simulation.Tests;

// Nodes: ticking, the Ready cycle with a crash-prone disk, crash/restart, pauses.
internal sealed partial class Simulation
{
    private RaftConfig ConfigFor(SimNode node, ulong group, MemoryRaftLog disk, ulong applied) => new()
    {
        Id = node.Id,
        GroupId = group,
        Storage = disk,
        Applied = applied,
        ElectionTick = Options.ElectionTick,
        HeartbeatTick = Options.HeartbeatTick,
        LeaseDriftMarginTicks = Options.LeaseMarginTicks,
        RandomSeed = Seed ^ ((ulong)node.Incarnation << 32),
        CheckQuorum = true,
        PreVote = true,
        ReadOnlyOption = Options.LeaseReads ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
        DisableProposalForwarding = !Options.ProposalForwarding,
        MaxInflightMessages = Options.MaxInflight,
        MaxSizePerMessage = Options.MaxSizePerMessage,
        MaxUncommittedEntriesSize = 1 << 16,
    };

    private void StartNode(SimNode node, bool firstStart)
    {
        node.Up = true;
        node.Replicas.Clear();
        foreach (var (group, disk) in node.Disks)
        {
            CreateReplica(node, group, disk);
        }

        var incarnation = node.Incarnation;
        var phase = firstStart ? Rng.Range(0, node.TickInterval) : node.TickInterval;
        Schedule(Now + phase, 1, node.Id, 0, () => NodeTick(node, incarnation));
    }

    private Replica CreateReplica(SimNode node, ulong group, MemoryRaftLog disk)
    {
        // Restart from the durable snapshot: the state machine is rebuilt from it and later entries are re-applied.
        var snap = disk.Snapshot();
        var raft = new RaftNode(ConfigFor(node, group, disk, snap.Index));
        var replica = new Replica(node, group, raft, disk, RegisterMachine.Deserialize(snap.Data)) { LastApplied = snap.Index };
        node.Replicas[group] = replica;
        return replica;
    }

    private void NodeTick(SimNode node, int incarnation)
    {
        if (!node.Up || node.Incarnation != incarnation)
        {
            return;
        }

        Schedule(Now + node.TickInterval, 1, node.Id, 0, () => NodeTick(node, incarnation));
        if (node.IsPaused(Now))
        {
            node.MissedTicks++; // the monotonic clock keeps running during a pause
            return;
        }

        TickReplicas(node);
    }

    private void TickReplicas(SimNode node)
    {
        foreach (var replica in node.Replicas.Values)
        {
            replica.Raft.Tick();
            Activity(replica);
        }
    }

    /// <summary>After any input: if the core has work, schedule a Ready cycle soon (the host batches a little).</summary>
    private void Activity(Replica r)
    {
        if (r.ReadyScheduled || r.Writing is not null || !r.Raft.HasReady)
        {
            return;
        }

        r.ReadyScheduled = true;
        var incarnation = r.Node.Incarnation;
        Schedule(Now + Rng.Range(0, 50), 10, r.Node.Id, r.Group, () => OnNode(r.Node, incarnation, () => BeginWrite(r)));
    }

    private void BeginWrite(Replica r)
    {
        r.ReadyScheduled = false;
        if (r.Writing is not null || !r.Raft.HasReady)
        {
            return;
        }

        var ready = r.Raft.Ready();
        r.Writing = ready;
        var incarnation = r.Node.Incarnation;
        Schedule(Now + Rng.Range(20, 400), 11, r.Node.Id, r.Group, () => OnNode(r.Node, incarnation, () => FinishWrite(r)));
    }

    /// <summary>The fsync completed: the Ready is durable; now send, apply, advance.</summary>
    private void FinishWrite(Replica r)
    {
        var ready = r.Writing!;
        Persist(r, ready, ready.Entries.Count);
        foreach (var m in ready.Messages)
        {
            SendMessage(m);
        }

        if (ready.Snapshot is { } snap)
        {
            r.State = RegisterMachine.Deserialize(snap.Data);
            r.LastApplied = snap.Index;
        }

        foreach (var e in ready.CommittedEntries)
        {
            Apply(r, e);
        }

        foreach (var rs in ready.ReadStates)
        {
            var id = BitConverter.ToInt64(rs.Context.Span);
            if (r.PendingReads.TryGetValue(id, out var pending))
            {
                r.PendingReads[id] = (pending.Request, rs.Index);
            }
        }

        r.Raft.Advance();
        r.Writing = null;
        ServeReads(r);
        MaybeCompact(r);
        Activity(r);
    }

    private void Persist(Replica r, Ready ready, int entryCount)
    {
        var disk = r.Disk;
        var torn = entryCount < ready.Entries.Count;
        if (ready.Snapshot is { } snap && !torn)
        {
            disk.ApplySnapshot(snap);
        }

        if (entryCount > 0)
        {
            var entries = ready.Entries.Take(entryCount).ToList();
            disk.Append(entries);
            foreach (var e in entries)
            {
                RecordPersisted(r.Group, e);
            }
        }

        if (ready.HardState is { } hs && !torn)
        {
            disk.SetHardState(hs);
        }
    }

    private void Apply(Replica r, Entry e)
    {
        if (e.Index != r.LastApplied + 1)
        {
            Fail($"g{r.Group} n{r.Node.Id} applied index {e.Index} after {r.LastApplied}");
            return;
        }

        r.LastApplied = e.Index;
        RecordApplied(r, e);
        if (e.Type != EntryType.Normal || e.Data.IsEmpty)
        {
            return;
        }

        var cmd = RegisterCommand.Decode(e.Data.Span);
        var ok = r.State.Apply(cmd);
        if (r.PendingWrites.Remove((cmd.Client, cmd.Sequence), out var pending))
        {
            Reply(r.Node, pending.Request, ReplyKind.Ok, 0, ok, null);
        }
    }

    private void MaybeCompact(Replica r)
    {
        var applied = r.Raft.Applied;
        var first = r.Disk.FirstIndex;
        if (applied < first || applied - first < (ulong)Options.CompactEvery || applied > r.Disk.LastIndex)
        {
            return;
        }

        r.Disk.CreateSnapshot(applied, r.Raft.ConfState, r.State.Serialize());
        var keep = (ulong)Rng.Range(0, 5);
        r.Disk.Compact(applied > keep ? applied - keep : applied);
    }

    private void Crash(SimNode node)
    {
        if (!node.Up)
        {
            return;
        }

        foreach (var r in node.Replicas.Values)
        {
            if (r.Writing is { } ready)
            {
                // The write in progress may be partly on disk: a prefix of its entries (a torn write), or all of it
                // but without the messages having been sent, or nothing.
                switch (Rng.Next(3))
                {
                    case 0 when ready.Entries.Count > 0:
                        Persist(r, ready, Rng.Next(ready.Entries.Count));
                        break;
                    case 1:
                        Persist(r, ready, ready.Entries.Count);
                        break;
                }
            }
        }

        node.Up = false;
        node.Incarnation++;
        node.Replicas.Clear();
        node.PausedUntil = -1;
        node.Paused = false;
        node.MissedTicks = 0;
    }

    private void Restart(SimNode node)
    {
        if (node.Up)
        {
            return;
        }

        StartNode(node, firstStart: false);
    }

    private void Pause(SimNode node, long duration)
    {
        if (!node.Up || node.IsPaused(Now))
        {
            return;
        }

        node.PausedUntil = Now + duration;
        node.Paused = true;
        var incarnation = node.Incarnation;
        Schedule(node.PausedUntil, 61, node.Id, 0, () =>
        {
            if (node.Incarnation != incarnation || !node.Up)
            {
                return;
            }

            // On resume the host first catches up on the ticks the clock counted during the pause.
            node.Paused = false;
            var missed = Options.PauseStopsClock ? 0 : node.MissedTicks; // the injected bug forgets them
            node.MissedTicks = 0;
            for (var i = 0; i < missed; i++)
            {
                TickReplicas(node);
            }
        });
    }

    private void SendMessage(Message m)
    {
        if (Rng.Chance(Options.DropRate))
        {
            ReportSnapshot(m, SnapshotStatus.Failed);
            return;
        }

        var copies = Rng.Chance(Options.DuplicateRate) ? 2 : 1;
        for (var i = 0; i < copies; i++)
        {
            var delay = Rng.Range(Options.MinLatency, Options.MaxLatency);
            if (Rng.Chance(Options.LongDelayRate))
            {
                delay += Rng.Range(0, 20 * Options.TickUnits);
            }

            Schedule(Now + delay, 20, m.From, m.To, () => Deliver(m));
        }
    }

    /// <summary>The transport tells the sending leader how a snapshot transfer ended (a host duty).</summary>
    private void ReportSnapshot(Message m, SnapshotStatus status)
    {
        if (m.Type != MessageType.Snapshot || !_nodes.TryGetValue(m.From, out var sender))
        {
            return;
        }

        var incarnation = sender.Incarnation;
        Schedule(Now + Options.MaxLatency, 21, m.From, m.To, () => OnNode(sender, incarnation, () =>
        {
            if (sender.Replicas.TryGetValue(m.GroupId, out var r))
            {
                r.Raft.ReportSnapshot(m.To, status);
                Activity(r);
            }
        }));
    }

    private void Deliver(Message m)
    {
        if (!_nodes.TryGetValue(m.To, out var node) || _blocked.Contains((m.From, m.To)) || !node.Up)
        {
            ReportSnapshot(m, SnapshotStatus.Failed);
            return;
        }

        OnNode(node, node.Incarnation, () =>
        {
            if (_blocked.Contains((m.From, m.To)))
            {
                ReportSnapshot(m, SnapshotStatus.Failed);
                return;
            }

            ReportSnapshot(m, SnapshotStatus.Finished);

            if (!node.Replicas.TryGetValue(m.GroupId, out var replica))
            {
                // Only a leader's traffic creates a replica (never a vote request, so an empty replica cannot vote).
                if (m.Type is not (MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot))
                {
                    return;
                }

                var disk = new MemoryRaftLog();
                node.Disks[m.GroupId] = disk;
                replica = CreateReplica(node, m.GroupId, disk);
            }

            Log(() => $"deliver {m}");
            replica.Raft.Step(m);
            Activity(replica);
        });
    }
}
