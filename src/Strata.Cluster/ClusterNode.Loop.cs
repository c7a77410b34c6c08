using System.Buffers.Binary;
using System.Diagnostics;
using Strata.Cluster.Meta;
using Strata.Consensus;
using Strata.Namespace.Commands;
using Strata.Replication;
using Strata.Storage;

namespace Strata.Cluster;

// The drive loop: the only thread that touches the store.
public sealed partial class ClusterNode
{
    private const int TickHistory = 4096;

    /// <summary>Steps taken right after one that handled a Ready, before the loop waits again.</summary>
    private const int MaxFollowUpSteps = 4;

    private readonly Dictionary<ulong, PendingProposal> _pendingProposals = [];
    private readonly Dictionary<ulong, PendingRead> _pendingReads = [];
    private readonly List<PendingRead> _readsAwaitingApply = [];
    private readonly long[] _tickTimestamps = new long[TickHistory];
    private ulong _bootstrapProposedInTerm; // the meta shard term in which this node last proposed the bootstrap
    private ulong _nextReadId;
    private long _nextTickAt;
    private long _nextGarbageCollectionAt;

    private void RunLoop()
    {
        long interval = StopwatchTicks(Options.TickInterval);
        _nextTickAt = _time.GetTimestamp() + interval;
        _nextGarbageCollectionAt = Options.GarbageCollectionInterval > TimeSpan.Zero
            ? _time.GetTimestamp() + StopwatchTicks(Options.GarbageCollectionInterval)
            : long.MaxValue;
        bool founded = FoundedNow && !Options.Joining;
        bool firstStep = true;
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                long now = _time.GetTimestamp();
                if (now < _nextTickAt && _inbox.IsEmpty)
                {
                    _signal.WaitOne(TimeSpan.FromTicks(Math.Max(1, (long)((_nextTickAt - now) * (TimeSpan.TicksPerSecond / (double)Stopwatch.Frequency)))));
                    now = _time.GetTimestamp();
                }

                DrainInbox();
                bool tick = now >= _nextTickAt;
                if (tick)
                {
                    // One tick per step at most, and never faster than the interval: a stalled loop lets ticks
                    // lapse instead of bursting them, so Raft time never runs ahead of real time (leases rely on it).
                    _nextTickAt = now + interval;
                }

                StepResult step = _store.Step(tick);
                if (tick)
                {
                    _tickTimestamps[_store.Ticks % TickHistory] = now;
                }

                // Handling a Ready can make the next one due at once (a single voter commits what it just persisted;
                // applying frees flow control): step again without waiting, so that work never waits for a tick.
                for (int more = 0; step.ReadyGroups > 0 && more < MaxFollowUpSteps; more++)
                {
                    step = _store.Step(tick: false);
                }

                if (firstStep)
                {
                    CampaignAtStart(founded);
                    firstStep = false;
                }

                AfterStep(now);
            }

