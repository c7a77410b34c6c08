using Strata.Consensus;
using Strata.Storage;

namespace Strata.Replication;

/// <summary>
/// The replication host of one node ("the store"): runs this node's replica of every group over one engine, one
/// <see cref="RaftLogWriter"/> (group commit) and one <see cref="ITransport"/>, and drives them all with <see cref="Step"/>.
/// </summary>
/// <remarks>
/// <para><b>One step</b> (<see cref="Step"/>), in this order:</para>
/// <list type="number">
/// <item>deliver every frame received since the last step to its groups (waking quiesced ones);</item>
/// <item>tick every awake (non-quiesced) group — quiesced groups cost nothing;</item>
/// <item>collect the <see cref="Ready"/> of every group that has one and persist all of them in one batch with one
/// fsync;</item>
/// <item>only then send their messages: one frame per destination node, heartbeats coalesced (see
/// <see cref="NodeMessageBatchCodec"/>), plus a liveness beat to peers that got nothing for a while;</item>
/// <item>apply committed entries (and snapshots) to the <see cref="IReplicatedStateMachine"/>, then
/// <see cref="RaftNode.Advance"/>; stage log compaction where due (written with the next step's batch);</item>
/// <item>quiesce the groups that are idle (see <see cref="StoreOptions.MinAwakeTicks"/> and the liveness rules).</item>
/// </list>
/// <para><b>Replica ids are node ids:</b> the replica of any group on node n has id n, so a message's
/// <see cref="Message.To"/> is its destination node.</para>
/// <para><b>Failure:</b> a failed fsync (<see cref="StorageFailureException"/>) stops the store: <see cref="Step"/>
/// rethrows it and every later call throws <see cref="InvalidOperationException"/>; nothing of that step is sent or
/// applied. The process must restart and reopen the store over the recovered engine.</para>
/// <para><b>Concurrency:</b> not thread-safe. One thread drives the store (steps, proposals, group creation).</para>
/// </remarks>
public sealed partial class Store : IDisposable
{
    private readonly IKvEngine _engine;
    private readonly ITransport _transport;
    private readonly IReplicatedStateMachine _stateMachine;
    private readonly RaftLogWriter _writer;
    private readonly Dictionary<ulong, Replica> _replicas = [];
    private readonly List<Replica> _awake = [];
    private readonly List<Replica> _cycle = [];
    private ulong _tick;
    private bool _stopped;

    /// <summary>
    /// Opens the store of node <see cref="StoreOptions.NodeId"/> over <paramref name="engine"/>, recovering every group
    /// whose log is in it (see <see cref="DurableRaftLog.Open"/>). Recovered groups start awake, as followers.
    /// </summary>
    /// <exception cref="CorruptionException">A group's log is damaged beyond a torn tail.</exception>
    public Store(StoreOptions options, IKvEngine engine, ITransport transport, IReplicatedStateMachine stateMachine)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _engine = engine ?? throw new ArgumentNullException(nameof(engine));
        _transport = transport ?? throw new ArgumentNullException(nameof(transport));
        _stateMachine = stateMachine ?? throw new ArgumentNullException(nameof(stateMachine));
        if (transport.LocalNode != options.NodeId)
        {
            throw new ArgumentException($"transport of node {transport.LocalNode} given to the store of node {options.NodeId}");
        }

        _ = CrashPoints.ArmedPoint; // a malformed STRATA_CRASH_POINT fails here, when the node opens
        _writer = new RaftLogWriter(engine, options.Time);
        foreach (var peer in options.Peers)
        {
            PeerOf(peer);
        }

