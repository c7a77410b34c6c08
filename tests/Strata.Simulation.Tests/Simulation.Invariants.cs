using Strata.Consensus;

namespace Strata.Simulation.Tests;

// Safety invariants, checked after every event.
internal sealed partial class Simulation
{
    private readonly Dictionary<(ulong Group, ulong Term), ulong> _leaderOfTerm = [];
    private readonly Dictionary<(ulong Group, ulong Index), (ulong Term, int Hash)> _appliedAt = [];
    private readonly Dictionary<(ulong Group, ulong Index, ulong Term), int> _entryAt = [];
    private readonly Dictionary<ulong, ulong> _maxApplied = [];
    private readonly Dictionary<ulong, (ulong Node, long Since)> _leaseHolder = [];

    public int LeaseIntervals { get; private set; }

    private static int HashOf(Entry e)
    {
        var h = new HashCode();
        h.Add(e.Type);
        h.AddBytes(e.Data.Span);
        return h.ToHashCode();
    }

    /// <summary>Log matching (part 1): one (group, index, term) always names the same entry, on every disk.</summary>
    private void RecordPersisted(ulong group, Entry e)
    {
        var hash = HashOf(e);
        if (_entryAt.TryGetValue((group, e.Index, e.Term), out var seen))
        {
            if (seen != hash)
            {
                Fail($"log matching: g{group} two different entries at index {e.Index} term {e.Term}");
            }
        }
        else
        {
            _entryAt[(group, e.Index, e.Term)] = hash;
        }
    }

    /// <summary>State machine safety: every replica applies the same entry at the same index.</summary>
    private void RecordApplied(Replica r, Entry e)
    {
        var hash = HashOf(e);
        if (_appliedAt.TryGetValue((r.Group, e.Index), out var seen))
        {
            if (seen.Term != e.Term || seen.Hash != hash)
            {
                Fail($"state machine safety: g{r.Group} n{r.Node.Id} applied (i{e.Index}, t{e.Term}) where another replica applied term {seen.Term}");
            }
        }
        else
        {
            _appliedAt[(r.Group, e.Index)] = (e.Term, hash);
        }

        if (!_maxApplied.TryGetValue(r.Group, out var max) || e.Index > max)
        {
            _maxApplied[r.Group] = e.Index;
        }
    }

    private void CheckInvariants()
    {
        var holders = new Dictionary<ulong, ulong>();
        foreach (var node in _nodes.Values)
        {
            if (!node.Up)
            {
                continue;
            }

            foreach (var r in node.Replicas.Values)
            {
                var raft = r.Raft;
                if (raft.Role == StateRole.Leader)
                {
                    CheckLeader(r);
                }

                // Lease: a node that is running (not paused: a paused node serves nothing and catches up its clock
                // before serving again) and believes its lease valid is a lease holder at this instant.
                if (!node.IsPaused(Now) && raft.HasValidLease)
                {
                    if (holders.TryGetValue(r.Group, out var other))
                    {
                        Fail($"lease: g{r.Group} nodes {other} and {node.Id} both hold a valid lease");
                        return;
                    }

                    holders[r.Group] = node.Id;
                }
            }
        }

        // Track intervals in global time: a holder change must not overlap the previous holder's interval.
        foreach (var (group, holder) in holders)
        {
            if (!_leaseHolder.TryGetValue(group, out var current) || current.Node != holder)
            {
                _leaseHolder[group] = (holder, Now);
                LeaseIntervals++;
            }
        }

        foreach (var group in _leaseHolder.Keys.Where(g => !holders.ContainsKey(g)).ToList())
        {
            _leaseHolder.Remove(group);
        }

        if (_eventCount % 512 == 0)
        {
            CheckLogMatching();
        }
    }

    /// <summary>Election safety and leader completeness, when a leader is seen.</summary>
    private void CheckLeader(Replica r)
    {
        var key = (r.Group, r.Raft.Term);
        if (_leaderOfTerm.TryGetValue(key, out var leader))
        {
            if (leader != r.Node.Id)
            {
                Fail($"election safety: g{r.Group} term {r.Raft.Term} has leaders {leader} and {r.Node.Id}");
            }

            return;
        }

        _leaderOfTerm[key] = r.Node.Id;

        // Leader completeness: the new leader's log holds every entry applied anywhere (checking the last one is
        // enough: by log matching the prefix is then identical).
        if (_maxApplied.TryGetValue(r.Group, out var max) && _appliedAt.TryGetValue((r.Group, max), out var applied))
        {
            if (r.Raft.LastIndex < max)
            {
                Fail($"leader completeness: g{r.Group} leader {r.Node.Id} (term {r.Raft.Term}) lacks applied index {max}");
                return;
            }

            var term = r.Raft.TermAt(max);
            if (term is { } t && t != applied.Term)
            {
                Fail($"leader completeness: g{r.Group} leader {r.Node.Id} has term {t} at applied index {max} (applied term {applied.Term})");
            }
        }
    }

    /// <summary>Log matching (part 2): if two durable logs agree on an entry's term they agree on everything before it.</summary>
    private void CheckLogMatching()
    {
        for (ulong g = 1; g <= (ulong)Options.Groups; g++)
        {
            var disks = _nodes.Values.Where(n => n.Disks.ContainsKey(g)).Select(n => (n.Id, Disk: n.Disks[g])).ToList();
            for (var i = 0; i < disks.Count; i++)
            {
                for (var j = i + 1; j < disks.Count; j++)
                {
                    CompareLogs(g, disks[i].Id, disks[i].Disk, disks[j].Id, disks[j].Disk);
                }
            }
        }
    }

    private void CompareLogs(ulong group, ulong idA, MemoryRaftLog a, ulong idB, MemoryRaftLog b)
    {
        var low = Math.Max(a.FirstIndex, b.FirstIndex);
        var high = Math.Min(a.LastIndex, b.LastIndex);
        var matched = false;
        for (var i = high; i >= low && i > 0; i--)
        {
            var ta = a.Term(i);
            var tb = b.Term(i);
            if (ta == tb)
            {
                matched = true;
            }
            else if (matched)
            {
                Fail($"log matching: g{group} nodes {idA} and {idB} agree on a later entry but differ at index {i} (terms {ta} vs {tb})");
                return;
            }
        }
    }
}
