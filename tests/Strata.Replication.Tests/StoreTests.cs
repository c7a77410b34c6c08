using System.Text;
using Strata.Consensus;
using Strata.Storage;

namespace Strata.Replication.Tests;

/// <summary>Three stores over the in-memory network, many groups each, driven step by step.</summary>
public sealed class StoreTests
{
    private static ReadOnlyMemory<byte> Command(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Proposes <paramref name="perGroup"/> commands to every group at its leader; returns them.</summary>
    private static List<(ulong Group, string Command)> ProposeEverywhere(StoreCluster c, int perGroup, string tag)
    {
        var proposed = new List<(ulong, string)>();
        foreach (var g in c.GroupIds)
        {
            var leader = c.LeaderOf(g) ?? throw new InvalidOperationException($"group {g} has no leader");
            for (var i = 0; i < perGroup; i++)
            {
                var command = $"{tag}-g{g}-{i}";
                Assert.Equal(ProposalOutcome.Appended, c[leader].Propose(g, Command(command)));
                proposed.Add((g, command));
            }
        }

        return proposed;
    }

    private static bool AppliedEverywhere(StoreCluster c, IEnumerable<(ulong Group, string Command)> commands) =>
        c.NodeIds.Where(n => !c.Down.Contains(n)).All(n => commands.All(p => c.Machines[n].Commands(p.Group).Contains(p.Command)));

    private static void AssertSameHistoryEverywhere(StoreCluster c)
    {
        foreach (var g in c.GroupIds)
        {
            var reference = c.Machines[c.NodeIds[0]].Commands(g);
            Assert.Equal(reference.Count, reference.Distinct().Count()); // each command applied once
            foreach (var n in c.NodeIds.Skip(1))
            {
                Assert.Equal(reference, c.Machines[n].Commands(g));
            }
        }
    }

    [Fact]
    public void Elects_leaders_and_replicates_proposals_to_every_node()
    {
        using var c = new StoreCluster(nodes: 3, groups: 60);
        c.RunUntil(c.AllGroupsHaveLeaders, 400, "every group elects a leader");
        var proposed = ProposeEverywhere(c, 3, "a");
        c.RunUntil(() => AppliedEverywhere(c, proposed), 100, "every proposal applied on every node");
        AssertSameHistoryEverywhere(c);
        Assert.All(c.GroupIds, g => Assert.Equal(3, c.Machines[1].Commands(g).Count));
        Assert.True(c.NodeIds.All(n => c[n].Writer.Flushes > 0));
    }

    [Fact]
    public void Idle_groups_quiesce_stop_ticking_and_heartbeating_and_wake_on_a_proposal()
    {
        using var c = new StoreCluster(nodes: 3, groups: 60);
        c.RunUntil(c.AllGroupsHaveLeaders, 400, "every group elects a leader");
        var proposed = ProposeEverywhere(c, 2, "q");
        c.RunUntil(() => AppliedEverywhere(c, proposed), 100, "applied");
        c.RunUntil(() => c.NodeIds.All(n => c[n].AwakeCount == 0), 100, "every group quiesces");
        Assert.All(c.NodeIds, n => Assert.All(c[n].Replicas, r => Assert.True(r.IsQuiesced)));

        var ticks = c.NodeIds.SelectMany(n => c[n].Replicas.Select(r => (n, r.GroupId, r.TicksDelivered))).ToList();
        var heartbeats = c.NodeIds.Select(n => c[n].HeartbeatsSent).ToList();
        var flushes = c.NodeIds.Select(n => c[n].Writer.Flushes).ToList();
        var beats = c.NodeIds.Select(n => c[n].LivenessBeatsSent).ToList();
        c.Run(60);
        Assert.Equal(ticks, c.NodeIds.SelectMany(n => c[n].Replicas.Select(r => (n, r.GroupId, r.TicksDelivered))).ToList());
        Assert.Equal(heartbeats, c.NodeIds.Select(n => c[n].HeartbeatsSent).ToList());
        Assert.Equal(flushes, c.NodeIds.Select(n => c[n].Writer.Flushes).ToList()); // idle: no writes, no fsyncs
        Assert.All(c.NodeIds, n => Assert.InRange(c[n].LivenessBeatsSent - beats[(int)n - 1], 2 * 20, 2 * 31)); // one beat per peer per 2 ticks
        Assert.All(c.NodeIds, n => Assert.All(c.NodeIds.Where(p => p != n), p => Assert.False(c[n].IsSuspected(p))));

        // A proposal wakes its group only.
        var group = c.GroupIds[17];
        var leader = c.LeaderOf(group)!.Value;
        Assert.Equal(ProposalOutcome.Appended, c[leader].Propose(group, Command("wake")));
        c.RunUntil(() => AppliedEverywhere(c, [(group, "wake")]), 30, "the woken group applies the proposal");
        c.RunUntil(() => c.NodeIds.All(n => c[n].AwakeCount == 0), 50, "it quiesces again");
        foreach (var (n, g, before) in ticks)
        {
            var after = c[n].Find(g)!.TicksDelivered;
            if (g == group)
            {
                Assert.True(after > before);
            }
            else
            {
                Assert.Equal(before, after);
            }
        }

        AssertSameHistoryEverywhere(c);
    }

    [Fact]
    public void A_lagging_node_catches_up_through_frames_no_larger_than_the_limit()
    {
        // Small messages and frames so that a catch-up burst (many append messages per group, four groups, one step)
        // is many times the frame limit: it must travel as several frames, none over the limit, and arrive.
        const int FrameLimit = 32 << 10;
        using var c = new StoreCluster(nodes: 3, groups: 4, (_, o) => o with { MaxSizePerMessage = 16 << 10, MaxFrameBytes = FrameLimit, CompactionThreshold = 0 });
        c.RunUntil(c.AllGroupsHaveLeaders, 400, "every group elects a leader");
        c.Crash(3);
        c.RunUntil(c.AllGroupsHaveLeaders, 400, "every group has a leader without node 3");
        var acknowledged = new List<(ulong Group, string Command)>();
        var padding = new string('p', 1_000);
        foreach (var g in c.GroupIds)
        {
            var leader = c.LeaderOf(g)!.Value;
            for (var i = 0; i < 200; i++)
            {
                var command = $"lag-g{g}-{i}-{padding}";
                Assert.Equal(ProposalOutcome.Appended, c[leader].Propose(g, Command(command)));
                acknowledged.Add((g, command));
            }
        }

        c.RunUntil(() => AppliedEverywhere(c, acknowledged), 300, "applied by nodes 1 and 2");
        c.StartNode(3);
        c.RunUntil(() => AppliedEverywhere(c, acknowledged), 600, "node 3 catches up");
        AssertSameHistoryEverywhere(c);

        // One message can exceed the budget only by its own size (at most 16 KiB of entries here); frames of several
        // messages stay within it.
        Assert.InRange(c.Network.LargestFrame, 1, FrameLimit + (2 << 10));
    }

    [Fact]
    public void A_crashed_node_recovers_its_log_and_catches_up_and_no_acknowledged_proposal_is_lost()
    {
        using var c = new StoreCluster(nodes: 3, groups: 50);
        c.RunUntil(c.AllGroupsHaveLeaders, 400, "every group elects a leader");
        var acknowledged = ProposeEverywhere(c, 4, "before");
        c.RunUntil(() => AppliedEverywhere(c, acknowledged), 100, "acknowledged before the crash");
        c.Run(3); // some groups quiesce, some not: the crash hits both
        var before = c[3].Replicas.ToDictionary(r => r.GroupId, r => (r.Log.LastIndex, r.Log.HardState));

        c.Crash(3);
        foreach (var (group, (lastIndex, hardState)) in before)
        {
            // Everything node 3 acknowledged was fsynced: the recovered log has every entry, its term and its vote. The
            // commit index may be older (a batch that only moves it is not fsynced), never newer.
            var log = DurableRaftLog.Open(c.Engine(3), group);
            Assert.Equal(lastIndex, log.LastIndex);
            Assert.Equal(hardState.Term, log.HardState.Term);
            Assert.Equal(hardState.Vote, log.HardState.Vote);
            Assert.InRange(log.HardState.Commit, 0UL, hardState.Commit);
        }

        // Groups that node 3 led elect a new leader once nodes 1 and 2 suspect it.
        c.RunUntil(c.AllGroupsHaveLeaders, 400, "every group has a leader without node 3");
        Assert.True(c[1].IsSuspected(3));
        var during = ProposeEverywhere(c, 3, "during");
        acknowledged.AddRange(during);
        c.RunUntil(() => AppliedEverywhere(c, during), 100, "acknowledged while node 3 is down");

        c.StartNode(3);
        Assert.All(c[3].Replicas, r =>
        {
            Assert.Equal(before[r.GroupId].LastIndex, r.Log.LastIndex);
            Assert.Equal(before[r.GroupId].HardState.Term, r.Term);
        });
        c.RunUntil(() => AppliedEverywhere(c, acknowledged), 300, "node 3 catches up");
        var after = ProposeEverywhere(c, 1, "after");
        acknowledged.AddRange(after);
        c.RunUntil(() => AppliedEverywhere(c, after), 100, "the cluster keeps going with node 3");
        AssertSameHistoryEverywhere(c);
        Assert.All(c.GroupIds, g => Assert.Equal(8, c.Machines[3].Commands(g).Count));
        c.RunUntil(() => c.NodeIds.All(n => c[n].AwakeCount == 0), 100, "everything quiesces again");
    }

    /// <summary>
    /// Regression (release gate, membership seed 44 at 523b79d): the frames telling a member that the entry it holds is
    /// committed are lost until after the leader could have quiesced. The leader must keep heartbeating until the
    /// member says it knows; before the fix it quiesced, and a learner in that place never applied the entry.
    /// </summary>
    [Fact]
    public void A_leader_keeps_heartbeating_until_a_member_holding_every_entry_knows_they_are_committed()
    {
        using var c = new StoreCluster(nodes: 3, groups: 1);
        c.RunUntil(c.AllGroupsHaveLeaders, 400, "the group elects a leader");
        var g = c.GroupIds[0];
        var leader = c.LeaderOf(g)!.Value;
        var member = c.NodeIds.First(n => n != leader);
        c.RunUntil(() => c.NodeIds.All(n => c[n].AwakeCount == 0), 100, "the group quiesces");
        var term = c[leader].Find(g)!.Term;
        var index = c[leader].Find(g)!.Committed + 1;
        c.Network.Lose = (from, to, frame) => from == leader && to == member && !NodeMessageBatchCodec.TryReadBeat(frame.Span, out _, out _)
            && NodeMessageBatchCodec.Decode(frame).Messages.Any(m => m.GroupId == g && m.Commit >= index);

        Assert.Equal(ProposalOutcome.Appended, c[leader].Propose(g, Command("told late")));
        c.Run(2 * c[leader].Options.MinAwakeTicks);

        Assert.True(c[leader].Find(g)!.Committed >= index);
        Assert.True(c[leader].Find(g)!.MatchOf(member) >= index, "the member holds the entry");
        Assert.True(c[member].Find(g)!.Committed < index, "the member was not told it is committed");
        Assert.False(c[leader].Find(g)!.IsQuiesced, "the leader quiesced before the member knew the commit index");
        Assert.False(c[leader].IsSuspected(member));

        c.Network.Lose = null;
        c.RunUntil(() => c.Machines[member].Commands(g).Contains("told late"), 5, "the member learns the commit from the next heartbeat");
        c.RunUntil(() => c.NodeIds.All(n => c[n].AwakeCount == 0), 50, "then the group quiesces");
        Assert.Equal(term, c[leader].Find(g)!.Term); // no election was needed to find out
    }

    [Fact]
    public void Quiesced_followers_elect_a_new_leader_when_the_leaders_node_fails()
    {
        using var c = new StoreCluster(nodes: 3, groups: 30);
        c.RunUntil(c.AllGroupsHaveLeaders, 400, "every group elects a leader");
        c.RunUntil(() => c.NodeIds.All(n => c[n].AwakeCount == 0), 100, "every group quiesces");
        var ledByOne = c.GroupIds.Where(g => c.LeaderOf(g) == 1).ToList();
        Assert.NotEmpty(ledByOne);

        c.Crash(1);
        c.RunUntil(c.AllGroupsHaveLeaders, 300, "groups led by node 1 elect a leader on nodes 2 and 3");
        Assert.All(ledByOne, g => Assert.NotEqual(1UL, c.LeaderOf(g)));
        var proposed = ProposeEverywhere(c, 1, "x");
        c.RunUntil(() => AppliedEverywhere(c, proposed), 100, "the survivors commit");
    }

    [Fact]
    public void A_partitioned_node_loses_its_quiesced_groups_and_they_converge_when_the_partition_heals()
    {
        using var c = new StoreCluster(nodes: 3, groups: 30);
        c.RunUntil(c.AllGroupsHaveLeaders, 400, "every group elects a leader");
        c.RunUntil(() => c.NodeIds.All(n => c[n].AwakeCount == 0), 100, "every group quiesces");
        var ledByOne = c.GroupIds.Where(g => c.LeaderOf(g) == 1).ToList();
        Assert.NotEmpty(ledByOne);

        c.Network.Cut(1, 2);
        c.Network.Cut(1, 3);
        bool MajorityLeads(ulong g) => c.NodeIds.Count(n => n != 1 && c[n].Find(g)!.Role == StateRole.Leader) == 1;
        c.RunUntil(() => ledByOne.All(MajorityLeads), 300, "the majority side elects leaders for node 1's groups");
        var proposed = ledByOne.Select(g => (g, $"majority-{g}")).ToList();
        foreach (var (g, command) in proposed)
        {
            var leader = c.NodeIds.First(n => n != 1 && c[n].Find(g)!.Role == StateRole.Leader);
            Assert.Equal(ProposalOutcome.Appended, c[leader].Propose(g, Command(command)));
        }

        c.Run(30);
        Assert.All(proposed, p => Assert.DoesNotContain(p.Item2, c.Machines[1].Commands(p.g)));

        c.Network.Cut(1, 2, cut: false);
        c.Network.Cut(1, 3, cut: false);
        c.RunUntil(() => AppliedEverywhere(c, proposed), 300, "node 1 learns the new leaders and catches up");
        c.RunUntil(c.AllGroupsHaveLeaders, 100, "one leader per group");
        Assert.All(ledByOne, g => Assert.NotEqual(1UL, c.LeaderOf(g)));
        AssertSameHistoryEverywhere(c);
        c.RunUntil(() => c.NodeIds.All(n => c[n].AwakeCount == 0), 100, "everything quiesces again");
    }

    [Fact]
    public void Compacted_logs_catch_a_restarted_node_up_with_a_snapshot()
    {
        using var c = new StoreCluster(nodes: 3, groups: 6, (_, o) => o with { CompactionThreshold = 8, MaxCachedEntriesPerGroup = 4 });
        c.RunUntil(c.AllGroupsHaveLeaders, 400, "every group elects a leader");
        c.Crash(3);
        c.RunUntil(c.AllGroupsHaveLeaders, 400, "leaders without node 3");
        var acknowledged = new List<(ulong, string)>();
        for (var round = 0; round < 10; round++)
        {
            var batch = ProposeEverywhere(c, 3, $"r{round}");
            acknowledged.AddRange(batch);
            c.RunUntil(() => AppliedEverywhere(c, batch), 100, "applied");
        }

        c.Run(2); // the compactions staged after the last apply are written
        Assert.All(c.GroupIds, g => Assert.True(c[c.LeaderOf(g)!.Value].Find(g)!.Log.FirstIndex > 10));
        Assert.True(c[1].Compactions > 0);

        c.StartNode(3);
        c.RunUntil(() => AppliedEverywhere(c, acknowledged), 300, "node 3 catches up from snapshots");
        Assert.True(c.Machines[3].Restores > c.GroupIds.Length); // beyond the bootstrap snapshots
        Assert.All(c[3].Replicas, r => Assert.True(r.Log.SnapshotMetadata.Index > 1));
        AssertSameHistoryEverywhere(c);

        // And node 3 restarts from its own compacted log.
        c.Crash(3);
        c.StartNode(3);
        c.RunUntil(() => AppliedEverywhere(c, acknowledged), 100, "node 3 rebuilt from its own snapshot and log");
        AssertSameHistoryEverywhere(c);
    }

    [Fact]
    public void A_durable_state_machine_is_not_fed_twice_and_membership_changes_after_the_snapshot_survive_a_restart()
    {
        using var c = new StoreCluster(nodes: 3, groups: 4, (_, o) => o with { CompactionThreshold = 6 });
        c.RunUntil(c.AllGroupsHaveLeaders, 400, "every group elects a leader");
        var first = ProposeEverywhere(c, 8, "a"); // past the compaction threshold: every log has a snapshot
        c.RunUntil(() => AppliedEverywhere(c, first), 100, "applied");
        c.Run(2);
        foreach (var g in c.GroupIds)
        {
            // A learner on a node that does not exist yet: a membership change after the snapshot.
            Assert.Equal(ProposalOutcome.Appended, c[c.LeaderOf(g)!.Value].ProposeConfChange(g, ConfChange.AddLearner(9)));
        }

        var second = ProposeEverywhere(c, 2, "b");
        c.RunUntil(() => AppliedEverywhere(c, second), 100, "applied after the membership change");
        Assert.All(c[3].Replicas, r =>
        {
            Assert.Contains(9UL, r.ConfState.Learners);
            Assert.True(r.Log.SnapshotMetadata.Index > 1);
            Assert.DoesNotContain(9UL, r.Log.SnapshotMetadata.ConfState.Learners);
            Assert.True(r.Applied > r.Log.SnapshotMetadata.Index);
        });

        c.Crash(3);
        c.StartNode(3, keepStateMachine: true); // applied index ahead of the log's snapshot
        // The durable commit index may predate the membership change (commit-only writes are not fsynced); the node
        // learns it again from the group and re-applies the change to its core, while RecordingStateMachine.Apply
        // asserts that no entry reaches the state machine twice or out of order.
        c.RunUntil(() => c[3].Replicas.All(r => r.ConfState.Learners.Contains(9UL)), 200,
            "the restarted node re-learns the commit index and re-applies the membership change");
        c.RunUntil(c.AllGroupsHaveLeaders, 400, "leaders after the restart");
        var third = ProposeEverywhere(c, 1, "c");
        c.RunUntil(() => AppliedEverywhere(c, third), 100, "applied after the restart");
        AssertSameHistoryEverywhere(c);
    }

    [Fact]
    public void A_failed_fsync_stops_the_store_before_anything_is_sent()
    {
        using var c = new StoreCluster(nodes: 3, groups: 10);
        c.RunUntil(c.AllGroupsHaveLeaders, 400, "every group elects a leader");
        var group = c.GroupIds.First(g => c.LeaderOf(g) == 1);
        Assert.Equal(ProposalOutcome.Appended, c[1].Propose(group, Command("doomed")));
        var frames = c.NodeIds.Select(n => c.Network.FramesSent(1, n)).ToList();
        ((InMemoryKvEngine)c.Engine(1)).FailNextSync();

        Assert.Throws<StorageFailureException>(() => c[1].Step());
        Assert.True(c[1].IsStopped);
        Assert.True(c[1].Writer.IsFailed);
        Assert.Equal(frames, c.NodeIds.Select(n => c.Network.FramesSent(1, n)).ToList());
        Assert.Throws<InvalidOperationException>(() => c[1].Step());
        Assert.Throws<InvalidOperationException>(() => c[1].Propose(group, Command("more")));
        Assert.DoesNotContain("doomed", c.Machines[1].Commands(group));

        // The process restarts; the group carries on (the unacknowledged proposal may or may not survive).
        c.Crash(1);
        c.StartNode(1);
        c.RunUntil(c.AllGroupsHaveLeaders, 400, "leaders after the restart");
        var proposed = ProposeEverywhere(c, 1, "later");
        c.RunUntil(() => AppliedEverywhere(c, proposed), 100, "applied after the restart");
        AssertSameHistoryEverywhere(c);
    }

    [Fact]
    public void A_corrupt_log_record_stops_the_leader_and_is_never_sent_and_the_group_recovers_from_a_healthy_replica()
    {
        using var c = new StoreCluster(nodes: 3, groups: 1, (_, o) => o with { CompactionThreshold = 0, MaxCachedEntriesPerGroup = 1 });
        var group = c.GroupIds[0];
        c.RunUntil(c.AllGroupsHaveLeaders, 400, "a leader");
        var leader = c.LeaderOf(group)!.Value;
        var lagging = c.NodeIds.First(n => n != leader);
        var healthy = c.NodeIds.First(n => n != leader && n != lagging);
        c.Crash(lagging);
        var proposed = Enumerable.Range(0, 20).Select(i => (group, $"p{i}")).ToList();
        foreach (var (_, command) in proposed)
        {
            c[leader].Propose(group, Command(command));
        }

        c.RunUntil(() => AppliedEverywhere(c, proposed), 100, "applied on the leader and the healthy follower");
        var damagedIndex = c[leader].Find(group)!.Log.LastIndex - 10;
        var damagedCommand = Encoding.UTF8.GetString(c[leader].Find(group)!.Log.Entries(damagedIndex, damagedIndex + 1, ulong.MaxValue)[0].Data.Span);
        var key = RaftLogKeys.Entry(group, damagedIndex);
        var record = c.Engine(leader).Get(KvColumn.RaftLog, key)!;
        record[^1] ^= 0x08; // bit rot under the leader's copy only
        using (var batch = c.Engine(leader).CreateBatch())
        {
            batch.Put(KvColumn.RaftLog, key, record);
            c.Engine(leader).Write(batch, sync: true);
        }

        c.StartNode(lagging);
        CorruptionException? failure = null;
        for (var i = 0; i < 100 && failure is null; i++)
        {
            try
            {
                c.Step();
            }
            catch (CorruptionException e)
            {
                failure = e;
            }
        }

        Assert.NotNull(failure);
        Assert.True(c[leader].IsStopped);
        Assert.DoesNotContain(damagedCommand, c.Machines[lagging].Commands(group)); // never served
        c.Crash(leader);
        Assert.Throws<CorruptionException>(() => c.StartNode(leader)); // the damaged replica refuses to open

        // The healthy replica has an intact copy: it leads and catches the lagging one up.
        c.RunUntil(() => c.LeaderOf(group) is not null, 300, "a new leader among the intact replicas");
        c.RunUntil(() => proposed.All(p => c.Machines[lagging].Commands(group).Contains(p.Item2)), 200, "caught up from the intact copy");
        Assert.Equal(c.Machines[healthy].Commands(group), c.Machines[lagging].Commands(group));
    }

    [Fact]
    public void A_corrupted_frame_is_dropped_and_the_groups_recover_from_the_loss()
    {
        using var c = new StoreCluster(nodes: 3, groups: 20);
        c.RunUntil(c.AllGroupsHaveLeaders, 400, "every group elects a leader");
        c.Network.CorruptNextFrame(1, 2);
        c.Network.CorruptNextFrame(2, 3);
        var proposed = ProposeEverywhere(c, 2, "c");
        c.RunUntil(() => AppliedEverywhere(c, proposed), 200, "applied despite the lost frames");
        Assert.Equal(1, c[2].CorruptFramesDropped);
        Assert.Equal(1, c[3].CorruptFramesDropped);
        AssertSameHistoryEverywhere(c);
    }

    [Fact]
    public void A_cluster_on_RocksDB_survives_a_restart_of_every_node()
    {
        var root = Path.Combine(Path.GetTempPath(), "strata-repl-cluster-" + Path.GetRandomFileName());
        try
        {
            using (var c = new StoreCluster(3, 8, engineFor: n => RocksDbEngine.Open(Path.Combine(root, $"n{n}"))))
            {
                c.RunUntil(c.AllGroupsHaveLeaders, 400, "every group elects a leader");
                var acknowledged = ProposeEverywhere(c, 3, "rocks");
                c.RunUntil(() => AppliedEverywhere(c, acknowledged), 100, "applied");
                foreach (var n in c.NodeIds)
                {
                    c.Crash(n);
                }

                foreach (var n in c.NodeIds)
                {
                    c.StartNode(n);
                }

                c.RunUntil(() => AppliedEverywhere(c, acknowledged), 100, "re-applied from the recovered logs");
                c.RunUntil(c.AllGroupsHaveLeaders, 400, "leaders after the restart");
                var more = ProposeEverywhere(c, 1, "again");
                c.RunUntil(() => AppliedEverywhere(c, more), 100, "applied after the restart");
                AssertSameHistoryEverywhere(c);
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Creating_a_group_twice_is_refused()
    {
        var network = new InMemoryNetwork();
        using var engine = new InMemoryKvEngine();
        using var store = new Store(new StoreOptions { NodeId = 1 }, engine, network.Endpoint(1), new RecordingStateMachine());
        store.CreateGroup(5, new ConfState { Voters = [1] });
        Assert.Throws<InvalidOperationException>(() => store.CreateGroup(5, null));
        Assert.Throws<ArgumentException>(() => new Store(new StoreOptions { NodeId = 2 }, engine, network.Endpoint(1), new RecordingStateMachine()));
    }

    [Fact]
    public void A_destroyed_group_is_gone_from_the_engine_even_with_a_compaction_staged()
    {
        var network = new InMemoryNetwork();
        using var engine = new InMemoryKvEngine();
        var machine = new RecordingStateMachine();
        using (var store = new Store(new StoreOptions { NodeId = 1, CompactionThreshold = 2 }, engine, network.Endpoint(1), machine))
        {
            store.CreateGroups([(5, new ConfState { Voters = [1] }), (6, new ConfState { Voters = [1] })]);
            store.Campaign(5);
            store.Campaign(6);
            for (var i = 0; i < 5; i++)
            {
                store.Step();
            }

            for (var n = 0; n < 3; n++)
            {
                Assert.Equal(ProposalOutcome.Appended, store.Propose(5, Command($"five-{n}")));
                Assert.Equal(ProposalOutcome.Appended, store.Propose(6, Command($"six-{n}")));
                store.Step(tick: false);
                store.Step(tick: false);
            }

            // The last step staged compactions for the next batch; destroying must not let them bring group 5 back.
            Assert.True(store.Compactions > 0);
            Assert.True(store.DestroyGroup(5));
            Assert.False(store.DestroyGroup(5));
            Assert.Null(store.Find(5));
            Assert.Equal([5UL], machine.Destroyed);
            Assert.Throws<KeyNotFoundException>(() => store.Propose(5, Command("late")));
            for (var i = 0; i < 3; i++)
            {
                store.Step();
            }

            Assert.Equal(1, store.DestroyedGroups);
        }

        Assert.Equal([6UL], DurableRaftLog.ListGroups(engine));
        var (lower, upper) = RaftLogKeys.GroupRange(5);
        using (var cursor = engine.Scan(KvColumn.RaftLog, lower, upper))
        {
            cursor.SeekToFirst();
            Assert.False(cursor.Valid);
        }

        var reopened = new RecordingStateMachine();
        using var again = new Store(new StoreOptions { NodeId = 1 }, engine, network.Endpoint(1), reopened);
        Assert.Null(again.Find(5));
        Assert.NotNull(again.Find(6));
    }

    [Fact]
    public void A_single_node_group_commits_alone_and_quiesces()
    {
        var network = new InMemoryNetwork();
        using var engine = new InMemoryKvEngine();
        var machine = new RecordingStateMachine();
        using var store = new Store(new StoreOptions { NodeId = 1 }, engine, network.Endpoint(1), machine);
        store.CreateGroup(5, new ConfState { Voters = [1] });
        store.Campaign(5);
        for (var i = 0; i < 5 && store.Find(5)!.Role != StateRole.Leader; i++)
        {
            store.Step();
        }

        Assert.Equal(ProposalOutcome.Appended, store.Propose(5, Command("solo")));
        for (var i = 0; i < 10; i++)
        {
            store.Step();
        }

        Assert.Equal(["solo"], machine.Commands(5));
        Assert.Equal(0, store.AwakeCount);
        Assert.Equal(0, store.FramesSent);
    }
}
