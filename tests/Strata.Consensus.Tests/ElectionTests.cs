namespace Strata.Consensus.Tests;

/// <summary>Leader election, pre-vote and check-quorum scenarios.</summary>
public sealed class ElectionTests
{
    [Fact]
    public void A_follower_whose_election_timer_fires_becomes_leader_and_everyone_follows_it()
    {
        var c = new TestCluster(3);

        // Only node 1 ticks, so it is the first to time out (randomized timeout in [10, 20) ticks).
        for (var i = 0; i < 20 && c[1].Role != StateRole.Leader; i++)
        {
            c.Tick(1);
        }

        Assert.Equal(StateRole.Leader, c[1].Role);
        Assert.Equal(2UL, c[1].Term); // bootstrapped at term 1; pre-vote did not bump the term, the real election did once
        Assert.All([c[2], c[3]], n => Assert.Equal(1UL, n.Leader));
        Assert.All([c[2], c[3]], n => Assert.Equal(1UL, n.Vote));
    }

    [Fact]
    public void A_candidate_with_a_stale_log_cannot_win()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolate(3);
        c.Propose(1, "x"); // nodes 1 and 2 have an entry node 3 lacks
        c.Heal();
        c.Isolate(1);

        c.Elect(3);

        Assert.NotEqual(StateRole.Leader, c[3].Role);
        c.Elect(2);
        Assert.Equal(StateRole.Leader, c[2].Role);
    }

    [Fact]
    public void Pre_vote_keeps_a_partitioned_node_from_disrupting_the_leader_when_it_returns()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        var term = c[1].Term;

        c.Isolate(3);
        c.Tick(3, 100); // times out again and again, but only pre-votes: its term does not move
        Assert.Equal(term, c[3].Term);
        Assert.Equal(StateRole.PreCandidate, c[3].Role);

        c.Heal();
        c.TickAll(3);

        Assert.Equal(StateRole.Leader, c[1].Role);
        Assert.Equal(term, c[1].Term);
        Assert.Equal(1UL, c[3].Leader);
    }

    [Fact]
    public void Without_pre_vote_a_returning_node_forces_a_new_term()
    {
        var c = new TestCluster(3, (_, cfg) => cfg with { PreVote = false, CheckQuorum = false });
        c.Elect(1);
        var term = c[1].Term;

        c.Isolate(3);
        c.Tick(3, 100);
        Assert.True(c[3].Term > term + 1, $"term {c[3].Term} role {c[3].Role}");

        c.Heal();
        c.TickAll(20); // node 3 times out again and asks for votes in its higher term

        // The old leader saw the higher term and stepped down: this is the disruption pre-vote avoids.
        Assert.True(c[1].Term > term);
    }

    [Fact]
    public void Check_quorum_makes_an_isolated_leader_step_down()
    {
        var c = new TestCluster(3);
        c.Elect(1);

        c.Isolate(1);
        c.Tick(1, 20); // the first check after isolation still sees earlier activity; the second finds none

        Assert.Equal(StateRole.Follower, c[1].Role);
        Assert.Equal(0UL, c[1].Leader);
    }

    [Fact]
    public void Followers_that_hear_from_a_leader_ignore_vote_requests()
    {
        var c = new TestCluster(3, (_, cfg) => cfg with { PreVote = false });
        c.Elect(1);
        c.TickAll(1);
        var term = c[1].Term;

        c[3].Campaign(); // node 3 starts an election although the leader is healthy
        c.Stabilize();

        Assert.Equal(StateRole.Leader, c[1].Role);
        Assert.Equal(term, c[1].Term);
        Assert.Equal(StateRole.Candidate, c[3].Role);
    }

    [Fact]
    public void A_single_voter_group_elects_itself_and_commits_alone()
    {
        var c = new TestCluster(1);
        c.Elect(1);
        Assert.Equal(StateRole.Leader, c[1].Role);

        c.Propose(1, "a");

        Assert.Equal(["a"], c.Applied[1]);
    }

    [Fact]
    public void A_restarted_node_remembers_its_term_and_vote()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Propose(1, "a");
        var term = c[2].Term;

        c.Restart(2);

        Assert.Equal(term, c[2].Term);
        Assert.Equal(1UL, c[2].Vote);
        Assert.Equal(StateRole.Follower, c[2].Role);
        c.Stabilize(); // re-applies committed entries from the log
        Assert.Equal(["a"], c.Applied[2]);
    }
}
