namespace Strata.Consensus;

/// <summary>
/// One replica of one Raft group, as a pure deterministic state machine (Raft paper; Ongaro's thesis).
/// </summary>
/// <remarks>
/// <para><b>Inputs.</b> <see cref="Tick"/> advances logical time (the host calls it at a fixed interval, and after a
/// process pause delivers the ticks that elapsed before anything else — leases count on it). <see cref="Step"/> feeds
/// a message from another replica. <see cref="Propose"/>, <see cref="ProposeConfChange"/>, <see cref="ReadIndex"/>,
/// <see cref="TransferLeader"/> and <see cref="Campaign"/> are requests from the host.</para>
/// <para><b>Output.</b> When <see cref="HasReady"/>, take a <see cref="Consensus.Ready"/> with <see cref="Ready"/>,
/// handle it exactly as its documentation says (persist, then send, then apply), and call <see cref="Advance"/>.</para>
/// <para><b>Determinism.</b> No threads, clocks, I/O or unseeded randomness: the same configuration, storage contents
/// and sequence of inputs always produce the same outputs. Election timeouts come from
/// <see cref="RaftConfig.RandomSeed"/>.</para>
/// <para><b>Concurrency.</b> Not thread-safe; never call it concurrently. A multi-group host drives each node from
/// one thread at a time.</para>
/// <para><b>Restart.</b> Create a new node over the durable storage with <see cref="RaftConfig.Applied"/> set to
/// the state machine's applied index; committed entries after it are delivered again.</para>
/// </remarks>
public sealed partial class RaftNode
{
    /// <summary>Context of a vote request caused by a leadership transfer: voters grant it even within a lease.</summary>
    public static ReadOnlyMemory<byte> TransferContext { get; } = "transfer"u8.ToArray();

    private readonly RaftConfig _config;
    private readonly RaftLog _log;
    private readonly ProgressTracker _tracker;
    private readonly DeterministicRandom _random;
    private readonly ReadOnlyQueue _readOnly = new();
    private readonly List<(ulong From, ReadOnlyMemory<byte> Context)> _readsAwaitingTermCommit = [];
    private List<Message> _messages = [];
    private List<ReadState> _readStates = [];

    private int _electionElapsed;
    private int _heartbeatElapsed;
    private int _randomizedElectionTimeout;
    private int _ticksSinceLeaderContact; // 0 at start: with leases a restarted replica must not vote for ElectionTick ticks
    private ulong _tick;
    private ulong _leaseFloorTick; // acknowledgments of heartbeats sent before this tick do not count for the lease
    private bool _leaseRevoked;    // a TimeoutNow was sent in this term: no lease until stepping down
    private ulong _uncommittedSize;
    private ulong _pendingConfIndex;

    private HardState _prevHardState;
    private SoftState _prevSoftState;
    private Ready? _outstanding;

    /// <summary>Creates (or restarts) a replica over <see cref="RaftConfig.Storage"/>.</summary>
    public RaftNode(RaftConfig config)
    {
        Validate(config);
        _config = config;
        Id = config.Id;
        _random = new DeterministicRandom(config.RandomSeed ^ (config.Id * 0x9E3779B97F4A7C15UL) ^ config.GroupId);
        _log = new RaftLog(config.Storage);
        _tracker = new ProgressTracker(config.MaxInflightMessages, config.MaxInflightBytes);
        var (hardState, confState) = config.Storage.InitialState();
        _tracker.Restore(confState, _log.LastIndex + 1);
        if (!hardState.IsEmpty)
        {
            if (hardState.Commit < _log.Committed || hardState.Commit > _log.LastIndex)
            {
                throw new InvalidOperationException($"hard state commit {hardState.Commit} outside [{_log.Committed}, {_log.LastIndex}]");
            }

            _log.CommitTo(hardState.Commit);
            Term = hardState.Term;
            Vote = hardState.Vote;
        }

        if (config.Applied > 0)
        {
            _log.AppliedTo(config.Applied);
        }

        BecomeFollower(Term, 0);
        _prevHardState = hardState;
        _prevSoftState = SoftState;
    }

    /// <summary>This replica's id.</summary>
    public ulong Id { get; }

    /// <summary>The group this replica belongs to.</summary>
    public ulong GroupId => _config.GroupId;

    /// <summary>Current term.</summary>
    public ulong Term { get; private set; }

