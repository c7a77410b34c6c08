using Strata.Consensus;

namespace Strata.Replication;

/// <summary>
/// What the store drives with the committed log of every group on the node (the namespace state machine, or a test
/// model). One instance serves all groups; every call names the group.
/// </summary>
/// <remarks>
/// <para><b>Concurrency:</b> called only from the store's drive loop, never concurrently.</para>
/// <para><b>Order:</b> for each group, <see cref="Restore"/> and <see cref="Apply"/> come in log order, each entry
/// exactly once per process lifetime, and only after the entries (and the hard state that commits them) are durable
/// in the node's log. After a restart the store resumes at <see cref="AppliedIndex"/>: entries after it are applied
/// again, so a state machine that persists its applied index must persist it atomically with the changes.</para>
/// </remarks>
public interface IReplicatedStateMachine
{
    /// <summary>The index this state machine has applied for <paramref name="groupId"/> (0 when it knows nothing of it),
    /// asked once per group when the store opens. Must not exceed the group's durable commit index.</summary>
    ulong AppliedIndex(ulong groupId);

    /// <summary>Applies committed entries of <paramref name="groupId"/>, in order. Includes the leader's empty entries
    /// and membership changes (<see cref="EntryType.ConfChange"/>), which a state machine usually skips.</summary>
    void Apply(ulong groupId, IReadOnlyList<Entry> entries);

    /// <summary>The state of <paramref name="groupId"/> as of its applied index, for log compaction and for followers
    /// that need a snapshot.</summary>
    ReadOnlyMemory<byte> TakeSnapshot(ulong groupId);

    /// <summary>Replaces the state of <paramref name="groupId"/> with <paramref name="snapshot"/> (one received from
    /// the leader, or the latest local one on restart when the state machine is behind it).</summary>
    void Restore(ulong groupId, Snapshot snapshot);

    /// <summary>
    /// The store is removing this node's replica of <paramref name="groupId"/> (see <see cref="Store.DestroyGroup"/>):
    /// add the deletion of the group's state to <paramref name="batch"/> (a batch of the node's engine, written
    /// atomically with the deletion of the group's log) and forget the group. Nothing of the group is applied
    /// afterwards unless it is created again. The default does nothing (state machines that keep nothing in the engine).
    /// </summary>
    void Destroy(ulong groupId, Storage.IKvWriteBatch batch)
    {
    }

    /// <summary>
    /// Called for each group whose Ready the current step handles, after the step's batch is durable and before the
    /// step's messages are sent, with the group's commit index. From that moment other replicas may learn that every
    /// entry up to <paramref name="committed"/> is committed, apply it and answer their clients, while this node applies
    /// it only later in the step. A host that serves reads off the drive loop (leader leases) must not serve a state
    /// older than this index. The default does nothing.
    /// </summary>
    void CommitKnown(ulong groupId, ulong committed)
    {
    }
}
