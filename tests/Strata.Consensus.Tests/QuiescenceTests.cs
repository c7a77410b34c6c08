namespace Strata.Consensus.Tests;

/// <summary>
/// When a leader may stop heartbeating: not before every member knows what is committed. Found by the release gate
/// (membership seed 44 at 523b79d): a joining node's meta learner held the last map entry but had not been told it was
/// committed when the meta leader quiesced, so it never applied it, never created the replica the entry moved to it,
/// and the move waited for it forever.
/// </summary>
public sealed class QuiescenceTests
{
    /// <summary>
    /// Replicates <paramref name="data"/> from leader 1 while every message from 1 to <paramref name="member"/> that
    /// would tell it the new entry is committed is lost; the member still gets and acknowledges the entry.
    /// </summary>
    private static void ProposeHidingTheCommitFrom(TestCluster c, ulong member, string data)
    {
        ulong index = c[1].LastIndex + 1;
        c.Filter = m => !(m.From == 1 && m.To == member && m.Commit >= index);
        c.Propose(1, data);
        c.Filter = null;
    }

    [Fact]
    public void A_leader_whose_follower_holds_every_entry_but_not_the_commit_keeps_heartbeating_until_it_does()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Propose(1, "x");
        c.TickAll(2);
        Assert.True(c[1].MembersKnowCommit(_ => false));

        ProposeHidingTheCommitFrom(c, 3, "y");

        Assert.Equal(c[1].LastIndex, c[1].ProgressOf(3)!.Match); // node 3 holds every entry...
        Assert.True(c[3].Committed < c[3].LastIndex);            // ...but does not know the last one is committed
        Assert.Equal(["x"], c.Applied[3]);
        Assert.True(c[1].IsIdle);                                // what the leader used to quiesce on
        Assert.False(c[1].MembersKnowCommit(_ => false));
        Assert.True(c[1].MembersKnowCommit(id => id == 3));      // unless node 3 cannot be reached now

        c.Tick(1); // one heartbeat round

        Assert.Equal(["x", "y"], c.Applied[3]);
        Assert.True(c[1].MembersKnowCommit(_ => false));
        Assert.Equal(c[1].Committed, c[1].ProgressOf(3)!.KnownCommit);
    }

    [Fact]
    public void A_learner_that_missed_the_commit_is_told_it_before_its_leader_may_quiesce()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Start(4, new MemoryRaftLog());
        c[1].ProposeConfChange(ConfChange.AddLearner(4));
        c.Stabilize();
        c.TickAll(2);
        Assert.Equal([4UL], c[1].ConfState.Learners);

        ProposeHidingTheCommitFrom(c, 4, "move shard 2 to node 4");

        Assert.True(c[1].IsIdle);
        Assert.False(c[1].MembersKnowCommit(_ => false));
        Assert.DoesNotContain("move shard 2 to node 4", c.Applied[4]);

        c.Tick(1);

        Assert.Contains("move shard 2 to node 4", c.Applied[4]);
        Assert.True(c[1].MembersKnowCommit(_ => false));
    }

    [Fact]
    public void A_member_that_reports_knowing_less_than_it_said_before_is_believed()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Propose(1, "x");
        c.TickAll(2);
        ulong committed = c[1].Committed;
        Assert.Equal(committed, c[1].ProgressOf(2)!.KnownCommit);

        // A heartbeat response from a replica that restarted without the commit index it had reported.
        c[1].Step(new Message { GroupId = 0, Type = MessageType.HeartbeatResponse, From = 2, To = 1, Term = c[1].Term, Commit = committed - 1 });

        Assert.Equal(committed - 1, c[1].ProgressOf(2)!.KnownCommit);
        Assert.False(c[1].MembersKnowCommit(_ => false));
        c.Stabilize();
        c.Tick(1);
        Assert.True(c[1].MembersKnowCommit(_ => false));
    }

    [Fact]
    public void Only_a_leader_has_members_to_wait_for()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        ProposeHidingTheCommitFrom(c, 3, "y");

        Assert.True(c[2].MembersKnowCommit(_ => false));
        Assert.True(c[3].MembersKnowCommit(_ => false));
        Assert.Throws<ArgumentNullException>(() => c[1].MembersKnowCommit(null!));
    }
}
