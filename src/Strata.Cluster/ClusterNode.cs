using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using Strata.Cluster.Meta;
using Strata.Consensus;
using Strata.Namespace;
using Strata.Namespace.Commands;
using Strata.Replication;
using Strata.Storage;

namespace Strata.Cluster;

/// <summary>
/// One node of a Strata cluster: this node's replicas of the meta shard and of the namespace shards, hosted by one
/// <see cref="Store"/> over one engine and one transport, driven by one loop thread. Serves proposals and
/// linearizable reads to the API layer.
/// </summary>
/// <remarks>
/// <para><b>Writes.</b> <see cref="ProposeAsync"/> stamps the command (HLC timestamp, id seed), wraps it in a
/// <see cref="ProposalEnvelope"/> naming this node and a proposal id, and hands it to the loop, which proposes it
/// (a follower forwards it to the leader). The loop completes the caller when this node applies the entry: by then
/// it is durable on a majority. Applying does not fsync: the Raft log is the durable record, the applied index is
/// in the same batch as the changes, and after a crash the store re-applies the log from that index. (A log
/// compaction is a synced write, and RocksDB's single write-ahead log makes every earlier write durable with it.)</para>
/// <para><b>Reads.</b> <c>ReadAsync</c> serves from the local replica's applied state when this node's
/// replica leads with a valid lease (no consensus round; see <see cref="LeaseView"/>), and otherwise through
/// ReadIndex: the leader confirms its leadership with a heartbeat quorum, this replica (leader or follower) waits
/// until it has applied that index, and the query runs on a snapshot taken then.</para>
/// <para><b>Failure.</b> A failed write (fsync) stops the store; every pending and later call fails with
/// <see cref="StorageFailureException"/>, and <see cref="Failure"/> says why. The process must restart.</para>
/// <para><b>Threads.</b> Public members are thread-safe. The loop alone touches the store.</para>
/// </remarks>
public sealed partial class ClusterNode : IAsyncDisposable, IProposalResults
{
    private readonly IKvEngine _engine;
    private readonly bool _ownsEngine;
    private readonly TimeProvider _time;
    private readonly Store _store;
    private readonly ReplicatedShards _shards;
    private readonly ConcurrentDictionary<ulong, ShardHandle> _handles = new();
    private readonly ConcurrentQueue<LoopWork> _inbox = new();
    private readonly AutoResetEvent _signal = new(false);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _loop;
    private readonly TaskCompletionSource _loopExited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ITransport _transport;
    private readonly ulong[] _memberIds; // the founding members, by id
    private ulong[] _peerIds;            // the other live nodes (the founding members until the map says otherwise)
    private ulong _nextProposalId;
    private Exception? _failure;

    private ClusterNode(ClusterNodeOptions options, IKvEngine engine, bool ownsEngine, ITransport transport, TimeProvider time)
    {
        options.Validate();
        if (time.TimestampFrequency != Stopwatch.Frequency)
        {
            throw new ArgumentException("the node's clock must count in Stopwatch ticks (its TimestampFrequency)", nameof(time));
        }

        CheckIdentity(engine, options);
        Options = options;
        _engine = engine;
        _ownsEngine = ownsEngine;
        _time = time;
        Clock = new HybridClock(time);
        _shards = new ReplicatedShards(engine, options.NodeId, this, CommitKnown);
        _transport = transport;
        _memberIds = [.. options.Members.Select(n => n.Id).Order()];
        _peerIds = [.. _memberIds.Where(id => id != options.NodeId)];
        _store = new Store(new StoreOptions
        {
            NodeId = options.NodeId,
            Peers = _peerIds,
            ElectionTick = options.ElectionTicks,
            HeartbeatTick = 1,
            RandomSeed = options.RandomSeed ^ (options.NodeId * 0x9E3779B97F4A7C15UL),
            ReadOnlyOption = ReadOnlyOption.Safe, // leases are served by this host on wall-clock deadlines
            CompactionThreshold = options.CompactionThreshold,
            PeerTimeoutTicks = options.ElectionTicks,
        }, engine, transport, _shards);
        FoundedNow = _store.Replicas.Count == 0;
        if (FoundedNow)
        {
            Found();
        }

        foreach (Replica replica in _store.Replicas)
        {
            _handles[replica.GroupId] = new ShardHandle(replica.GroupId,
                replica.GroupId == MetaShard.Id ? null : _shards.Namespace(replica.GroupId));
        }

        foreach (ShardHandle handle in _handles.Values)
        {
            if (handle.Namespace is { } shard)
            {
                Clock.Observe(shard.LastTimestamp);
            }
        }

        _loop = new Thread(RunLoop) { IsBackground = true, Name = $"strata-node-{options.NodeId}" };
        _metrics = new ClusterMetrics(this);
    }

