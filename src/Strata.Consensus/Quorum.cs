namespace Strata.Consensus;

/// <summary>Outcome of counting votes (or acknowledgments) against a configuration.</summary>
internal enum VoteResult : byte
{
    Pending,
    Lost,
    Won,
}

/// <summary>
/// The voting configuration of a group: a majority configuration, or two of them while joint (a decision then
/// needs a majority of each, §6 of Ongaro's thesis / joint consensus of the Raft paper §6).
/// </summary>
internal sealed class MembershipConfig
{
    public HashSet<ulong> Incoming { get; init; } = [];

    public HashSet<ulong> Outgoing { get; init; } = [];

    public HashSet<ulong> Learners { get; init; } = [];

    public HashSet<ulong> LearnersNext { get; init; } = [];

    public bool AutoLeave { get; set; }

    public bool IsJoint => Outgoing.Count > 0;

    public bool IsVoter(ulong id) => Incoming.Contains(id) || Outgoing.Contains(id);

    public MembershipConfig Clone() => new()
    {
        Incoming = [.. Incoming],
        Outgoing = [.. Outgoing],
        Learners = [.. Learners],
        LearnersNext = [.. LearnersNext],
        AutoLeave = AutoLeave,
    };

    public static MembershipConfig From(ConfState cs) => new()
    {
        Incoming = [.. cs.Voters],
        Outgoing = [.. cs.VotersOutgoing],
        Learners = [.. cs.Learners],
        LearnersNext = [.. cs.LearnersNext],
        AutoLeave = cs.AutoLeave,
    };

    public ConfState ToConfState() => new()
    {
        Voters = [.. Incoming.Order()],
        VotersOutgoing = [.. Outgoing.Order()],
        Learners = [.. Learners.Order()],
        LearnersNext = [.. LearnersNext.Order()],
        AutoLeave = AutoLeave,
    };

    /// <summary>The largest value a quorum has reached: for each majority the value at its median, the minimum of both if joint.</summary>
    public ulong QuorumValue<TState>(TState state, Func<TState, ulong, ulong> valueOf)
    {
        var incoming = MajorityValue(Incoming, state, valueOf);
        var outgoing = MajorityValue(Outgoing, state, valueOf);
        return Math.Min(incoming, outgoing);
    }

    public VoteResult Tally(Func<ulong, bool?> voteOf)
    {
        var a = MajorityTally(Incoming, voteOf);
        var b = MajorityTally(Outgoing, voteOf);
        if (a == VoteResult.Lost || b == VoteResult.Lost)
        {
            return VoteResult.Lost;
        }

        return a == VoteResult.Won && b == VoteResult.Won ? VoteResult.Won : VoteResult.Pending;
    }

    private static ulong MajorityValue<TState>(HashSet<ulong> voters, TState state, Func<TState, ulong, ulong> valueOf)
    {
        if (voters.Count == 0)
        {
            return ulong.MaxValue; // an empty configuration agrees to anything (so joint reduces to the other half)
        }

        Span<ulong> values = voters.Count <= 16 ? stackalloc ulong[voters.Count] : new ulong[voters.Count];
        var n = 0;
        foreach (var id in voters)
        {
            values[n++] = valueOf(state, id);
        }

        values.Sort();
        // With n voters a quorum is n/2+1; the value reached by at least that many is at position n - (n/2+1).
        return values[n - ((n / 2) + 1)];
    }

    private static VoteResult MajorityTally(HashSet<ulong> voters, Func<ulong, bool?> voteOf)
    {
        if (voters.Count == 0)
        {
            return VoteResult.Won;
        }

        int granted = 0, missing = 0;
        foreach (var id in voters)
        {
            switch (voteOf(id))
            {
                case true: granted++; break;
                case null: missing++; break;
            }
        }

        var quorum = (voters.Count / 2) + 1;
        return granted >= quorum ? VoteResult.Won : granted + missing >= quorum ? VoteResult.Pending : VoteResult.Lost;
    }
}
