namespace Strata.Consensus.Tests;

/// <summary>Log replication, the commit rule, conflict resolution, snapshots and flow control.</summary>
public sealed class ReplicationTests
{
    [Fact]
    public void A_proposal_at_the_leader_is_committed_and_applied_everywhere()
    {
        var c = new TestCluster(3);
        c.Elect(1);

        Assert.Equal(ProposalOutcome.Appended, c.Propose(1, "x=1"));
        c.Propose(1, "x=2");

        Assert.All(c.Applied.Values, applied => Assert.Equal(["x=1", "x=2"], applied));
        Assert.All(c.Nodes.Values, n => Assert.Equal(c[1].Committed, n.Committed));
    }

    [Fact]
    public void A_proposal_needs_a_majority_to_commit()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolate(2);
        c.Isolate(3);

        c.Propose(1, "lonely");

        Assert.Empty(c.Applied[1]);
        c.Heal();
        c.TickAll(2); // heartbeats reveal that the followers lag, and the leader resends
        Assert.Equal(["lonely"], c.Applied[1]);
    }

    [Fact]
    public void A_follower_forwards_proposals_to_the_leader()
    {
        var c = new TestCluster(3);
        c.Elect(1);

        Assert.Equal(ProposalOutcome.Forwarded, c.Propose(2, "via follower"));

        Assert.All(c.Applied.Values, applied => Assert.Equal(["via follower"], applied));
    }

    [Fact]
    public void Without_forwarding_a_follower_rejects_proposals_and_names_the_leader()
    {
        var c = new TestCluster(3, (_, cfg) => cfg with { DisableProposalForwarding = true });
        c.Elect(1);

        Assert.Equal(ProposalOutcome.DroppedNotLeader, c.Propose(2, "x"));
        Assert.Equal(1UL, c[2].Leader);
        Assert.Empty(c.Applied[1]);
    }

    /// <summary>No pre-vote and no check-quorum, so a test can hand leadership to anyone with <c>Elect</c>.</summary>
    private static TestCluster PlainCluster() => new(3, (_, cfg) => cfg with { PreVote = false, CheckQuorum = false });

    [Fact]
    public void A_new_leader_overwrites_the_uncommitted_entries_of_a_deposed_one()
    {
        var c = PlainCluster();
        c.Elect(1);
        c.Propose(1, "committed");

        // Leader 1 is cut off and appends entries nobody else sees.
        c.Isolate(1);
        c.Propose(1, "lost-1");
        c.Propose(1, "lost-2");
        c.Propose(1, "lost-3");

        // The majority elects node 2, which commits its own entries.
        c.Elect(2);
        c.Propose(2, "winner");

        c.Heal();
        c.TickAll(2); // node 1 hears the new term and its log is repaired

        Assert.Equal(StateRole.Follower, c[1].Role);
        Assert.All(c.Applied.Values, applied => Assert.Equal(["committed", "winner"], applied));
        Assert.Equal(c[2].LastIndex, c[1].LastIndex);
    }

    [Fact]
    public void A_rejection_hint_skips_a_whole_conflicting_term_in_one_round_trip()
    {
        var c = PlainCluster();
        c.Elect(1);
        c.Isolate(1);
        for (var i = 0; i < 20; i++)
        {
            c.Propose(1, $"stale-{i}"); // 20 entries of node 1's term that will conflict
        }

        c.Elect(2);
        for (var i = 0; i < 25; i++)
        {
            c.Propose(2, $"new-{i}");
        }

        c.Elect(3); // a leader whose first guess for node 1 is its own last index + 1, far past the divergence
        c.Heal();
        c.Delivered.Clear();
        c.TickAll(2);

        var rejections = c.Delivered.Count(m => m.Type == MessageType.AppendResponse && m.Reject && m.From == 1);
        Assert.InRange(rejections, 1, 2); // not one per conflicting entry (there are 20)
        Assert.Equal(c.Applied[3], c.Applied[1]);
        Assert.Equal(25, c.Applied[1].Count(e => e.StartsWith("new-", StringComparison.Ordinal)));
    }

    [Fact]
    public void Entries_of_an_earlier_term_commit_only_along_with_an_entry_of_the_current_term()
    {
        var c = PlainCluster();
        c.Elect(1);
        c.Filter = m => m.Type != MessageType.AppendResponse; // "x" reaches everyone, but no one acknowledges it
        c.Propose(1, "x");
        Assert.All(c.Nodes.Values, n => Assert.Equal(c[1].LastIndex, n.LastIndex));
        Assert.Empty(c.Applied[1]);

        c.Filter = null;
        c.Elect(2);

        // The new leader commits "x" (of an older term) only by committing its own empty entry after it.
        Assert.Equal(StateRole.Leader, c[2].Role);
        Assert.Equal(c[2].Term, c[2].TermAt(c[2].Committed));
        Assert.All(c.Applied.Values, applied => Assert.Equal(["x"], applied));
    }

    [Fact]
    public void A_follower_that_fell_behind_a_compacted_log_is_sent_a_snapshot()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolate(3);
        for (var i = 0; i < 10; i++)
        {
            c.Propose(1, $"e{i}");
        }

        c.Compact(1); // the entries node 3 needs are gone from the leader's log
        c.Delivered.Clear();
        c.Heal();
        c.TickAll(3);

        Assert.Contains(c.Delivered, m => m.Type == MessageType.Snapshot && m.To == 3);
        Assert.Equal(c.Applied[1], c.Applied[3]);
        Assert.Equal(c[1].Committed, c[3].Committed);
        c.Propose(1, "after");
        Assert.Equal("after", c.Applied[3][^1]);
    }

    [Fact]
    public void A_restarted_node_recovers_from_its_snapshot_and_log()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Propose(1, "a");
        c.Compact(2);
        c.Propose(1, "b");

        c.Restart(2);
        c.Stabilize();

        Assert.Equal(["a", "b"], c.Applied[2]);
    }

    [Fact]
    public void The_inflight_window_caps_pipelined_appends_to_a_silent_follower()
    {
        var c = new TestCluster(3, (_, cfg) => cfg with { MaxInflightMessages = 2 });
        c.Elect(1);
        c.Filter = m => !(m.From == 3 && m.Type == MessageType.AppendResponse); // node 3's acks are lost
        c.Delivered.Clear();

        for (var i = 0; i < 10; i++)
        {
            c.Propose(1, $"e{i}");
        }

        Assert.Equal(2, c.Delivered.Count(m => m.To == 3 && m.Type == MessageType.Append && m.Entries.Count > 0));
        Assert.Equal(10, c.Applied[1].Count); // the majority {1, 2} is not held back
        Assert.True(c[1].ProgressOf(3)!.IsPaused);
    }

    [Fact]
    public void Appends_are_split_to_respect_the_maximum_message_size()
    {
        var c = new TestCluster(3, (_, cfg) => cfg with { MaxSizePerMessage = 100 });
        c.Elect(1);
        c.Isolate(3);
        for (var i = 0; i < 10; i++)
        {
            c.Propose(1, new string('x', 40));
        }

        c.Delivered.Clear();
        c.Heal();
        c.TickAll(3);

        var appends = c.Delivered.Where(m => m.To == 3 && m.Type == MessageType.Append && m.Entries.Count > 0).ToList();
        Assert.True(appends.Count >= 4);
        Assert.All(appends, m => Assert.True(m.Entries.Count == 1 || m.Entries.Sum(e => e.Size) <= 100));
        Assert.Equal(10, c.Applied[3].Count);
    }

    [Fact]
    public void The_leader_drops_proposals_beyond_the_uncommitted_size_limit()
    {
        var c = new TestCluster(3, (_, cfg) => cfg with { MaxUncommittedEntriesSize = 100 });
        c.Elect(1);
        c.Isolate(1); // nothing commits

        Assert.Equal(ProposalOutcome.Appended, c.Propose(1, new string('a', 60)));
        Assert.Equal(ProposalOutcome.Appended, c.Propose(1, new string('b', 30)));
        Assert.Equal(ProposalOutcome.DroppedUncommittedLimit, c.Propose(1, new string('c', 30)));

        c.Heal();
        c.TickAll(2); // once committed and applied, there is room again
        Assert.Equal(ProposalOutcome.Appended, c.Propose(1, new string('c', 30)));
    }
}
