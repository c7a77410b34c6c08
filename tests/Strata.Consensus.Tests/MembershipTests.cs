namespace Strata.Consensus.Tests;

/// <summary>Joint consensus, learners and leadership transfer.</summary>
public sealed class MembershipTests
{
    private static void AddNode(TestCluster c, ulong id) => c.Start(id, new MemoryRaftLog());

    [Fact]
    public void A_learner_catches_up_but_does_not_count_toward_the_quorum_until_promoted()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Propose(1, "before");
        AddNode(c, 4);

        Assert.Equal(ProposalOutcome.Appended, c[1].ProposeConfChange(ConfChange.AddLearner(4)));
        c.Stabilize();
        c.TickAll(2);

        Assert.Equal([4UL], c[1].ConfState.Learners);
        Assert.Equal(["before"], c.Applied[4]); // caught up from the log

        // With two voters cut off, the learner's copy does not make a quorum.
        c.Isolate(2);
        c.Isolate(3);
        c.Propose(1, "needs-voters");
        Assert.Equal(["before"], c.Applied[1]);
        c.Heal();
        c.TickAll(2);

        c[1].ProposeConfChange(ConfChange.AddVoter(4));
        c.Stabilize();
        Assert.Equal([1UL, 2, 3, 4], c[1].ConfState.Voters);
        Assert.Empty(c[1].ConfState.Learners);
        Assert.All(c.Nodes.Values, n => Assert.Equal(c[1].ConfState.Voters, n.ConfState.Voters));
    }

    [Fact]
    public void Replacing_voters_goes_through_a_joint_configuration_that_is_left_automatically()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        AddNode(c, 4);
        AddNode(c, 5);

        var change = new ConfChange(ConfChangeTransition.Auto,
            [new(ConfChangeType.AddVoter, 4), new(ConfChangeType.AddVoter, 5), new(ConfChangeType.Remove, 3)]);
        Assert.Equal(ProposalOutcome.Appended, c[1].ProposeConfChange(change));
        c.Stabilize();
        c.TickAll(2);

        var cs = c[1].ConfState;
        Assert.False(cs.IsJoint);
        Assert.Equal([1UL, 2, 4, 5], cs.Voters);
        Assert.All([c[2], c[4], c[5]], n => Assert.Equal(cs.Voters, n.ConfState.Voters));
        c.Propose(1, "new config works");
        Assert.Equal(["new config works"], c.Applied[5]);
    }

    [Fact]
    public void An_explicit_joint_configuration_stays_until_left_and_needs_both_majorities()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        AddNode(c, 4);

        var change = new ConfChange(ConfChangeTransition.JointExplicit,
            [new(ConfChangeType.AddVoter, 4), new(ConfChangeType.AddLearner, 3)]);
        c[1].ProposeConfChange(change);
        c.Stabilize();
        c.TickAll(2);

        var joint = c[1].ConfState;
        Assert.True(joint.IsJoint);
        Assert.Equal([1UL, 2, 4], joint.Voters);
        Assert.Equal([1UL, 2, 3], joint.VotersOutgoing);
        Assert.Equal([3UL], joint.LearnersNext);

        // {1, 4} is a majority of the incoming config but not of the outgoing one: nothing commits.
        c.Isolate(2);
        c.Isolate(3);
        c.Propose(1, "blocked");
        Assert.Empty(c.Applied[1]);
        c.Heal();
        c.TickAll(2);
        Assert.Equal(["blocked"], c.Applied[1]);

        Assert.Equal(ProposalOutcome.Appended, c[1].ProposeConfChange(ConfChange.LeaveJoint));
        c.Stabilize();
        c.TickAll(1);
        var final = c[1].ConfState;
        Assert.False(final.IsJoint);
        Assert.Equal([1UL, 2, 4], final.Voters);
        Assert.Equal([3UL], final.Learners);
    }

    [Fact]
    public void Only_one_membership_change_may_be_pending_and_invalid_changes_are_refused()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolate(2);
        c.Isolate(3);

        Assert.Equal(ProposalOutcome.Appended, c[1].ProposeConfChange(ConfChange.AddLearner(4)));
        Assert.Equal(ProposalOutcome.DroppedConfChange, c[1].ProposeConfChange(ConfChange.AddLearner(5)));
        c.Heal();
        c.TickAll(2);

        Assert.Equal(ProposalOutcome.DroppedConfChange, c[1].ProposeConfChange(ConfChange.LeaveJoint)); // not joint
        var twoVoters = new ConfChange(ConfChangeTransition.Auto, [new(ConfChangeType.Remove, 2)]);
        Assert.Equal(ProposalOutcome.Appended, c[1].ProposeConfChange(twoVoters));
    }

    [Fact]
    public void A_removed_leader_steps_down_and_the_rest_elect_a_new_one()
    {
        var c = new TestCluster(3);
        c.Elect(1);

        c[1].ProposeConfChange(ConfChange.Remove(1));
        c.Stabilize();

        Assert.Equal(StateRole.Follower, c[1].Role);
        Assert.Equal([2UL, 3], c[2].ConfState.Voters);
        c.Nodes.Remove(1);
        c.TickAll(30);
        Assert.Contains(c.Nodes.Values, n => n.Role == StateRole.Leader);
    }

    [Fact]
    public void Leadership_transfer_makes_the_target_leader_without_waiting_for_a_timeout()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Propose(1, "x");

        Assert.Equal(ProposalOutcome.Appended, c[1].TransferLeader(3));
        c.Stabilize();

        Assert.Equal(StateRole.Leader, c[3].Role);
        Assert.Equal(3UL, c[1].Leader);
        c.Propose(3, "from the new leader");
        Assert.Equal(["x", "from the new leader"], c.Applied[1]);
    }

    [Fact]
    public void A_transfer_to_a_lagging_follower_first_catches_it_up_and_proposals_wait()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolate(3);
        c.Propose(1, "x");

        c[1].TransferLeader(3);
        Assert.Equal(3UL, c[1].LeadTransferee);
        Assert.Equal(ProposalOutcome.DroppedTransferring, c[1].Propose("during transfer"u8.ToArray()));

        c.Heal();
        c.TickAll(2);
        Assert.Equal(StateRole.Leader, c[3].Role);
        Assert.Equal(["x"], c.Applied[3]);
    }

    [Fact]
    public void An_unfinished_transfer_is_abandoned_after_an_election_timeout()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolate(3);
        c.Propose(1, "x");

        c[1].TransferLeader(3);
        c.Tick(1, 10);

        Assert.Equal(0UL, c[1].LeadTransferee);
        Assert.Equal(StateRole.Leader, c[1].Role);
        Assert.Equal(ProposalOutcome.Appended, c[1].Propose("ok"u8.ToArray()));
    }

    [Fact]
    public void Conf_changes_round_trip_through_their_binary_encoding()
    {
        var change = new ConfChange(ConfChangeTransition.JointExplicit,
            [new(ConfChangeType.AddVoter, 7), new(ConfChangeType.Remove, ulong.MaxValue), new(ConfChangeType.AddLearner, 1)]);

        var decoded = ConfChange.Decode(change.Encode());

        Assert.Equal(change.Transition, decoded.Transition);
        Assert.Equal(change.Changes, decoded.Changes);
        Assert.True(ConfChange.Decode(ConfChange.LeaveJoint.Encode()).IsLeaveJoint);
        Assert.Throws<FormatException>(() => ConfChange.Decode(new byte[] { 0, 1, 0 }));
    }
}
