namespace Strata.Consensus;

/// <summary>Membership plus, on the leader, per-replica replication progress and election votes.</summary>
internal sealed class ProgressTracker(int maxInflight, ulong maxInflightBytes)
{
    private readonly Dictionary<ulong, bool> _votes = [];

    public MembershipConfig Config { get; private set; } = new();

    public Dictionary<ulong, Progress> Progress { get; } = [];

    /// <summary>Member ids in ascending order: iteration order of broadcasts, so executions replay exactly.</summary>
    public ulong[] Ids { get; private set; } = [];

    public void Restore(ConfState cs, ulong nextIndex)
    {
        Config = MembershipConfig.From(cs);
        Progress.Clear();
        SyncProgress(nextIndex);
    }

    public void ResetVotes() => _votes.Clear();

    public void RecordVote(ulong id, bool granted) => _votes.TryAdd(id, granted);

    public VoteResult TallyVotes() => Config.Tally(id => _votes.TryGetValue(id, out var v) ? v : null);

    /// <summary>Highest index replicated on a quorum of voters.</summary>
    public ulong Committed() => Config.QuorumValue(Progress, static (prs, id) => prs.TryGetValue(id, out var p) ? p.Match : 0);

    /// <summary>Whether a quorum of voters was heard from since the last check (<paramref name="self"/> counts).</summary>
    public bool QuorumActive(ulong self) =>
        Config.Tally(id => id == self || (Progress.TryGetValue(id, out var p) && p.RecentActive)) == VoteResult.Won;

    /// <summary>
    /// Validates and applies a membership change. Returns an error (and changes nothing) when the change is not
    /// allowed from the current configuration.
    /// </summary>
    public string? TryApply(ConfChange cc, ulong nextIndex, bool dryRun = false)
    {
        var cfg = Config.Clone();
        if (cc.IsLeaveJoint)
        {
            if (!cfg.IsJoint)
            {
                return "not in a joint configuration";
            }

            cfg.Learners.UnionWith(cfg.LearnersNext);
            cfg.LearnersNext.Clear();
            cfg.Outgoing.Clear();
            cfg.AutoLeave = false;
        }
        else if (cc.EntersJoint(out var autoLeave))
        {
            if (cfg.IsJoint)
            {
                return "already in a joint configuration";
            }

            cfg.Outgoing.UnionWith(cfg.Incoming);
            ApplyChanges(cfg, cc);
            cfg.AutoLeave = autoLeave;
        }
        else
        {
            if (cfg.IsJoint)
            {
                return "a simple change cannot be applied to a joint configuration";
            }

            var before = new HashSet<ulong>(cfg.Incoming);
            ApplyChanges(cfg, cc);
            before.SymmetricExceptWith(cfg.Incoming);
            if (before.Count > 1)
            {
                return "more than one voter changed without joint consensus";
            }
        }

        if (cfg.Incoming.Count == 0)
        {
            return "removing all voters";
        }

        if (cfg.Learners.Overlaps(cfg.Incoming) || cfg.Learners.Overlaps(cfg.Outgoing) || !cfg.LearnersNext.IsSubsetOf(cfg.Outgoing))
        {
            return "inconsistent learner sets";
        }

        if (!dryRun)
        {
            Config = cfg;
            SyncProgress(nextIndex);
        }

        return null;
    }

    private static void ApplyChanges(MembershipConfig cfg, ConfChange cc)
    {
        foreach (var change in cc.Changes)
        {
            var id = change.NodeId;
            switch (change.Type)
            {
                case ConfChangeType.AddVoter:
                    cfg.Learners.Remove(id);
                    cfg.LearnersNext.Remove(id);
                    cfg.Incoming.Add(id);
                    break;
                case ConfChangeType.AddLearner:
                    if (cfg.Learners.Contains(id))
                    {
                        break;
                    }

                    cfg.Incoming.Remove(id);
                    if (cfg.Outgoing.Contains(id))
                    {
                        cfg.LearnersNext.Add(id); // still votes in the outgoing half until the joint config is left
                    }
                    else
                    {
                        cfg.Learners.Add(id);
                    }

                    break;
                case ConfChangeType.Remove:
                    cfg.Incoming.Remove(id);
                    cfg.Learners.Remove(id);
                    cfg.LearnersNext.Remove(id);
                    break;
            }
        }
    }

    /// <summary>Creates progress for new members, drops it for departed ones, refreshes learner flags.</summary>
    private void SyncProgress(ulong nextIndex)
    {
        var members = new SortedSet<ulong>(Config.Incoming);
        members.UnionWith(Config.Outgoing);
        members.UnionWith(Config.Learners);
        foreach (var id in Progress.Keys.Where(id => !members.Contains(id)).ToList())
        {
            Progress.Remove(id);
        }

        foreach (var id in members)
        {
            if (!Progress.TryGetValue(id, out var pr))
            {
                // Treat newcomers as recently active so check-quorum does not step the leader down at once.
                pr = new Progress(nextIndex, maxInflight, maxInflightBytes, false) { RecentActive = true };
                Progress.Add(id, pr);
            }

            pr.IsLearner = Config.Learners.Contains(id);
        }

        Ids = [.. members];
    }
}
