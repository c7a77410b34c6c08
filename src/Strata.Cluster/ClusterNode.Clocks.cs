using Strata.Replication;

namespace Strata.Cluster;

// Leases and clocks. A leader serves reads from its lease without a consensus round because its peers will not elect
// another leader before the lease runs out: each voter refuses to vote for ElectionTicks of its own ticks after it last
// heard the leader, and the lease lasts ElectionTicks - LeaseDriftMarginTicks of the leader's ticks. That holds while
// the leader's clock runs no slower than theirs by more than the margin (2 of 10 ticks: 25%). The transport measures the
// peers' clock rates (IPeerClocks); a leader gives up lease reads (every read goes through ReadIndex, which needs no
// clock) while the voters that could elect its successor without it are all ones whose clocks it saw running faster
// than its own beyond the margin, or could not measure yet: a peer on a connection younger than the measuring span
// has no rate, and "not measured" must not pass for "not faster" (a chaos run caught a leader at 0.47x real time
// holding its lease when cut off, its rate against one voter measured, against the other not yet after a reconnect).
public sealed partial class ClusterNode
{
    // A 10x slow clock shows within half a second; a drift just past the margin shows over two seconds, where network
    // delay adds a few percent of noise at most. Both limits are inside the margin (a peer rate of 1.25 breaks leases).
    private static readonly TimeSpan QuickClockSpan = TimeSpan.FromMilliseconds(500);
    private const double QuickClockLimit = 1.2;
    private static readonly TimeSpan SteadyClockSpan = TimeSpan.FromSeconds(2);
    private const double SteadyClockLimit = 1.1;

    private readonly HashSet<ulong> _fasterClocks = [];
    private readonly HashSet<ulong> _measuredClocks = [];
    private long _leaseClockRefusals;
    private long _nextClockComparisonAt;

    /// <summary>
    /// Peers whose clocks this node saw running faster than its own beyond the lease's drift margin at its last step;
    /// empty when the clocks agree (or the transport does not measure them).
    /// </summary>
    public IReadOnlyCollection<ulong> PeersWithFasterClocks
    {
        get
        {
            lock (_fasterClocks)
            {
                return [.. _fasterClocks];
            }
        }
    }

    /// <summary>
    /// Peers whose clock rate this node could not measure at its last step (no readings of theirs far enough apart: a new
    /// connection, or none); a lease counts them as possibly faster. Empty when the transport does not measure clocks.
    /// </summary>
    public IReadOnlyCollection<ulong> PeersWithUnmeasuredClocks
    {
        get
        {
            lock (_fasterClocks)
            {
                return _transport is IPeerClocks ? [.. _peerIds.Where(peer => !_measuredClocks.Contains(peer))] : [];
            }
        }
    }

    /// <summary>Times a leader replica on this node gave up its lease because its clock ran slow against its voters', or could not be compared with theirs.</summary>
    public long LeaseClockRefusals => Interlocked.Read(ref _leaseClockRefusals);

    /// <summary>
    /// Measures which peers' clocks run faster than this node's beyond the margin: once per tick interval, not every
    /// step (the readings arrive every 200 ms; a step can come thousands of times a second).
    /// </summary>
    private void CompareClocks(long now)
    {
        if (_transport is not IPeerClocks clocks || now < _nextClockComparisonAt)
        {
            return;
        }

        _nextClockComparisonAt = now + StopwatchTicks(Options.TickInterval);

        lock (_fasterClocks)
        {
            _fasterClocks.Clear();
            _measuredClocks.Clear();
            foreach (ulong peer in _peerIds)
            {
                double? quick = clocks.RelativeRate(peer, QuickClockSpan);
                if (quick is null)
                {
                    continue; // not measured yet: the lease counts it as possibly faster
                }

                _measuredClocks.Add(peer);
                if (quick > QuickClockLimit || clocks.RelativeRate(peer, SteadyClockSpan) > SteadyClockLimit)
                {
                    _fasterClocks.Add(peer);
                }
            }
        }
    }

    /// <summary>
    /// Whether this node's clock can hold <paramref name="replica"/>'s lease: not when the voters whose clocks run faster
    /// than ours, or whose rates are not measured yet (in either configuration of a joint change), could elect a new
    /// leader without this node.
    /// </summary>
    private bool ClockFitForLease(Replica replica)
    {
        if (_transport is not IPeerClocks)
        {
            return true; // nothing to compare with: the lease rests on the drift margin alone
        }

        lock (_fasterClocks)
        {
            if (CouldElectWithoutUs(replica.ConfState.Voters) || CouldElectWithoutUs(replica.ConfState.VotersOutgoing))
            {
                Interlocked.Increment(ref _leaseClockRefusals);
                return false;
            }

            return true;
        }
    }

    // Runs for every awake leader replica at every step: a plain loop, no allocation.
    private bool CouldElectWithoutUs(IReadOnlyList<ulong> voters)
    {
        int possiblyFaster = 0;
        for (int i = 0; i < voters.Count; i++)
        {
            ulong voter = voters[i];
            if (voter != NodeId && (_fasterClocks.Contains(voter) || !_measuredClocks.Contains(voter)))
            {
                possiblyFaster++;
            }
        }

        return voters.Count > 0 && possiblyFaster >= (voters.Count / 2) + 1;
    }
}
