using Strata.Consensus;

namespace Strata.Replication;

// Messages: routing per destination node, one frame per node per step (split past MaxFrameBytes), receiving, liveness beats.
public sealed partial class Store
{
    private readonly Dictionary<ulong, Peer> _peers = [];
    private readonly List<Peer> _peerList = [];
    private readonly WireBuffer _frame = new(4096);

    /// <summary>Heartbeat messages sent (coalesced into frames); stays flat while every group is quiesced.</summary>
    public long HeartbeatsSent { get; private set; }

    /// <summary>Frames sent, liveness beats included.</summary>
    public long FramesSent { get; private set; }

    /// <summary>Empty frames sent only to show this node is alive.</summary>
    public long LivenessBeatsSent { get; private set; }

    /// <summary>Frames dropped because they failed their checksum or did not decode.</summary>
    public long CorruptFramesDropped { get; private set; }

    /// <summary>Messages dropped because this node hosts no such group (or they were misaddressed).</summary>
    public long UnroutableMessages { get; private set; }

    /// <summary>Whether <paramref name="nodeId"/> is currently suspected down (not heard from recently).</summary>
    public bool IsSuspected(ulong nodeId) => _peers.TryGetValue(nodeId, out var peer) && peer.Suspected;

    private Peer PeerOf(ulong nodeId)
    {
        if (!_peers.TryGetValue(nodeId, out var peer))
        {
            peer = new Peer(nodeId, new NodeMessageBatch(NodeId, nodeId)) { LastHeard = _tick };
            peer.Beat = NodeMessageBatchCodec.Encode(peer.Outbound);
            _peers.Add(nodeId, peer);
            _peerList.Add(peer);
        }

        return peer;
    }

    private void Route(Message m)
    {
        if (m.To == NodeId || m.To == 0)
        {
            throw new InvalidOperationException($"group {m.GroupId} addressed a message to node {m.To}: {m}");
        }

        if (m.Type == MessageType.Heartbeat)
        {
            HeartbeatsSent++;
        }

        PeerOf(m.To).Outbound.Messages.Add(m);
    }

    /// <summary>Sends each peer's batch as one frame, or a liveness beat when one is due; returns the frames sent.</summary>
    private int SendFrames(bool tick)
    {
        var frames = 0;
        foreach (var peer in _peerList)
        {
            var batch = peer.Outbound;
            int sent;
            if (batch.Messages.Count > 0)
            {
                sent = SendInFrames(peer.Id, batch);
                batch.Messages.Clear();
            }
            else if (tick && _tick - peer.LastSent >= (ulong)Options.LivenessIntervalTicks)
            {
                _transport.Send(peer.Id, peer.Beat);
                LivenessBeatsSent++;
                sent = 1;
            }
            else
            {
                continue;
            }

            peer.LastSent = _tick;
            FramesSent += sent;
            frames += sent;
        }

        return frames;
    }

    /// <summary>
    /// Sends <paramref name="batch"/> to <paramref name="peer"/> as one frame, or, when that frame would exceed
    /// <see cref="StoreOptions.MaxFrameBytes"/>, its two halves in order, each split again as needed (a single message
    /// travels alone whatever its size). Sizes are the real encoded ones; re-encoding happens only for oversized
    /// batches. Each frame's delivery is reported on its own. Returns the frames sent.
    /// </summary>
    private int SendInFrames(ulong peer, NodeMessageBatch batch)
    {
        NodeMessageBatchCodec.Encode(batch, _frame);
        var count = batch.Messages.Count;
        if (_frame.Length <= Options.MaxFrameBytes || count == 1)
        {
            ReportDelivery(batch, _transport.Send(peer, _frame.ToArray()));
            return 1;
        }

        var half = count / 2;
        return SendInFrames(peer, new NodeMessageBatch(NodeId, peer, batch.Messages.GetRange(0, half)))
            + SendInFrames(peer, new NodeMessageBatch(NodeId, peer, batch.Messages.GetRange(half, count - half)));
    }

