namespace Strata.Consensus.Tests;

/// <summary>Linearizable reads: ReadIndex and leader leases, and quiescence.</summary>
public sealed class ReadTests
{
    private static readonly byte[] Ctx = "read-1"u8.ToArray();

    [Fact]
    public void ReadIndex_at_the_leader_answers_after_a_heartbeat_quorum_with_the_commit_index()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Propose(1, "x");

        c[1].ReadIndex(Ctx);
        c.Stabilize();

        var read = Assert.Single(c.Reads[1]);
        Assert.Equal(c[1].Committed, read.Index);
        Assert.Equal(Ctx, read.Context.ToArray());
    }

    [Fact]
    public void ReadIndex_is_not_answered_by_a_leader_that_cannot_reach_a_quorum()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolate(1);

        c[1].ReadIndex(Ctx);
        c.Stabilize();

        Assert.Empty(c.Reads[1]); // it might have been deposed: it must not answer
    }

    [Fact]
    public void ReadIndex_on_a_follower_is_answered_by_the_leader()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Propose(1, "x");

        Assert.Equal(ProposalOutcome.Forwarded, c[2].ReadIndex(Ctx));
        c.Stabilize();

        Assert.Equal(c[1].Committed, Assert.Single(c.Reads[2]).Index);
    }

    [Fact]
    public void A_new_leader_defers_reads_until_it_commits_an_entry_of_its_term()
    {
        var c = new TestCluster(3);
        c.Filter = m => m.Type != MessageType.AppendResponse; // the leader's first entry cannot commit
        c.Elect(1);

        c[1].ReadIndex(Ctx);
        c.Stabilize();
        Assert.Empty(c.Reads[1]);

        c.Filter = null;
        c.TickAll(2);
        Assert.Single(c.Reads[1]);
    }

    private static TestCluster LeaseCluster() =>
        new(3, (_, cfg) => cfg with { ReadOnlyOption = ReadOnlyOption.LeaseBased, LeaseDriftMarginTicks = 3 });

    [Fact]
    public void A_lease_needs_a_quorum_of_heartbeat_acknowledgments_and_an_entry_of_the_leaders_term()
    {
        var c = LeaseCluster();
        c.TickAll(10); // replicas refuse votes for an election timeout after starting
        c.Elect(1);

        Assert.False(c[1].HasValidLease); // committed its entry, but no heartbeat round yet
        c.TickAll(1);
        Assert.True(c[1].HasValidLease);
        Assert.False(c[2].HasValidLease);
    }

    [Fact]
    public void A_lease_expires_margin_ticks_before_followers_could_elect_someone_else()
    {
        var c = LeaseCluster();
        c.TickAll(10);
        c.Elect(1);
        c.TickAll(1);
        Assert.True(c[1].HasValidLease);

        c.Isolate(1);
        var heldFor = 0;
        while (c[1].HasValidLease)
        {
            c.Tick(1);
            heldFor++;
        }

        // Acknowledged heartbeat sent at tick s: valid while ticks < s + ElectionTick - margin = s + 7.
        Assert.InRange(heldFor, 6, 7);
        // The followers still refuse to vote for someone else at that point.
        c[2].Campaign();
        c.Stabilize();
        Assert.NotEqual(StateRole.Leader, c[2].Role);
    }

    [Fact]
    public void A_pre_candidate_that_rejoins_and_acknowledges_the_leader_then_refuses_votes_for_the_lease()
    {
        var c = LeaseCluster();
        c.TickAll(10);
        c.Elect(1);
        c.Isolate(3);
        c.Tick(3, 25); // node 3 times out and becomes a pre-candidate
        Assert.Equal(StateRole.PreCandidate, c[3].Role);

        c.Heal();
        c.Tick(1); // one heartbeat: node 3 receives it as a pre-candidate and acknowledges it
        Assert.True(c[1].HasValidLease);
        Assert.Equal(StateRole.Follower, c[3].Role);

        // A vote request from another candidate must be ignored: granting it could elect a second leader while
        // node 1 still serves lease reads.
        var term = c[3].Term;
        c[3].Step(new Message
        {
            Type = MessageType.Vote,
            From = 2,
            To = 3,
            Term = term + 1,
            Index = ulong.MaxValue,
            LogTerm = ulong.MaxValue,
        });
        Assert.Equal(term, c[3].Term);
        Assert.Equal(1UL, c[3].Leader);
    }

    [Fact]
    public void With_a_valid_lease_ReadIndex_is_answered_without_a_heartbeat_round()
    {
        var c = LeaseCluster();
        c.TickAll(10);
        c.Elect(1);
        c.TickAll(1);
        c.Delivered.Clear();

        c[1].ReadIndex(Ctx);
        c.Stabilize();

        Assert.Single(c.Reads[1]);
        Assert.DoesNotContain(c.Delivered, m => m.Type == MessageType.Heartbeat && !m.Context.IsEmpty);
    }

    [Fact]
    public void A_leader_that_started_a_transfer_gives_up_its_lease()
    {
        var c = LeaseCluster();
        c.TickAll(10);
        c.Elect(1);
        c.TickAll(1);
        c.Isolate(2); // the transfer cannot finish

        c[1].TransferLeader(2);
        c.Stabilize();

        Assert.False(c[1].HasValidLease);
    }

    [Fact]
    public void Lease_reads_require_check_quorum()
    {
        Assert.Throws<ArgumentException>(() => new RaftNode(new RaftConfig
        {
            Id = 1,
            Storage = new MemoryRaftLog(new ConfState { Voters = [1] }),
            ReadOnlyOption = ReadOnlyOption.LeaseBased,
            CheckQuorum = false,
        }));
    }

    [Fact]
    public void An_idle_group_can_be_quiesced_and_wakes_on_the_next_proposal()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Propose(1, "x");
        c.TickAll(2);

        Assert.All(c.Nodes.Values, n => Assert.True(n.IsIdle));
        Assert.True(c[1].Quiesce());
        Assert.True(c[1].IsQuiesced);
        Assert.False(c[1].HasValidLease);

        c.Propose(1, "y");
        Assert.False(c[1].IsQuiesced);
        Assert.Equal(["x", "y"], c.Applied[3]);
    }

    [Fact]
    public void A_group_with_a_lagging_follower_is_not_idle()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolate(3);
        c.Propose(1, "x");

        Assert.False(c[1].IsIdle);
        Assert.False(c[1].Quiesce());
    }
}
