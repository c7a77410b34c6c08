namespace Strata.Consensus;

/// <summary>How the leader is currently replicating to one follower.</summary>
public enum ProgressState : byte
{
    /// <summary>Looking for the last matching index: one append at a time, waiting for each answer.</summary>
    Probe,

    /// <summary>Log matches: appends are pipelined optimistically, bounded by the in-flight window.</summary>
    Replicate,

    /// <summary>A snapshot is on its way; appends wait until it is reported applied.</summary>
    Snapshot,
}

/// <summary>The leader's view of one replica's log (§5.3 nextIndex/matchIndex, plus flow control).</summary>
public sealed class Progress
{
    internal Progress(ulong next, int maxInflight, ulong maxInflightBytes, bool isLearner)
    {
        Next = next;
        Inflights = new Inflights(maxInflight, maxInflightBytes);
        IsLearner = isLearner;
    }

    /// <summary>Highest index known to be replicated on the replica.</summary>
    public ulong Match { get; internal set; }

    /// <summary>Index of the next entry to send.</summary>
    public ulong Next { get; internal set; }

    /// <summary>Replication mode.</summary>
    public ProgressState State { get; internal set; }

    /// <summary>Index of the snapshot being sent (Snapshot state).</summary>
    public ulong PendingSnapshot { get; internal set; }

    /// <summary>
    /// The commit index the replica last reported in an append or heartbeat response: what it knows is committed. A
    /// replica holding every entry may not know yet that the last ones are committed (the message telling it can be
    /// lost); the leader must keep heartbeating until it does (<see cref="RaftNode.MembersKnowCommit"/>).
    /// </summary>
    public ulong KnownCommit { get; internal set; }

    /// <summary>Heard from since the last check-quorum round.</summary>
    public bool RecentActive { get; internal set; }

    /// <summary>In Probe state: an append is outstanding, wait for its answer (or a heartbeat response).</summary>
    public bool ProbeSent { get; internal set; }

    /// <summary>Non-voting member.</summary>
    public bool IsLearner { get; internal set; }

    /// <summary>Highest leader tick echoed in a heartbeat response (lease bookkeeping).</summary>
    internal ulong LeaseTickAcked { get; set; }

    internal Inflights Inflights { get; }

    /// <summary>Whether sending more appends must wait.</summary>
    public bool IsPaused => State switch
    {
        ProgressState.Probe => ProbeSent,
        ProgressState.Replicate => Inflights.Full,
        _ => true,
    };

    internal void BecomeProbe()
    {
        if (State == ProgressState.Snapshot)
        {
            var pending = PendingSnapshot;
            Reset(ProgressState.Probe);
            Next = Math.Max(Match + 1, pending + 1);
        }
        else
        {
            Reset(ProgressState.Probe);
            Next = Match + 1;
        }
    }

    internal void BecomeReplicate()
    {
        Reset(ProgressState.Replicate);
        Next = Match + 1;
    }

    internal void BecomeSnapshot(ulong snapshotIndex)
    {
        Reset(ProgressState.Snapshot);
        PendingSnapshot = snapshotIndex;
    }

    private void Reset(ProgressState state)
    {
        ProbeSent = false;
        PendingSnapshot = 0;
        State = state;
        Inflights.Reset();
    }

    /// <summary>An append was accepted up to <paramref name="index"/>; false if that was already known.</summary>
    internal bool MaybeUpdate(ulong index)
    {
        var updated = false;
        if (Match < index)
        {
            Match = index;
            updated = true;
            ProbeSent = false;
        }

        Next = Math.Max(Next, index + 1);
        return updated;
    }

    /// <summary>
    /// An append after <paramref name="rejected"/> was refused; the follower hints its log matches at most up to
    /// <paramref name="matchHint"/>. Returns false for a stale rejection.
    /// </summary>
    internal bool MaybeDecreaseTo(ulong rejected, ulong matchHint)
    {
        if (State == ProgressState.Replicate)
        {
            if (rejected <= Match)
            {
                return false;
            }

            Next = Match + 1;
            return true;
        }

        if (Next - 1 != rejected)
        {
            return false;
        }

        Next = Math.Max(Math.Min(rejected, matchHint + 1), Match + 1);
        ProbeSent = false;
        return true;
    }

    /// <summary>Bookkeeping after sending an append of <paramref name="count"/> entries ending at <paramref name="lastIndex"/>.</summary>
    internal void SentEntries(int count, ulong bytes, ulong lastIndex)
    {
        if (State == ProgressState.Replicate)
        {
            if (count > 0)
            {
                Next = lastIndex + 1;
                Inflights.Add(lastIndex, bytes);
            }
        }
        else if (State == ProgressState.Probe)
        {
            ProbeSent = true;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{State} match={Match} next={Next}" + (IsLearner ? " learner" : "")
        + (State == ProgressState.Snapshot ? $" pending={PendingSnapshot}" : "") + (IsPaused ? " paused" : "");
}

/// <summary>A bounded window of appends sent but not yet acknowledged (count and bytes).</summary>
internal sealed class Inflights(int capacity, ulong maxBytes)
{
    private readonly ulong[] _index = new ulong[Math.Max(capacity, 1)];
    private readonly ulong[] _bytes = new ulong[Math.Max(capacity, 1)];
    private int _start;

    public int Count { get; private set; }

    public ulong Bytes { get; private set; }

    public bool Full => Count == _index.Length || (maxBytes != 0 && Bytes >= maxBytes);

    public void Add(ulong index, ulong bytes)
    {
        if (Count == _index.Length)
        {
            throw new InvalidOperationException("inflight window overflow");
        }

        var slot = (_start + Count) % _index.Length;
        _index[slot] = index;
        _bytes[slot] = bytes;
        Count++;
        Bytes += bytes;
    }

    /// <summary>Frees every in-flight append ending at or before <paramref name="index"/>.</summary>
    public void FreeLessOrEqual(ulong index)
    {
        while (Count > 0 && _index[_start] <= index)
        {
            Bytes -= _bytes[_start];
            _start = (_start + 1) % _index.Length;
            Count--;
        }
    }

    public void Reset()
    {
        Count = 0;
        Bytes = 0;
        _start = 0;
    }
}