    private readonly ClusterMetrics _metrics;
    private int _disposed;

    /// <summary>Committed entries each hosted shard has not applied yet (as of the loop's last step).</summary>
    public IReadOnlyList<(ulong ShardId, ulong Lag)> ApplyLag() =>
        [.. _handles.Values.OrderBy(h => h.ShardId).Select(h => (h.ShardId, h.Committed > h.Applied ? h.Committed - h.Applied : 0))];

    /// <summary>
    /// Opens the node over <paramref name="engine"/> and starts its loop. On an empty engine the node founds its
    /// replicas from <see cref="ClusterNodeOptions.Members"/>; otherwise it recovers them from the log.
    /// Wire the transport's frame-arrived notification to <see cref="Wake"/>. <paramref name="time"/> is the node's
    /// clock (default the system's): Raft ticks, leader leases and the hybrid logical clock read it — the clock-skew
    /// fault hook replaces it; its timestamps must count in <see cref="Stopwatch"/> ticks.
    /// </summary>
    public static ClusterNode Start(ClusterNodeOptions options, IKvEngine engine, ITransport transport,
        bool ownsEngine = false, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(transport);
        var node = new ClusterNode(options, engine, ownsEngine, transport, time ?? TimeProvider.System);
        node._loop.Start();
        return node;
    }

    /// <summary>The settings the node runs with.</summary>
    public ClusterNodeOptions Options { get; }

    /// <summary>This node.</summary>
    public ulong NodeId => Options.NodeId;

    /// <summary>True when this start founded the node's replicas (empty data directory).</summary>
    public bool FoundedNow { get; }

    /// <summary>The node's hybrid logical clock (command timestamps).</summary>
    public HybridClock Clock { get; }

    /// <summary>The shard map as this node's meta replica has applied it.</summary>
    public ShardMap Map => _shards.Meta.Map;

    /// <summary>The failure that stopped the node, or null while it is healthy.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>Completes when the loop has exited (after a failure or on dispose).</summary>
    public Task Stopped => _loopExited.Task;

    /// <summary>The shards this node hosts a replica of (the meta shard included).</summary>
    public IReadOnlyCollection<ulong> HostedShards => [.. _handles.Keys.Order()];

    /// <summary>Reads served from the leader's lease, without a consensus round.</summary>
    public long LeaseReads => Interlocked.Read(ref _leaseReads);

    /// <summary>Reads served through ReadIndex (a heartbeat quorum round).</summary>
    public long ReadIndexReads => Interlocked.Read(ref _readIndexReads);

    private long _leaseReads;
    private long _readIndexReads;

    /// <summary>Wakes the loop (the transport calls this when a frame arrives).</summary>
    public void Wake() => _signal.Set();

    /// <summary>
    /// Proposes <paramref name="command"/> to <paramref name="shardId"/> and returns its result once applied here.
    /// The command's body and, for client mutations, (client id, sequence) are the caller's; the timestamp and id
    /// seed are assigned here.
    /// </summary>
    /// <exception cref="NotLeaderException">This node hosts no replica of the shard.</exception>
    /// <exception cref="ShardUnavailableException">The shard has no leader right now.</exception>
    /// <exception cref="OutcomeUnknownException">Leadership changed or the wait timed out; retry with the same id.</exception>
    public Task<CommandResult> ProposeAsync(ulong shardId, Command command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        Handle(shardId, forNamespace: true);
        command.Timestamp = Clock.Now();
        command.IdSeed = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        return Propose<CommandResult>(shardId, ProposalKind.Namespace, command, cancellationToken);
    }

    /// <summary>Proposes a command to the meta shard (bootstrap, membership, shard map changes).</summary>
    internal Task<MetaResult> ProposeMetaAsync(MetaCommand command, CancellationToken cancellationToken = default)
    {
        Handle(MetaShard.Id, forNamespace: false);
        return Propose<MetaResult>(MetaShard.Id, ProposalKind.Meta, command, cancellationToken);
    }

    /// <summary>The MVCC version of the last command the local replica of <paramref name="shardId"/> applied.</summary>
    public ulong AppliedTimestamp(ulong shardId) => Handle(shardId, forNamespace: true).Namespace!.LastTimestamp;