    /// <summary>Replica voted for in <see cref="Term"/> (0 = none).</summary>
    public ulong Vote { get; private set; }

    /// <summary>Known leader of <see cref="Term"/> (0 = unknown): the hint to give a client sent to the wrong replica.</summary>
    public ulong Leader { get; private set; }

    /// <summary>Current role.</summary>
    public StateRole Role { get; private set; }

    /// <summary>Highest index known committed.</summary>
    public ulong Committed => _log.Committed;

    /// <summary>Highest index the host acknowledged as applied.</summary>
    public ulong Applied => _log.Applied;

    /// <summary>Index of the last entry in the log (durable or not).</summary>
    public ulong LastIndex => _log.LastIndex;

    /// <summary>Local tick count since this node was created.</summary>
    public ulong Ticks => _tick;

    /// <summary>Target of an ongoing leadership transfer (0 = none).</summary>
    public ulong LeadTransferee { get; private set; }

    /// <summary>Current membership (changes when a conf change entry is applied in <see cref="Advance"/>).</summary>
    public ConfState ConfState => _tracker.Config.ToConfState();

    /// <summary>On the leader: a membership change is proposed and not yet applied (another one would be refused).</summary>
    public bool HasPendingConfChange => Role == StateRole.Leader && _pendingConfIndex > _log.Applied;

    /// <summary>Leader and role.</summary>
    public SoftState SoftState => new(Leader, Role);

    /// <summary>Hard state as it will be persisted.</summary>
    public HardState HardState => new(Term, Vote, _log.Committed);

    /// <summary>Term of the entry at <paramref name="index"/> if the log still has it (diagnostics and tests).</summary>
    public ulong? TermAt(ulong index) => _log.TryTerm(index, out var term) ? term : null;

    /// <summary>Leader only: the replication progress of <paramref name="id"/>, or null.</summary>
    public Progress? ProgressOf(ulong id) =>
        Role == StateRole.Leader && _tracker.Progress.TryGetValue(id, out var p) ? p : null;

    /// <summary>Whether the host has stopped ticking this node (see <see cref="Quiesce"/>).</summary>
    public bool IsQuiesced { get; private set; }

    /// <summary>Advances logical time by one tick.</summary>
    public void Tick()
    {
        IsQuiesced = false;
        _tick++;
        if (Role == StateRole.Leader)
        {
            _ticksSinceLeaderContact = 0;
            TickHeartbeat();
        }
        else
        {
            if (_ticksSinceLeaderContact < int.MaxValue)
            {
                _ticksSinceLeaderContact++;
            }

            TickElection();
        }
    }

    /// <summary>Feeds a message received from another replica of this group (any term; stale ones are ignored).</summary>
    public void Step(Message message)
    {
        IsQuiesced = false;
        StepMessage(message);
    }

    /// <summary>Proposes a command. On a follower it is forwarded to the leader unless forwarding is disabled.</summary>
    /// <remarks>Appended does not mean committed: the host learns the outcome when the entry is applied (match it by
    /// an id inside the command), or never, if leadership changes first.</remarks>
    public ProposalOutcome Propose(ReadOnlyMemory<byte> data)
    {
        IsQuiesced = false;
        return ProposeEntries([new Entry(0, 0, EntryType.Normal, data)]);
    }

    /// <summary>Proposes a membership change (forwarded like <see cref="Propose"/> on a follower).</summary>
    public ProposalOutcome ProposeConfChange(ConfChange change)
    {
        IsQuiesced = false;
        return ProposeEntries([new Entry(0, 0, EntryType.ConfChange, change.Encode())]);
    }

    /// <summary>Starts an election now (a host's explicit request; with pre-vote it starts with a pre-vote).</summary>
    public void Campaign()
    {
        IsQuiesced = false;
        Hup(transfer: false);
    }

    /// <summary>The host could not deliver a message to <paramref name="id"/>: stop pipelining to it.</summary>
    public void ReportUnreachable(ulong id)
    {
        if (Role == StateRole.Leader && _tracker.Progress.TryGetValue(id, out var pr) && pr.State == ProgressState.Replicate)
        {
            pr.BecomeProbe();
        }
    }

