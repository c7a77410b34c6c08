using Strata.Consensus;

namespace Strata.Simulation.Tests;

// Faults: partitions of every shape, crashes with torn writes, pauses longer than a lease, membership changes and
// leader transfers, injected at random times until the fault phase ends.
internal sealed partial class Simulation
{
    public List<string> FaultLog { get; } = [];

    private void ScheduleFaults(long until)
    {
        var t = Rng.Range(10, 40) * Options.TickUnits;
        while (t < until)
        {
            var at = t;
            Schedule(at, 80, 0, 0, InjectFault);
            t += Rng.Range(5, 40) * Options.TickUnits;
        }
    }

    private void InjectFault()
    {
        var heal = Rng.Range(5, 60) * Options.TickUnits;
        var ids = _nodes.Keys.ToArray();
        switch (Rng.Next(12))
        {
            case 0:
            {
                // Symmetric split into two sides.
                var side = ids.Where(_ => Rng.Chance(0.5)).ToHashSet();
                foreach (var a in ids)
                {
                    foreach (var b in ids)
                    {
                        if (side.Contains(a) != side.Contains(b))
                        {
                            Block(a, b, heal);
                        }
                    }
                }

                Note($"partition {{{string.Join(',', side)}}} | rest");
                break;
            }

            case 1:
            {
                // Asymmetric: a -> b lost, b -> a fine.
                var a = Rng.Pick(ids);
                var b = Rng.Pick(ids);
                if (a != b)
                {
                    Block(a, b, heal);
                    Note($"one-way {a}->{b}");
                }

                break;
            }

            case 2:
            {
                // Bridge: two sides that cannot talk to each other, both connected to one bridge node.
                var bridge = Rng.Pick(ids);
                var side = ids.Where(i => i != bridge && Rng.Chance(0.5)).ToHashSet();
                foreach (var a in ids.Where(i => i != bridge))
                {
                    foreach (var b in ids.Where(i => i != bridge))
                    {
                        if (side.Contains(a) != side.Contains(b))
                        {
                            Block(a, b, heal);
                        }
                    }
                }

                Note($"bridge {bridge}");
                break;
            }

            case 3:
            {
                // Isolate the leader of some group.
                var leader = AnyLeader();
                if (leader is not null)
                {
                    foreach (var other in ids.Where(i => i != leader.Node.Id))
                    {
                        Block(leader.Node.Id, other, heal);
                        Block(other, leader.Node.Id, heal);
                    }

                    Note($"isolate leader {leader.Node.Id}");
                }

                break;
            }

            case 4:
            case 5:
            {
                var victim = _nodes[Rng.Pick(ids)];
                if (_nodes.Values.Count(n => !n.Up) < 2)
                {
                    Crash(victim);
                    Note($"crash {victim.Id}");
                    Schedule(Now + Rng.Range(3, 50) * Options.TickUnits, 81, victim.Id, 0, () => Restart(victim));
                }

                break;
            }

            case 6:
            {
                // A pause (GC, VM stall) longer than the lease and often longer than an election timeout.
                var victim = Rng.Chance(0.5) ? AnyLeader()?.Node ?? _nodes[Rng.Pick(ids)] : _nodes[Rng.Pick(ids)];
                var ticks = Rng.Range(Options.ElectionTick / 2, 4 * Options.ElectionTick);
                Pause(victim, ticks * Options.TickUnits);
                Note($"pause {victim.Id} for {ticks} ticks");
                break;
            }

            case 7:
            case 8:
            case 9:
                ChangeMembership();
                break;
            default:
            {
                var leader = AnyLeader();
                if (leader is not null)
                {
                    var voters = leader.Raft.ConfState.Voters.Where(v => v != leader.Node.Id).ToList();
                    if (voters.Count > 0)
                    {
                        var target = Rng.PickFrom(voters);
                        leader.Raft.TransferLeader(target);
                        Activity(leader);
                        Note($"g{leader.Group} transfer {leader.Node.Id}->{target}");
                    }
                }

                break;
            }
        }
    }

    private void ChangeMembership()
    {
        var leader = AnyLeader();
        if (leader is null)
        {
            return;
        }

        var cs = leader.Raft.ConfState;
        var nonMembers = _nodes.Keys.Where(id => !cs.Contains(id)).ToList();
        ConfChange? change = null;
        if (cs.IsJoint)
        {
            if (!cs.AutoLeave)
            {
                change = ConfChange.LeaveJoint;
            }
        }
        else
        {
            var choice = Rng.Next(5);
            if (choice == 0 && nonMembers.Count > 0)
            {
                change = ConfChange.AddLearner(Rng.PickFrom(nonMembers));
            }
            else if (choice == 1 && cs.Learners.Count > 0)
            {
                change = ConfChange.AddVoter(Rng.PickFrom(cs.Learners)); // promote
            }
            else if (choice == 2 && cs.Learners.Count > 0 && cs.Voters.Count >= 3)
            {
                // Replace a voter by a learner through a joint configuration, left automatically.
                change = new ConfChange(ConfChangeTransition.JointImplicit,
                    [new(ConfChangeType.AddVoter, Rng.PickFrom(cs.Learners)), new(ConfChangeType.Remove, Rng.PickFrom(cs.Voters))]);
            }
            else if (choice == 3 && cs.Voters.Count > 3)
            {
                change = ConfChange.Remove(Rng.PickFrom(cs.Voters));
            }
            else if (choice == 4 && cs.Voters.Count > 3)
            {
                // Demote a voter to learner in an explicit joint configuration (left by a later LeaveJoint).
                change = new ConfChange(ConfChangeTransition.JointExplicit, [new(ConfChangeType.AddLearner, Rng.PickFrom(cs.Voters))]);
            }
            else if (nonMembers.Count > 0 && cs.Voters.Count + cs.Learners.Count < 5)
            {
                change = ConfChange.AddLearner(Rng.PickFrom(nonMembers));
            }
        }

        if (change is null)
        {
            return;
        }

        var outcome = leader.Raft.ProposeConfChange(change);
        Activity(leader);
        Note($"g{leader.Group} conf change {change} at leader {leader.Node.Id}: {outcome}");
    }

    private Replica? AnyLeader()
    {
        var leaders = _nodes.Values.Where(n => n.Up && !n.IsPaused(Now))
            .SelectMany(n => n.Replicas.Values)
            .Where(r => r.Raft.Role == StateRole.Leader)
            .ToList();
        return leaders.Count == 0 ? null : Rng.PickFrom(leaders);
    }

    private void Block(ulong from, ulong to, long duration)
    {
        if (_blocked.Add((from, to)))
        {
            Schedule(Now + duration, 82, from, to, () => _blocked.Remove((from, to)));
        }
    }

    private void HealEverything()
    {
        _blocked.Clear();
        foreach (var node in _nodes.Values)
        {
            Restart(node);
        }

        // Leave a final explicit joint configuration so the quiet phase starts from a stable membership.
        foreach (var r in _nodes.Values.SelectMany(n => n.Replicas.Values).Where(r => r.Raft.Role == StateRole.Leader))
        {
            if (r.Raft.ConfState is { IsJoint: true, AutoLeave: false })
            {
                r.Raft.ProposeConfChange(ConfChange.LeaveJoint);
                Activity(r);
            }
        }

        Note("heal");
    }

    private void Note(string what) => FaultLog.Add($"t={Now / Options.TickUnits}: {what}");
}