    /// <summary>Waits until the meta shard has applied the bootstrap and every hosted shard knows a leader.</summary>
    public async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Failure is { } failure)
            {
                throw new StorageFailureException("the node stopped", failure);
            }

            if (Map.IsBootstrapped && _handles.Values.All(h => h.Leader != 0))
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Peers this node has not heard from recently (as of the loop's last step).</summary>
    public IReadOnlyCollection<ulong> SuspectedPeers => Volatile.Read(ref _suspectedPeers);

    private ulong[] _suspectedPeers = [];

    /// <summary>The leader of <paramref name="shardId"/> as this node last saw it (0 = unknown or not hosted).</summary>
    public ulong LeaderOf(ulong shardId) => _handles.TryGetValue(shardId, out ShardHandle? h) ? h.Leader : 0;

    void IProposalResults.Applied(ulong proposalId, object result)
    {
        if (_pendingProposals.Remove(proposalId, out PendingProposal? pending))
        {
            pending.Complete(result);
            _metrics.CommitLatency.Record(Stopwatch.GetElapsedTime(pending.Created).TotalMilliseconds, _metrics.NodeTag);
        }
    }

    /// <summary>The loop is about to send messages that may tell other replicas of <paramref name="shardId"/> that
    /// entries up to <paramref name="committed"/> are committed (see <see cref="ShardHandle.CommitFloor"/>).</summary>
    private void CommitKnown(ulong shardId, ulong committed)
    {
        if (_handles.TryGetValue(shardId, out ShardHandle? handle))
        {
            handle.RaiseCommitFloor(committed);
        }
    }

    private Task<T> Propose<T>(ulong shardId, ProposalKind kind, Google.Protobuf.IMessage command, CancellationToken cancellationToken)
    {
        if (Failure is { } failure)
        {
            return Task.FromException<T>(new StorageFailureException("the node stopped after a storage failure", failure));
        }

        ulong id = Interlocked.Increment(ref _nextProposalId);
        _metrics.Proposals.Add(1, _metrics.NodeTag);
        var pending = new PendingProposal<T>(shardId, id, ProposalEnvelope.Encode(kind, NodeId, id, command));
        Post(pending);
        // Cancellation abandons the wait, not the proposal: once handed to Raft it may still apply (exactly once).
        return pending.Completion.Task.WaitAsync(cancellationToken);
    }

    private ShardHandle Handle(ulong shardId, bool forNamespace)
    {
        if (forNamespace && shardId == MetaShard.Id)
        {
            throw new ArgumentException("shard 0 is the meta shard", nameof(shardId));
        }

        if (_handles.TryGetValue(shardId, out ShardHandle? handle))
        {
            return handle;
        }

        RangeDescriptor? descriptor = Map.FindShard(shardId);
        if (descriptor is null && shardId != MetaShard.Id)
        {
            throw new ShardUnavailableException(shardId, $"shard {shardId} is not in this node's shard map");
        }

        ulong hint = descriptor?.Replicas.FirstOrDefault() ?? 0;
        throw new NotLeaderException(shardId, hint, $"node {NodeId} hosts no replica of shard {shardId}; try node {hint}");
    }

    private void Post(LoopWork work)
    {
        if (_stopping.IsCancellationRequested || Failure is not null)
        {
            work.Fail(Failure is { } failure
                ? new StorageFailureException("the node stopped after a storage failure", failure)
                : new ObjectDisposedException(nameof(ClusterNode)));
            return;
        }

        _inbox.Enqueue(work);
        _signal.Set();
    }

    private static readonly byte[] IdentityKey = "node-identity"u8.ToArray();

    /// <summary>
    /// The node id recorded in <paramref name="engine"/> by the node that first started over it (null for an empty
    /// data directory). A joined node learns its id from the cluster, so its restarts read it from here.
    /// </summary>
    public static ulong? RecordedNodeId(IKvEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        byte[]? stored = engine.Get(KvColumn.Local, IdentityKey);
        return stored is null ? null : BinaryPrimitives.ReadUInt64LittleEndian(RecordCodec.Open(IdentityKey, stored));
    }

    /// <summary>Refuses a data directory of another node; records this node's id in a new one (synced).</summary>
    private static void CheckIdentity(IKvEngine engine, ClusterNodeOptions options)
    {
        if (RecordedNodeId(engine) is { } recorded)
        {
            if (recorded != options.NodeId)
            {
                throw new ArgumentException($"the data directory belongs to node {recorded}, not node {options.NodeId}");
            }

            return;
        }

        var id = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(id, options.NodeId);
        using IKvWriteBatch batch = engine.CreateBatch();
        batch.Put(KvColumn.Local, IdentityKey, RecordCodec.Seal(IdentityKey, id));
        engine.Write(batch, sync: true);
    }

    /// <summary>Creates this node's founding replicas: the meta shard and the namespace shards it is a replica of.</summary>
    private void Found()
    {
        if (Options.Joining)
        {
            // Filled by the meta shard's leader (snapshot and log) once this node is added as a learner.
            _store.CreateGroup(MetaShard.Id, members: null);
            return;
        }

        // Every founding node hosts the meta shard: the first five as voters, the others as learners (they need the map).
        var groups = new List<(ulong, ConfState?)>();
        IReadOnlyList<ulong> meta = ShardMap.MetaReplicas(_memberIds);
        groups.Add((MetaShard.Id, new ConfState { Voters = [.. meta], Learners = [.. _memberIds.Except(meta)] }));

        foreach (RangeDescriptor shard in InitialLayout())
        {
            if (shard.Replicas.Contains(NodeId))
            {
                groups.Add((shard.ShardId, new ConfState { Voters = [.. shard.Replicas] }));
            }
        }

        _store.CreateGroups(groups);
    }

    private IReadOnlyList<RangeDescriptor> InitialLayout() =>
        ShardMap.InitialLayout(Options.InitialShards, _memberIds, Options.ReplicationFactor);

    /// <summary>Stops the loop (pending calls fail with <see cref="ObjectDisposedException"/>) and closes the store.
    /// Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _signal.Set();

        if (_loop.IsAlive || _loop.ThreadState != System.Threading.ThreadState.Unstarted)
        {
            await _loopExited.Task.ConfigureAwait(false);
        }

        _store.Dispose();
        if (_ownsEngine)
        {
            _engine.Dispose();
        }

        _signal.Dispose();
        _stopping.Dispose();
        _metrics.Dispose();
    }

    /// <summary>This node's view of one hosted shard, shared between the loop (writer) and request threads.</summary>
    internal sealed class ShardHandle(ulong shardId, NamespaceShard? shard)
    {
        private ulong _leader;
        private ulong _commitFloor;
        private volatile bool _removed;

        /// <summary>True once the node removed this replica (its state is being deleted): reads must not use it.</summary>
        public bool Removed => _removed;

        /// <summary>Marks the replica removed, before its state is deleted (the loop alone calls it).</summary>
        public void MarkRemoved()
        {
            _removed = true;
            Lease = null;
        }

        public ulong ShardId { get; } = shardId;

        /// <summary>The namespace state machine (null for the meta shard).</summary>
        public NamespaceShard? Namespace { get; } = shard;

        /// <summary>The lease the local replica holds now, or null (published by the loop).</summary>
        public volatile LeaseView? Lease;

        /// <summary>Lease reads since the loop last looked (they keep the group from quiescing).</summary>
        public long LeaseReadsSinceStep;

        public ulong Leader
        {
            get => Volatile.Read(ref _leader);
            set => Volatile.Write(ref _leader, value);
        }

        /// <summary>The local replica's commit index as of the loop's last step.</summary>
        public ulong Committed
        {
            get => Volatile.Read(ref _committed);
            set => Volatile.Write(ref _committed, value);
        }

        /// <summary>The local replica's applied index as of the loop's last step.</summary>
        public ulong Applied
        {
            get => Volatile.Read(ref _applied);
            set => Volatile.Write(ref _applied, value);
        }

        private ulong _committed;
        private ulong _applied;

        /// <summary>
        /// The highest commit index the loop may already have told other replicas (published before the step's
        /// messages are sent, so before any follower can apply and acknowledge those entries). A lease read must not
        /// serve a state older than this: the leader applies its newly committed entries only after sending, and the
        /// lease's <see cref="LeaseView.AppliedFloor"/> is as of the end of the previous step.
        /// </summary>
        public ulong CommitFloor => Volatile.Read(ref _commitFloor);

        /// <summary>Raises <see cref="CommitFloor"/> (the loop alone writes it).</summary>
        public void RaiseCommitFloor(ulong committed)
        {
            if (committed > _commitFloor)
            {
                Volatile.Write(ref _commitFloor, committed);
            }
        }
    }

    /// <summary>
    /// A lease the loop computed for a leader replica: reads may be served locally until
    /// <see cref="DeadlineTimestamp"/> (<see cref="Stopwatch"/> ticks) once the state machine has applied
    /// <see cref="AppliedFloor"/> (the commit index when the lease was computed, which covers every write any earlier
    /// leader acknowledged).
    /// </summary>
    internal sealed record LeaseView(ulong Term, long DeadlineTimestamp, ulong AppliedFloor);
}