            FailEverything(new ObjectDisposedException(nameof(ClusterNode)));
        }
        catch (Exception e)
        {
            Volatile.Write(ref _failure, e);
            FailEverything(new StorageFailureException("the node stopped after a storage failure", e));
        }
        finally
        {
            _loopExited.TrySetResult();
        }
    }

    /// <summary>
    /// A group whose only voter is this node elects itself at once (the single-node cluster serves immediately, also
    /// after a restart). On a new cluster, the first replica of each shard campaigns at once, spreading leadership.
    /// </summary>
    private void CampaignAtStart(bool founded)
    {
        foreach (Replica replica in _store.Replicas)
        {
            if (replica.ConfState.Voters is [var only] && only == NodeId && replica.ConfState.VotersOutgoing.Count == 0)
            {
                _store.Campaign(replica.GroupId);
            }
        }

        if (!founded)
        {
            return;
        }

        if (ShardMap.MetaReplicas(_memberIds)[0] == NodeId && _store.Find(MetaShard.Id) is not null)
        {
            _store.Campaign(MetaShard.Id);
        }

        foreach (RangeDescriptor shard in InitialLayout())
        {
            if (shard.Replicas[0] == NodeId)
            {
                _store.Campaign(shard.ShardId);
            }
        }
    }

    private void DrainInbox()
    {
        while (_inbox.TryDequeue(out LoopWork? work))
        {
            try
            {
                work.Run(this);
            }
            catch (Exception e) when (e is not StorageFailureException and not CorruptionException)
            {
                work.Fail(e);
            }
        }
    }

    private void AfterStep(long now)
    {
        foreach (GroupReadState state in _store.TakeReadStates())
        {
            ulong readId = BinaryPrimitives.ReadUInt64LittleEndian(state.Context.Span);
            if (_pendingReads.Remove(readId, out PendingRead? read))
            {
                read.Index = state.Index;
                _readsAwaitingApply.Add(read);
            }
        }

        for (int i = _readsAwaitingApply.Count - 1; i >= 0; i--)
        {
            PendingRead read = _readsAwaitingApply[i];
            Replica? replica = _store.Find(read.ShardId);
            if (replica is null || replica.Applied >= read.Index)
            {
                _readsAwaitingApply.RemoveAt(i);
                Interlocked.Increment(ref _readIndexReads);
                read.Completion.TrySetResult();
            }
        }

        CompareClocks(now);
        foreach (Replica replica in _store.Replicas)
        {
            ShardHandle handle = _handles[replica.GroupId];
            if (handle.Leader != replica.Leader && replica.Leader != 0)
            {
                _metrics.LeaderChanges.Add(1, _metrics.NodeTag, new("strata.shard", (long)replica.GroupId));
            }

            handle.Leader = replica.Leader;
            handle.Committed = replica.Committed;
            handle.Applied = replica.Applied;
            if (Interlocked.Exchange(ref handle.LeaseReadsSinceStep, 0) > 0)
            {
                _store.KeepAwake(replica.GroupId);
            }

            handle.Lease = LeaseOf(replica);
            if (handle.Namespace is { } shard)
            {
                Clock.Observe(shard.LastTimestamp);
            }
        }

        PublishSuspectedPeers();

        ExpireOrAbandon(now);
        ProposeBootstrapIfLeader();
        Reconcile(now);
        if (now >= _nextGarbageCollectionAt)
        {
            _nextGarbageCollectionAt = now + StopwatchTicks(Options.GarbageCollectionInterval);
            ProposeGarbageCollection();
        }
    }

    /// <summary>Publishes the peers the store suspects down; allocates only when that set changed.</summary>
    private void PublishSuspectedPeers()
    {
        int count = 0;
        bool changed = false;
        ulong[] published = _suspectedPeers;
        foreach (ulong peer in _peerIds)
        {
            if (_store.IsSuspected(peer))
            {
                changed |= count >= published.Length || published[count] != peer;
                count++;
            }
        }

        if (changed || count != published.Length)
        {
            Volatile.Write(ref _suspectedPeers, [.. _peerIds.Where(_store.IsSuspected)]);
        }
    }

    /// <summary>
    /// The lease of a leader replica as a deadline on this node's monotonic clock, or null. The core says how many
    /// of the replica's ticks the lease has left; the lease began at the send of the heartbeat a quorum acknowledged,
    /// whose wall time this loop recorded. Published only when the replica has been awake (ticked every step) since
    /// that heartbeat, so replica ticks map one-to-one onto recorded store ticks.
    /// </summary>
    private LeaseView? LeaseOf(Replica replica)
    {
        if (replica.Role != StateRole.Leader || replica.IsQuiesced)
        {
            return null;
        }

        ulong remaining = replica.LeaseRemainingTicks;
        ulong leaseTicks = (ulong)(Options.ElectionTicks - Options.LeaseDriftMarginTicks);
        if (remaining == 0 || remaining > leaseTicks)
        {
            return null;
        }

        ulong sinceStart = leaseTicks - remaining;
        ulong storeTick = _store.Ticks;
        if (sinceStart > storeTick - replica.AwakeSinceTick || sinceStart >= TickHistory - 1 || storeTick < sinceStart)
        {
            return null;
        }

        long startedAt = _tickTimestamps[(storeTick - sinceStart) % TickHistory];
        if (startedAt == 0 || !ClockFitForLease(replica))
        {
            return null;
        }

        long deadline = startedAt + (long)leaseTicks * StopwatchTicks(Options.TickInterval);
        return new LeaseView(replica.Term, deadline, replica.Committed);
    }

    /// <summary>Fails proposals whose term ended (their outcome is unknown) and waits that ran out of time.</summary>
    private void ExpireOrAbandon(long now)
    {
        if (_pendingProposals.Count > 0)
        {
            List<PendingProposal>? ended = null;
            foreach (PendingProposal pending in _pendingProposals.Values)
            {
                Replica? replica = _store.Find(pending.ShardId);
                bool termEnded = replica is null || replica.Term != pending.Term;
                if (termEnded || now >= pending.Deadline)
                {
                    (ended ??= []).Add(pending);
                }
            }

            foreach (PendingProposal pending in ended ?? [])
            {
                _pendingProposals.Remove(pending.Id);
                pending.Fail(new OutcomeUnknownException(pending.ShardId, now >= pending.Deadline
                    ? $"shard {pending.ShardId}: the proposal did not apply within {Options.ProposalTimeout.TotalSeconds:0.#} s; it may still apply — retry with the same request id"
                    : $"shard {pending.ShardId}: leadership changed while the proposal was in flight; it may still apply — retry with the same request id"));
            }
        }

        if (_pendingReads.Count > 0)
        {
            foreach (PendingRead read in _pendingReads.Values.Where(r => now >= r.Deadline).ToList())
            {
                _pendingReads.Remove(read.Id);
                read.Fail(new ShardUnavailableException(read.ShardId,
                    $"shard {read.ShardId}: no leader confirmed a read index within {Options.ReadTimeout.TotalSeconds:0.#} s"));
            }
        }
    }

    private void ProposeBootstrapIfLeader()
    {
        Replica? meta = _store.Find(MetaShard.Id);
        if (Options.Joining || meta is null || meta.Role != StateRole.Leader || Map.IsBootstrapped
            || _bootstrapProposedInTerm == meta.Term)
        {
            return;
        }

        _bootstrapProposedInTerm = meta.Term;
        var bootstrap = new Bootstrap { ClusterId = Options.ClusterId };
        bootstrap.Nodes.Add(Options.Members.OrderBy(n => n.Id));
        bootstrap.Shards.Add(InitialLayout());
        bootstrap.ReplicationFactor = (uint)Options.ReplicationFactor;
        _store.Propose(MetaShard.Id, ProposalEnvelope.Encode(ProposalKind.Meta, 0, 0, new MetaCommand { Bootstrap = bootstrap }));
    }

    private void ProposeGarbageCollection()
    {
        long unixNow = _time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (Replica replica in _store.Replicas)
        {
            if (replica.GroupId == MetaShard.Id || replica.Role != StateRole.Leader)
            {
                continue;
            }

            var command = new Command
            {
                Timestamp = Clock.Now(),
                CollectGarbage = new CollectGarbage
                {
                    MvccHorizon = Namespace.HybridClock.FromMilliseconds(unixNow - (long)Options.MvccRetention.TotalMilliseconds),
                    SessionExpiryBefore = Namespace.HybridClock.FromMilliseconds(unixNow - (long)Options.SessionTtl.TotalMilliseconds),
                },
            };
            _store.Propose(replica.GroupId, ProposalEnvelope.Encode(ProposalKind.Namespace, 0, 0, command));
        }
    }

    private void FailEverything(Exception reason)
    {
        foreach (PendingProposal pending in _pendingProposals.Values)
        {
            pending.Fail(reason);
        }

        _pendingProposals.Clear();
        foreach (PendingRead read in _pendingReads.Values.Concat(_readsAwaitingApply))
        {
            read.Fail(reason);
        }

        _pendingReads.Clear();
        _readsAwaitingApply.Clear();
        while (_inbox.TryDequeue(out LoopWork? work))
        {
            work.Fail(reason);
        }
    }

    private static long StopwatchTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    /// <summary>Something a request thread asks the loop to do.</summary>
    internal abstract class LoopWork
    {
        public abstract void Run(ClusterNode node);

        public abstract void Fail(Exception reason);
    }

    /// <summary>A proposal waiting to be proposed, then to apply.</summary>
    internal abstract class PendingProposal(ulong shardId, ulong id, byte[] data) : LoopWork
    {
        public ulong ShardId { get; } = shardId;

        /// <summary>When the caller proposed it (<see cref="Stopwatch"/> timestamp), for the commit latency metric.</summary>
        public long Created { get; } = Stopwatch.GetTimestamp();

        public ulong Id { get; } = id;

        public ulong Term { get; private set; }

        public long Deadline { get; private set; }

        public abstract void Complete(object result);

        public override void Run(ClusterNode node)
        {
            Replica replica = node._store.Find(ShardId)
                ?? throw new NotLeaderException(ShardId, 0, $"node {node.NodeId} hosts no replica of shard {ShardId}");
            ProposalOutcome outcome = node._store.Propose(ShardId, data);
            if (outcome is not (ProposalOutcome.Appended or ProposalOutcome.Forwarded))
            {
                throw new ShardUnavailableException(ShardId, outcome == ProposalOutcome.DroppedNoLeader
                    ? $"shard {ShardId} has no leader right now (election in progress); nothing was done, retry"
                    : $"shard {ShardId} refused the proposal ({outcome}); nothing was done, retry");
            }

            Term = replica.Term;
            Deadline = node._time.GetTimestamp() + StopwatchTicks(node.Options.ProposalTimeout); // node clock, like the loop's now
            node._pendingProposals.Add(Id, this);
        }
    }

    internal sealed class PendingProposal<T>(ulong shardId, ulong id, byte[] data) : PendingProposal(shardId, id, data)
    {
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Complete(object result) => Completion.TrySetResult((T)result);

        public override void Fail(Exception reason) => Completion.TrySetException(reason);
    }

    /// <summary>A ReadIndex request: asked, answered with an index, then released once that index is applied.</summary>
    internal sealed class PendingRead(ulong shardId) : LoopWork
    {
        public ulong ShardId { get; } = shardId;

        public ulong Id { get; private set; }

        public ulong Index { get; set; }

        public long Deadline { get; private set; }

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Run(ClusterNode node)
        {
            if (node._store.Find(ShardId) is null)
            {
                // Removed (moved away) after the caller found it.
                throw new NotLeaderException(ShardId, node.Map.FindShard(ShardId)?.Replicas.FirstOrDefault() ?? 0,
                    $"node {node.NodeId} no longer hosts shard {ShardId}");
            }

            Id = ++node._nextReadId;
            var context = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(context, Id);
            ProposalOutcome outcome = node._store.ReadIndex(ShardId, context);
            if (outcome == ProposalOutcome.DroppedNoLeader)
            {
                throw new ShardUnavailableException(ShardId, $"shard {ShardId} has no leader right now (election in progress); retry");
            }

            Deadline = node._time.GetTimestamp() + StopwatchTicks(node.Options.ReadTimeout); // node clock, like the loop's now
            node._pendingReads.Add(Id, this);
        }

        public override void Fail(Exception reason) => Completion.TrySetException(reason);
    }
}
