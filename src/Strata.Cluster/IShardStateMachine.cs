using Strata.Consensus;

namespace Strata.Cluster;

/// <summary>Where a shard's state machine hands the results of the entries this node proposed.</summary>
internal interface IProposalResults
{
    /// <summary>The entry of proposal <paramref name="proposalId"/> (proposed by this node) applied with <paramref name="result"/>.</summary>
    void Applied(ulong proposalId, object result);
}

/// <summary>
/// The replicated state of one shard on this node (the meta shard or a namespace shard), driven by the node's
/// <see cref="ReplicatedShards"/> with the shard's committed entries.
/// </summary>
/// <remarks>Apply, snapshot and restore run on the node's drive loop only; readers run concurrently on snapshots.</remarks>
internal interface IShardStateMachine
{
    ulong ShardId { get; }

    /// <summary>Index of the last applied entry (safe to read from any thread).</summary>
    ulong AppliedIndex { get; }

    /// <summary>Applies committed entries in order, persisting the changes and the applied index in one batch
    /// (not synced: the Raft log is the durable record; see <see cref="ClusterNode"/>).</summary>
    void Apply(IReadOnlyList<Entry> entries, IProposalResults results);

    ReadOnlyMemory<byte> TakeSnapshot();

    void Restore(Snapshot snapshot);
}