    /// <summary>The host reports how sending a snapshot to <paramref name="id"/> went.</summary>
    public void ReportSnapshot(ulong id, SnapshotStatus status)
    {
        if (Role != StateRole.Leader || !_tracker.Progress.TryGetValue(id, out var pr) || pr.State != ProgressState.Snapshot)
        {
            return;
        }

        if (status == SnapshotStatus.Failed)
        {
            pr.PendingSnapshot = 0;
        }

        pr.BecomeProbe();
        pr.ProbeSent = true; // wait for a heartbeat response before probing again
    }

    /// <summary>
    /// Whether the group is idle: nothing to persist, send or apply, every member caught up (leader) or the leader
    /// known and everything applied (follower). A host may then stop ticking it (<see cref="Quiesce"/>).
    /// </summary>
    public bool IsIdle
    {
        get
        {
            if (_outstanding is not null || HasReady || _log.Applied != _log.Committed || _log.Committed != _log.LastIndex)
            {
                return false;
            }

            if (Role == StateRole.Follower)
            {
                return Leader != 0;
            }

            if (Role != StateRole.Leader || LeadTransferee != 0 || _readOnly.Count > 0 || _readsAwaitingTermCommit.Count > 0
                || (_tracker.Config.IsJoint && _tracker.Config.AutoLeave))
            {
                return false;
            }

            foreach (var pr in _tracker.Progress.Values)
            {
                if (pr.Match != _log.LastIndex)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>
    /// On a leader: whether every other member has reported knowing the commit index (<see cref="Progress.KnownCommit"/>),
    /// apart from those <paramref name="unreachable"/> says cannot be reached now. A member can hold every entry and
    /// still not know the last ones are committed — the message telling it was lost — and a quiesced leader sends
    /// nothing more: a follower would campaign to find out, a learner never would, and would never apply them. So a host
    /// quiesces a leader only when this holds too; a member left out here learns the commit when its node is heard
    /// again and the host wakes the group. True on a replica that is not the leader.
    /// </summary>
    public bool MembersKnowCommit(Func<ulong, bool> unreachable)
    {
        ArgumentNullException.ThrowIfNull(unreachable);
        if (Role != StateRole.Leader)
        {
            return true;
        }

        foreach (var (id, pr) in _tracker.Progress)
        {
            if (id != Id && pr.KnownCommit < _log.Committed && !unreachable(id))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Marks the node quiesced when <see cref="IsIdle"/>: the host stops calling <see cref="Tick"/> until the next
    /// <see cref="Step"/>, <see cref="Propose"/>, <see cref="ReadIndex"/> or <see cref="Tick"/>, each of which wakes it.
    /// A quiesced leader gives up its lease (time is not counted while not ticking). The host must wake followers if
    /// the leader's node fails (e.g. from its failure detector), since quiesced followers do not time out.
    /// </summary>
    /// <returns>Whether the node is now quiesced.</returns>
    public bool Quiesce()
    {
        if (!IsIdle)
        {
            return false;
        }

        IsQuiesced = true;
        _leaseFloorTick = _tick + 1;
        return true;
    }

    private static void Validate(RaftConfig c)
    {
        if (c.Id == 0)
        {
            throw new ArgumentException("id must not be 0", nameof(c));
        }

        if (c.HeartbeatTick <= 0 || c.ElectionTick <= c.HeartbeatTick)
        {
            throw new ArgumentException("need 0 < HeartbeatTick < ElectionTick", nameof(c));
        }

        if (c.LeaseDriftMarginTicks < 1 || c.LeaseDriftMarginTicks >= c.ElectionTick)
        {
            throw new ArgumentException("need 1 <= LeaseDriftMarginTicks < ElectionTick", nameof(c));
        }

        if (c.ReadOnlyOption == ReadOnlyOption.LeaseBased && !c.CheckQuorum)
        {
            throw new ArgumentException("lease-based reads require CheckQuorum", nameof(c));
        }

        if (c.MaxInflightMessages <= 0)
        {
            throw new ArgumentException("MaxInflightMessages must be positive", nameof(c));
        }
    }

    private void Send(Message m)
    {
        var term = m.Term;
        if (term == 0 && m.Type is not (MessageType.Propose or MessageType.ReadIndex or MessageType.TransferLeader))
        {
            term = Term;
        }

        // Hot paths build messages already addressed; only copy when something is missing.
        _messages.Add(m.From == Id && m.GroupId == _config.GroupId && m.Term == term
            ? m
            : m with { From = Id, GroupId = _config.GroupId, Term = term });
    }
}