        foreach (var group in DurableRaftLog.ListGroups(engine))
        {
            var log = DurableRaftLog.Open(engine, group, options.MaxCachedEntriesPerGroup);
            RepairedTornTails += log.Recovery.TornEntriesDropped;
            OpenReplica(log).RestartedFromLog = true;
        }
    }

    /// <summary>The store's parameters.</summary>
    public StoreOptions Options { get; }

    /// <summary>This node.</summary>
    public ulong NodeId => Options.NodeId;

    /// <summary>Ticks delivered so far (the store's logical clock).</summary>
    public ulong Ticks => _tick;

    /// <summary>True once a write failed: the store must be discarded.</summary>
    public bool IsStopped => _stopped;

    /// <summary>Every replica hosted here.</summary>
    public IReadOnlyCollection<Replica> Replicas => _replicas.Values;

    /// <summary>Number of groups not quiesced (ticked every step).</summary>
    public int AwakeCount => _awake.Count;

    /// <summary>Torn-tail entries recovery removed when the store opened.</summary>
    public int RepairedTornTails { get; }

    /// <summary>The node's log writer (flush counts, failure state).</summary>
    public RaftLogWriter Writer => _writer;

    /// <summary>The replica of <paramref name="groupId"/>, or null when this node hosts none.</summary>
    public Replica? Find(ulong groupId) => _replicas.GetValueOrDefault(groupId);

    /// <summary>
    /// Creates this node's replicas of <paramref name="groups"/> in one synced write: founding members (with their
    /// initial membership) or empty replicas that will receive a snapshot from the group's leader (members null).
    /// </summary>
    /// <exception cref="InvalidOperationException">A group already exists here, or the store stopped.</exception>
    public IReadOnlyList<Replica> CreateGroups(IEnumerable<(ulong GroupId, ConfState? Members)> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        EnsureRunning();
        var logs = new List<DurableRaftLog>();
        var ids = new HashSet<ulong>();
        foreach (var (groupId, members) in groups)
        {
            if (_replicas.ContainsKey(groupId) || !ids.Add(groupId))
            {
                throw new InvalidOperationException($"group {groupId} already exists on node {NodeId}");
            }

            logs.Add(DurableRaftLog.Create(_writer, groupId, members, Options.MaxCachedEntriesPerGroup));
        }

        FlushOrStop();
        return logs.ConvertAll(OpenReplica);
    }

    /// <summary>Creates one group (see <see cref="CreateGroups"/>).</summary>
    public Replica CreateGroup(ulong groupId, ConfState? members) => CreateGroups([(groupId, members)])[0];

    /// <summary>
    /// Removes this node's replica of <paramref name="groupId"/>: its log and (through
    /// <see cref="IReplicatedStateMachine.Destroy"/>) its state go in one synced write, and the group is forgotten
    /// (messages for it become unroutable). For a replica the group no longer counts as a member: the caller must know
    /// the group's committed membership excludes this node (Strata.Cluster learns it from the meta shard), or the
    /// group loses a voter's data. Returns false when no such replica is hosted here.
    /// </summary>
    public bool DestroyGroup(ulong groupId)
    {
        EnsureRunning();
        if (!_replicas.Remove(groupId, out var replica))
        {
            return false;
        }

        if (replica.AwakeSlot >= 0)
        {
            RemoveAwake(replica);
        }

        _writer.StageDestroy(replica.Log, batch => _stateMachine.Destroy(groupId, batch));
        FlushOrStop();
        DestroyedGroups++;
        return true;
    }

    /// <summary>Replicas removed with <see cref="DestroyGroup"/> since the store opened.</summary>
    public long DestroyedGroups { get; private set; }

    /// <summary>Proposes <paramref name="command"/> to <paramref name="groupId"/> (waking it); on a follower it is
    /// forwarded to the leader. The outcome is known when the entry is applied.</summary>
    public ProposalOutcome Propose(ulong groupId, ReadOnlyMemory<byte> command)
    {
        var replica = Get(groupId);
        var outcome = replica.Raft.Propose(command);
        Wake(replica);
        return outcome;
    }

    /// <summary>Proposes a membership change to <paramref name="groupId"/>.</summary>
    public ProposalOutcome ProposeConfChange(ulong groupId, ConfChange change)
    {
        var replica = Get(groupId);
        var outcome = replica.Raft.ProposeConfChange(change);
        Wake(replica);
        return outcome;
    }

    /// <summary>
    /// Keeps <paramref name="groupId"/> awake for at least <see cref="StoreOptions.MinAwakeTicks"/> more ticks (waking it
    /// if quiesced): a host serving lease reads calls this so the lease keeps being renewed by heartbeats.
    /// </summary>
    public void KeepAwake(ulong groupId)
    {
        var replica = Get(groupId);
        if (replica.AwakeSlot < 0)
        {
            Wake(replica);
        }
        else
        {
            replica.WokenAtTick = _tick;
        }
    }

    /// <summary>Asks <paramref name="groupId"/>'s leader (through this replica) to hand leadership to <paramref name="target"/>.</summary>
    public ProposalOutcome TransferLeader(ulong groupId, ulong target)
    {
        var replica = Get(groupId);
        var outcome = replica.Raft.TransferLeader(target);
        Wake(replica);
        return outcome;
    }

    /// <summary>Makes this node's replica of <paramref name="groupId"/> campaign now.</summary>
    public void Campaign(ulong groupId)
    {
        var replica = Get(groupId);
        replica.Raft.Campaign();
        Wake(replica);
    }

    /// <inheritdoc/>
    public void Dispose() => _writer.Dispose();

    private Replica Get(ulong groupId)
    {
        EnsureRunning();
        return _replicas.TryGetValue(groupId, out var replica)
            ? replica
            : throw new KeyNotFoundException($"node {NodeId} hosts no replica of group {groupId}");
    }

    private Replica OpenReplica(DurableRaftLog log)
    {
        var group = log.GroupId;
        var applied = _stateMachine.AppliedIndex(group);
        var snapshotIndex = log.SnapshotMetadata.Index;
        if (applied < snapshotIndex)
        {
            // The state machine is behind the log's snapshot (e.g. it is in memory): start from the snapshot.
            _stateMachine.Restore(group, log.Snapshot());
            applied = snapshotIndex;
        }

        // A state machine only applies committed entries, so what it applied is committed even when the durable commit
        // index is older (batches that only move the commit index are not fsynced; see RaftLogWriter): the core learns
        // the commit again from its group, and the entries up to `applied` are not handed to the state machine twice.
        // Beyond the durable log, though, the state machine holds entries this node's log lost: that is corruption.
        if (applied > log.LastIndex)
        {
            throw new CorruptionException(
                $"group {group}: the state machine applied {applied}, beyond the last durable log entry {log.LastIndex}");
        }

        // The log keeps the membership as of its snapshot only, so the core starts at the snapshot index and re-applies
        // the membership changes after it; the entries the state machine already has are not handed to it again.
        var raft = new RaftNode(new RaftConfig
        {
            Id = NodeId,
            GroupId = group,
            Storage = log,
            Applied = snapshotIndex,
            ElectionTick = Options.ElectionTick,
            HeartbeatTick = Options.HeartbeatTick,
            RandomSeed = Options.RandomSeed ^ (group * 0xD6E8FEB86659FD93UL),
            ReadOnlyOption = Options.ReadOnlyOption,
            MaxSizePerMessage = Options.MaxSizePerMessage,
        });
        var replica = new Replica(group, raft, log) { AppliedByStateMachine = applied };
        _replicas.Add(group, replica);
        Wake(replica);
        return replica;
    }

    private void Wake(Replica replica)
    {
        if (replica.AwakeSlot < 0)
        {
            replica.AwakeSlot = _awake.Count;
            replica.WokenAtTick = _tick;
            replica.AwakeSinceTick = _tick;
            _awake.Add(replica);
        }
    }

    private void RemoveAwake(Replica replica)
    {
        var slot = replica.AwakeSlot;
        var last = _awake[^1];
        _awake[slot] = last;
        last.AwakeSlot = slot;
        _awake.RemoveAt(_awake.Count - 1);
        replica.AwakeSlot = -1;
    }

    private void EnsureRunning()
    {
        if (_stopped)
        {
            throw new InvalidOperationException($"the store of node {NodeId} stopped after a failed write; restart the node");
        }
    }

    private void FlushOrStop()
    {
        try
        {
            _writer.Flush();
        }
        catch
        {
            _stopped = true;
            throw;
        }
    }
}
