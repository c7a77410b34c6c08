using Google.Protobuf;
using Strata.Cluster.Meta;
using Strata.Consensus;
using Strata.Storage;

namespace Strata.Cluster;

/// <summary>
/// This node's replica of the meta shard (shard 0): cluster membership and the shard map, kept as one
/// checksummed record in the shard's keyspace and published as an immutable <see cref="ShardMap"/> after every
/// applied batch.
/// </summary>
/// <remarks>
/// The meta state is small (a record per node and per shard), so every applied batch rewrites it whole, together
/// with the applied index, in one engine batch.
/// </remarks>
internal sealed partial class MetaShard : IShardStateMachine
{
    /// <summary>The meta shard's id (and Raft group id).</summary>
    public const ulong Id = 0;

    private static readonly byte[] StateKey = "meta-state"u8.ToArray();

    private readonly ulong _localNode;
    private readonly KeyspaceEngine _keyspace;
    private MetaState _state;
    private ShardMap _map;
    private ulong _applied;

    public MetaShard(IKvEngine engine, ulong localNode)
    {
        _localNode = localNode;
        _keyspace = KeyspaceEngine.ForShard(engine, Id);
        byte[]? stored = _keyspace.Get(KvColumn.Data, StateKey);
        _state = stored is null ? new MetaState() : MetaState.Parser.ParseFrom(RecordCodec.Open(StateKey, stored));
        _map = MapOf(_state);
        _applied = _state.AppliedIndex;
    }

    public ulong ShardId => Id;

    public ulong AppliedIndex => Volatile.Read(ref _applied);

    /// <summary>The latest applied shard map (safe to read from any thread).</summary>
    public ShardMap Map => Volatile.Read(ref _map);

    public void Apply(IReadOnlyList<Entry> entries, IProposalResults results)
    {
        MetaState next = _state.Clone();
        var completed = new List<(ulong, MetaResult)>();
        foreach (Entry entry in entries)
        {
            next.AppliedIndex = entry.Index;
            if (entry.Type != EntryType.Normal || entry.Data.IsEmpty)
            {
                continue;
            }

            ProposalEnvelope envelope = ProposalEnvelope.Decode(entry.Data);
            if (envelope.Kind != ProposalKind.Meta)
            {
                throw new CorruptionException($"meta shard entry {entry.Index} carries a {envelope.Kind} command");
            }

            MetaResult result = Execute(next, MetaCommand.Parser.ParseFrom(envelope.Command.Span));
            if (envelope.Proposer == _localNode)
            {
                completed.Add((envelope.ProposalId, result));
            }
        }

        Persist(next);
        foreach ((ulong proposal, MetaResult result) in completed)
        {
            results.Applied(proposal, result);
        }
    }

    public ReadOnlyMemory<byte> TakeSnapshot() => _state.ToByteArray();

    public void Restore(Snapshot snapshot)
    {
        if (snapshot.Data.IsEmpty)
        {
            // The founding snapshot: a bare membership, no state.
            MetaState founding = _state.Clone();
            founding.AppliedIndex = Math.Max(founding.AppliedIndex, snapshot.Index);
            Persist(founding);
            return;
        }

        MetaState restored = MetaState.Parser.ParseFrom(snapshot.Data.Span);
        restored.AppliedIndex = snapshot.Index;
        _ = MapOf(restored); // validates before anything is written
        Persist(restored);
    }

    private void Persist(MetaState next)
    {
        using (IKvWriteBatch batch = _keyspace.CreateBatch())
        {
            batch.Put(KvColumn.Data, StateKey, RecordCodec.Seal(StateKey, next.ToByteArray()));
            _keyspace.Write(batch, sync: false);
        }

        _state = next;
        Volatile.Write(ref _map, MapOf(next));
        Volatile.Write(ref _applied, next.AppliedIndex);
    }

    private static ShardMap MapOf(MetaState state) => new(state.ClusterId, state.Nodes, state.Shards, state.Moves, state.ReplicationFactor);
}
