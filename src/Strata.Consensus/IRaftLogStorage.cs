namespace Strata.Consensus;

/// <summary>
/// The durable log, hard state and latest snapshot of one replica, as the core reads them.
/// </summary>
/// <remarks>
/// <para>The core only <em>reads</em> through this interface. The host writes, in this order, from each
/// <see cref="Ready"/> before calling <see cref="RaftNode.Advance"/>:</para>
/// <list type="number">
/// <item>the <see cref="Ready.Snapshot"/> if any (it replaces every entry up to its index, and the hard state's
/// commit moves to at least its index);</item>
/// <item>the <see cref="Ready.Entries"/>, appended after truncating any existing entry at or after the first new index
/// (an entry with the same index but another term is a conflict the leader has overruled);</item>
/// <item>the <see cref="Ready.HardState"/> if present;</item>
/// <item>and only once all of that is durable (fsynced), the <see cref="Ready.Messages"/> may be sent: a vote, an
/// append acknowledgment or a leader's append all promise state that must survive a crash.</item>
/// </list>
/// <para>A multi-group host may write the Ready of every group in one batch with one fsync. Writes of one group must
/// become visible to its next <see cref="RaftNode.Ready"/> read in order.</para>
/// <para>Index invariants: <see cref="FirstIndex"/> - 1 is the index of the latest snapshot (or 0), whose term
/// <see cref="Term"/> must still answer; entries exist for every index in [FirstIndex, LastIndex]. An empty log has
/// FirstIndex = LastIndex + 1.</para>
/// <para>Concurrency: the core calls these from the thread that drives the node; an implementation shared by groups
/// must be safe for that. Reads never block on I/O in the simulator; a durable implementation may cache.</para>
/// </remarks>
public interface IRaftLogStorage
{
    /// <summary>The persisted hard state, and the membership as of the index the node is created with as
    /// <see cref="RaftConfig.Applied"/> (the core re-applies the conf changes of later entries as they are
    /// delivered again). A store that keeps only the snapshot's membership restarts with Applied = snapshot index.</summary>
    /// <remarks>Called once, when a <see cref="RaftNode"/> is created (restart).</remarks>
    (HardState HardState, ConfState ConfState) InitialState();

    /// <summary>Entries in [<paramref name="low"/>, <paramref name="high"/>), at least one, and no more than
    /// <paramref name="maxBytes"/> in total beyond the first.</summary>
    /// <exception cref="LogCompactedException">when <paramref name="low"/> &lt; <see cref="FirstIndex"/>.</exception>
    /// <exception cref="LogUnavailableException">when <paramref name="high"/> &gt; <see cref="LastIndex"/> + 1.</exception>
    IReadOnlyList<Entry> Entries(ulong low, ulong high, ulong maxBytes);

    /// <summary>Term of the entry at <paramref name="index"/>, for index in [FirstIndex - 1, LastIndex].</summary>
    /// <exception cref="LogCompactedException">when index &lt; FirstIndex - 1.</exception>
    /// <exception cref="LogUnavailableException">when index &gt; LastIndex.</exception>
    ulong Term(ulong index);

    /// <summary>Index of the first entry still available (snapshot index + 1).</summary>
    ulong FirstIndex { get; }

    /// <summary>Index of the last durable entry (the snapshot index when no entry follows it).</summary>
    ulong LastIndex { get; }

    /// <summary>The latest snapshot, to send to a follower that needs entries already compacted away.</summary>
    /// <exception cref="SnapshotTemporarilyUnavailableException">when one is being built; the core retries later.</exception>
    Snapshot Snapshot();
}

/// <summary>The requested entries were compacted into a snapshot.</summary>
public sealed class LogCompactedException(string message) : Exception(message);

/// <summary>The requested entries are beyond the end of the log.</summary>
public sealed class LogUnavailableException(string message) : Exception(message);

/// <summary>No snapshot can be produced right now; the leader will retry on a later heartbeat.</summary>
public sealed class SnapshotTemporarilyUnavailableException(string message) : Exception(message);
