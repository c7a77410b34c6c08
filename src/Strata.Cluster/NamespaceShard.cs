using Strata.Consensus;
using Strata.Namespace;
using Strata.Namespace.Commands;
using Strata.Storage;

namespace Strata.Cluster;

/// <summary>
/// This node's replica of one namespace shard: the deterministic <see cref="NamespaceStateMachine"/> over the
/// shard's own keyspace of the node's engine (<see cref="KeyspaceEngine.ForShard"/>), applied from the shard's
/// Raft log.
/// </summary>
internal sealed class NamespaceShard : IShardStateMachine
{
    /// <summary>The highest index a group's founding (empty) snapshot can have.</summary>
    private const ulong FoundingSnapshotMaxIndex = 16;

    private readonly ulong _localNode;
    private readonly KeyspaceEngine _keyspace;
    private readonly NamespaceStateMachine _machine;
    private ulong _applied;
    private ulong _lastTimestamp;

    public NamespaceShard(IKvEngine engine, ulong shardId, ulong localNode)
    {
        ShardId = shardId;
        _localNode = localNode;
        _keyspace = KeyspaceEngine.ForShard(engine, shardId);
        _machine = new NamespaceStateMachine(_keyspace, shardId);
        Publish();
    }

    public ulong ShardId { get; }

    public ulong AppliedIndex => Volatile.Read(ref _applied);

    /// <summary>MVCC version of the last applied command (reads "at" a timestamp must not exceed it).</summary>
    public ulong LastTimestamp => Volatile.Read(ref _lastTimestamp);

    /// <summary>A point-in-time view of the shard's applied state; the caller disposes it.</summary>
    public IKvSnapshot Snapshot() => _keyspace.Snapshot();

    public void Apply(IReadOnlyList<Entry> entries, IProposalResults results)
    {
        var logged = new LoggedCommand[entries.Count];
        var proposals = new ulong[entries.Count];
        for (int i = 0; i < entries.Count; i++)
        {
            Entry entry = entries[i];
            Command? command = null;
            if (entry.Type == EntryType.Normal && !entry.Data.IsEmpty)
            {
                ProposalEnvelope envelope = ProposalEnvelope.Decode(entry.Data);
                if (envelope.Kind != ProposalKind.Namespace)
                {
                    throw new CorruptionException($"shard {ShardId} entry {entry.Index} carries a {envelope.Kind} command");
                }

                command = Command.Parser.ParseFrom(envelope.Command.Span);
                proposals[i] = envelope.Proposer == _localNode ? envelope.ProposalId : 0;
            }

            logged[i] = new LoggedCommand(entry.Index, command);
        }

        IReadOnlyList<CommandResult?> outcomes = _machine.Apply(logged, sync: false);
        Publish();
        for (int i = 0; i < outcomes.Count; i++)
        {
            if (proposals[i] != 0 && outcomes[i] is { } outcome)
            {
                results.Applied(proposals[i], outcome);
            }
        }
    }

    public ReadOnlyMemory<byte> TakeSnapshot()
    {
        using var output = new MemoryStream();
        _machine.WriteSnapshot(output);
        return output.ToArray();
    }

    public void Restore(Snapshot snapshot)
    {
        if (snapshot.Data.IsEmpty)
        {
            // The group's founding snapshot: a bare membership at a small index, no state. The state machine only
            // moves its applied index there (the log resumes after it).
            if (snapshot.Index > _machine.AppliedIndex + FoundingSnapshotMaxIndex)
            {
                throw new CorruptionException($"shard {ShardId}: an empty snapshot at index {snapshot.Index} is not a founding snapshot");
            }

            var positions = new List<LoggedCommand>();
            for (ulong index = _machine.AppliedIndex + 1; index <= snapshot.Index; index++)
            {
                positions.Add(new LoggedCommand(index, null));
            }

            _machine.Apply(positions, sync: false);
            Publish();
            return;
        }

        using var input = new MemoryStream(snapshot.Data.ToArray(), writable: false);
        _machine.RestoreSnapshot(input);
        Publish();
    }

    private void Publish()
    {
        Volatile.Write(ref _lastTimestamp, _machine.LastTimestamp);
        Volatile.Write(ref _applied, _machine.AppliedIndex);
    }
}