    /// <summary>Tells the leaders what became of their messages (unreachable followers, snapshot outcomes).</summary>
    private void ReportDelivery(NodeMessageBatch batch, bool delivered)
    {
        foreach (var m in batch.Messages)
        {
            if (!_replicas.TryGetValue(m.GroupId, out var replica))
            {
                continue;
            }

            if (!delivered)
            {
                replica.Raft.ReportUnreachable(m.To);
            }

            if (m.Type == MessageType.Snapshot)
            {
                replica.Raft.ReportSnapshot(m.To, delivered ? SnapshotStatus.Finished : SnapshotStatus.Failed);
            }
        }
    }

    /// <summary>Delivers every waiting frame; returns the number of messages stepped into groups.</summary>
    private int Receive()
    {
        var delivered = 0;
        while (_transport.TryReceive(out var frame))
        {
            if (NodeMessageBatchCodec.TryReadBeat(frame.Span, out var source, out var destination))
            {
                // The frame idle nodes exchange: proof of life, nothing to deliver (and nothing allocated).
                if (destination == NodeId && source != NodeId)
                {
                    HeardFrom(source);
                }

                continue;
            }

            NodeMessageBatch batch;
            try
            {
                batch = NodeMessageBatchCodec.Decode(frame);
            }
            catch (CorruptFrameException)
            {
                CorruptFramesDropped++; // Raft tolerates the loss; the sender retries on its own
                continue;
            }

            if (batch.DestinationNode != NodeId || batch.SourceNode == NodeId)
            {
                UnroutableMessages += batch.Messages.Count;
                continue;
            }

            HeardFrom(batch.SourceNode);

            foreach (var m in batch.Messages)
            {
                if (m.To != NodeId || m.From != batch.SourceNode || !_replicas.TryGetValue(m.GroupId, out var replica))
                {
                    UnroutableMessages++;
                    continue;
                }

                if (replica.AwakeSlot < 0 && CarriesNoNews(replica, m))
                {
                    SuppressedMessages++;
                    continue;
                }

                if (m.Type is MessageType.Vote or MessageType.PreVote && RefusesVotesAfterRestart(replica))
                {
                    RefusedVotesAfterRestart++;
                    continue;
                }

                replica.Raft.Step(m);
                Wake(replica);
                delivered++;
            }
        }

        return delivered;
    }

    /// <summary>
    /// The lease guard: a replica restarted from its log drops vote and pre-vote requests until it has been ticked for
    /// an election timeout. Before the restart it may have acknowledged a heartbeat that extended a leader's lease; the
    /// core remembers that only in memory (a follower refuses votes while it hears from a leader), so without the guard
    /// a restarted voter would help elect a new leader at once while the old one still serves reads from its lease.
    /// Dropping is safe (Raft tolerates lost messages) and costs at most one election timeout after a restart. The
    /// core's <see cref="ReadOnlyOption.LeaseBased"/> mode has the same rule; hosts that serve leases themselves on
    /// <see cref="ReadOnlyOption.Safe"/> (Strata.Cluster) rely on this one.
    /// </summary>
    private bool RefusesVotesAfterRestart(Replica replica) =>
        replica.RestartedFromLog && replica.TicksDelivered < Options.ElectionTick;

    /// <summary>Vote requests dropped by the lease guard (see <see cref="RefusesVotesAfterRestart"/>).</summary>
    public long RefusedVotesAfterRestart { get; private set; }

    private void HeardFrom(ulong nodeId)
    {
        var peer = PeerOf(nodeId);
        peer.LastHeard = _tick;
        if (peer.Suspected)
        {
            peer.Suspected = false;
            WakeGroupsWith(peer.Id, leadersOnly: false);
        }
    }

    private sealed class Peer(ulong id, NodeMessageBatch outbound)
    {
        public ulong Id { get; } = id;

        /// <summary>Messages for this node collected in the current step.</summary>
        public NodeMessageBatch Outbound { get; } = outbound;

        /// <summary>The encoded empty batch, reused for every liveness beat (frames are immutable once sent).</summary>
        public byte[] Beat { get; set; } = [];

        public ulong LastHeard { get; set; }

        public ulong LastSent { get; set; }

        public bool Suspected { get; set; }
    }
}
