using Strata.Consensus;
using Strata.Replication;
using Strata.Storage;

namespace Strata.Cluster;

/// <summary>
/// The <see cref="IReplicatedStateMachine"/> of a node: routes each group's committed entries to the state machine
/// of that shard — the <see cref="MetaShard"/> for group 0, a <see cref="NamespaceShard"/> for every other group —
/// creating each on first use over the shard's own keyspace of the node's engine.
/// </summary>
/// <remarks>Called by the store on the node's drive loop only; the shard objects' read side is thread-safe.</remarks>
internal sealed class ReplicatedShards(IKvEngine engine, ulong localNode, IProposalResults results, Action<ulong, ulong> commitKnown)
    : IReplicatedStateMachine
{
    private readonly Dictionary<ulong, IShardStateMachine> _shards = [];
    private readonly Lock _gate = new();

    /// <summary>The meta shard's state machine (always present).</summary>
    public MetaShard Meta => (MetaShard)Shard(MetaShard.Id);

    /// <summary>The namespace shard <paramref name="shardId"/>'s state machine (created on first use).</summary>
    public NamespaceShard Namespace(ulong shardId) => shardId == MetaShard.Id
        ? throw new ArgumentException("shard 0 is the meta shard, not a namespace shard", nameof(shardId))
        : (NamespaceShard)Shard(shardId);

    public ulong AppliedIndex(ulong groupId) => Shard(groupId).AppliedIndex;

    public void Apply(ulong groupId, IReadOnlyList<Entry> entries) => Shard(groupId).Apply(entries, results);

    public ReadOnlyMemory<byte> TakeSnapshot(ulong groupId) => Shard(groupId).TakeSnapshot();

    public void Restore(ulong groupId, Snapshot snapshot) => Shard(groupId).Restore(snapshot);

    public void CommitKnown(ulong groupId, ulong committed) => commitKnown(groupId, committed);

    /// <summary>Forgets the shard's state machine and deletes its keyspace in the store's batch (a removed replica).</summary>
    public void Destroy(ulong groupId, IKvWriteBatch batch)
    {
        lock (_gate)
        {
            _shards.Remove(groupId);
        }

        KeyspaceEngine.DeleteShard(batch, groupId);
    }

    private IShardStateMachine Shard(ulong shardId)
    {
        lock (_gate)
        {
            if (!_shards.TryGetValue(shardId, out IShardStateMachine? shard))
            {
                shard = shardId == MetaShard.Id
                    ? new MetaShard(engine, localNode)
                    : new NamespaceShard(engine, shardId, localNode);
                _shards.Add(shardId, shard);
            }

            return shard;
        }
    }
}
