namespace Strata.Cli.Chaos;

/// <summary>
/// One fault of a run's plan, chosen before the run from the seed alone.
/// </summary>
/// <param name="Number">1-based position in the plan.</param>
/// <param name="Kind">What is done to the node.</param>
/// <param name="AfterOperations">The fault starts once this many operations were started; operations past it wait until the scheduler takes it up.</param>
/// <param name="AtLeader">Aim at the node that leads the shard of the run's bucket when the fault starts (else at <paramref name="NodeIndex"/>); ignored by a join (it adds a node) and a transfer (always the bucket's shard leader).</param>
/// <param name="NodeIndex">The node (0-based index) hit when not aiming at the leader, or when no leader is seen.</param>
/// <param name="Duration">How long the node stays killed (before its restart) or paused (before SIGCONT), or the partition lasts; for a crash point, the window in which the armed node must die there (else it is killed); zero for a membership change (it lasts until it is done).</param>
/// <param name="Salt">For a partition, the seeded choice of the other nodes' sides (see <see cref="NetworkCut.Plan"/>); for a transfer, the seeded choice of the voter that should take over; for a clock skew, its rate and offset (<see cref="ClockSkew.Of"/>); for a crash point, the point and hit armed (<see cref="ArmedCrashPoint.Of"/>); 0 otherwise.</param>
internal sealed record PlannedFault(int Number, FaultKind Kind, int AfterOperations, bool AtLeader, int NodeIndex, TimeSpan Duration, int Salt = 0);

/// <summary>
/// The seeded fault plan of a chaos run: <see cref="ChaosOptions.PlannedFaults"/> faults spread evenly over the
/// operations (fault k of F starts after k·ops/(F+1) operations), kinds taken in rounds that use every requested
/// kind once in a seeded order, half of them aimed at the bucket's shard leader.
/// </summary>
/// <remarks>
/// Durations: a killed node stays down 0.5–2 s before it is restarted over its data; a paused node stays stopped
/// 2–3 s, at least twice the longest election timeout of a node (10 ticks of 50 ms, randomised up to 1 s), so the
/// other replicas elect a new leader and the paused one wakes up a deposed leader with a stale view and an expired
/// lease. A partition or a clock skew lasts 3–5 s: the side without a majority loses its leader (check-quorum) and the majority
/// elects one, with time left to serve under the partition. The same seed and options always give the same plan
/// (a plan of kills and pauses only is the same as before partitions existed, and a plan without membership changes
/// is the same as before they existed). A membership change (<see cref="FaultKind.Join"/>,
/// <see cref="FaultKind.Decommission"/>, <see cref="FaultKind.Transfer"/>) has no duration: it lasts until the cluster
/// has done it; its node and target are chosen when it starts, from the plan's draws (<see cref="MembershipPlan"/>).
/// A crash point (<see cref="FaultKind.CrashPoint"/>) has a window of 6–10 s: once the armed node answers again (its
/// restart may take up to another window) it must reach its point's hit within it, or it is killed and the timeline
/// says it did not fire. A failed fsync (<see cref="FaultKind.SyncFailure"/>) and a flipped bit
/// (<see cref="FaultKind.BitFlip"/>) have the same window.
/// </remarks>
internal static class FaultPlan
{
    private static readonly TimeSpan KillDownMin = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan KillDownMax = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan PauseMin = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan PauseMax = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan PartitionMin = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan PartitionMax = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CrashWindowMin = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan CrashWindowMax = TimeSpan.FromSeconds(10);

    public static IReadOnlyList<PlannedFault> Create(ChaosOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int count = options.PlannedFaults;
        var random = new Random(unchecked((options.Seed * 31) + 17));
        var plan = new List<PlannedFault>(count);
        var round = new List<FaultKind>();
        for (int k = 1; k <= count; k++)
        {
            if (round.Count == 0)
            {
                round.AddRange(options.Faults);
                Shuffle(round, random);
            }

            FaultKind kind = round[0];
            round.RemoveAt(0);
            bool atLeader = random.NextDouble() < 0.5;
            int node = random.Next(options.Nodes);
            (TimeSpan min, TimeSpan max) = kind switch
            {
                FaultKind.Kill or FaultKind.PowerLoss => (KillDownMin, KillDownMax),
                FaultKind.Pause => (PauseMin, PauseMax),
                FaultKind.CrashPoint or FaultKind.SyncFailure or FaultKind.BitFlip => (CrashWindowMin, CrashWindowMax),
                _ => (PartitionMin, PartitionMax),
            };
            TimeSpan duration = min + ((max - min) * random.NextDouble());
            duration = ChaosOptions.IsMembership(kind) ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Round(duration.TotalMilliseconds));
            int after = (int)((long)k * options.Operations / (count + 1));
            // Drawn only for the kinds that use it, so that plans of kills and pauses stay what they were for a seed.
            int salt = ChaosOptions.IsPartition(kind) || kind is FaultKind.Transfer or FaultKind.Skew || ChaosOptions.IsWatchedRestart(kind) ? random.Next() : 0;
            plan.Add(new PlannedFault(k, kind, after, atLeader, node, duration, salt));
        }

        return plan;
    }

    private static void Shuffle(List<FaultKind> kinds, Random random)
    {
        for (int i = kinds.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (kinds[i], kinds[j]) = (kinds[j], kinds[i]);
        }
    }
}
