using Strata.Cli.Chaos;
using Strata.Cli.Cluster;

namespace Strata.Cli.Tests;

/// <summary>
/// Membership fault planning without processes: parsing, the seeded plan, the rule that keeps three active nodes,
/// which node a decommission drains, which voter a transfer picks, and the options that need loopback.
/// </summary>
public sealed class MembershipPlanTests
{
    private static PlannedFault Fault(FaultKind kind, bool atLeader = false, int nodeIndex = 0, int salt = 0) =>
        new(1, kind, AfterOperations: 100, atLeader, nodeIndex, TimeSpan.Zero, salt);

    [Fact]
    public void Membership_stands_for_join_decommission_and_transfer_and_mixes_with_other_faults()
    {
        Assert.Equal([FaultKind.Join, FaultKind.Decommission, FaultKind.Transfer], ChaosOptions.ParseFaults("membership"));
        Assert.Equal([FaultKind.Kill, FaultKind.Join, FaultKind.Decommission, FaultKind.Transfer], ChaosOptions.ParseFaults("kill,membership,join"));
        Assert.Equal([FaultKind.Transfer], ChaosOptions.ParseFaults("transfer"));
        Assert.All(ChaosOptions.Memberships, k => Assert.True(ChaosOptions.IsMembership(k)));
        Assert.DoesNotContain(ChaosOptions.Memberships, ChaosOptions.IsPartition);
        Assert.False(ChaosOptions.IsMembership(FaultKind.Kill));
        Assert.Equal(["join", "decommission", "transfer"], ChaosOptions.Memberships.Select(ChaosOptions.Name));
    }

    [Fact]
    public void A_decommission_goes_ahead_only_while_three_nodes_stay_active_else_a_node_joins_first_or_it_is_skipped()
    {
        Assert.Equal((DecommissionStep.Proceed, null), MembershipPlan.BeforeDecommission(4));
        Assert.Equal((DecommissionStep.Proceed, null), MembershipPlan.BeforeDecommission(7));
        Assert.Equal((DecommissionStep.JoinFirst, null), MembershipPlan.BeforeDecommission(3));
        Assert.Equal((DecommissionStep.JoinFirst, null), MembershipPlan.BeforeDecommission(2));

        (DecommissionStep step, string? reason) = MembershipPlan.BeforeDecommission(3, whyNoJoin: "no namespace left");
        Assert.Equal(DecommissionStep.Skip, step);
        Assert.Contains("fewer than 3", reason, StringComparison.Ordinal);
        Assert.Contains("no namespace left", reason, StringComparison.Ordinal);
        Assert.Equal(DecommissionStep.Proceed, MembershipPlan.BeforeDecommission(4, whyNoJoin: "no namespace left").Step);
    }

    [Fact]
    public void A_decommission_aimed_at_the_leader_drains_the_leader_when_it_is_active_else_the_seeded_node()
    {
        ulong[] active = [2, 3, 4, 6];

        Assert.Equal(4UL, MembershipPlan.DecommissionTarget(Fault(FaultKind.Decommission, atLeader: true, nodeIndex: 0), active, leader: 4));
        // A leader that is not an active node (not seen, or retired) falls back to the seeded choice.
        Assert.Equal(2UL, MembershipPlan.DecommissionTarget(Fault(FaultKind.Decommission, atLeader: true, nodeIndex: 0), active, leader: null));
        Assert.Equal(3UL, MembershipPlan.DecommissionTarget(Fault(FaultKind.Decommission, atLeader: true, nodeIndex: 1), active, leader: 1));
        // Not aimed at the leader: the seeded node, even when it leads or when the leader is known.
        Assert.Equal(6UL, MembershipPlan.DecommissionTarget(Fault(FaultKind.Decommission, atLeader: false, nodeIndex: 3), active, leader: 4));
        Assert.Equal(3UL, MembershipPlan.DecommissionTarget(Fault(FaultKind.Decommission, atLeader: false, nodeIndex: 5), active, leader: 4));
        Assert.Throws<ArgumentException>(() => MembershipPlan.DecommissionTarget(Fault(FaultKind.Decommission), [], leader: null));
    }

    [Fact]
    public void While_nobody_joined_or_left_the_seeded_node_is_the_founding_node_the_plan_names()
    {
        ulong[] founding = [1, 2, 3, 4, 5];
        foreach (int index in Enumerable.Range(0, founding.Length))
        {
            Assert.Equal((ulong)index + 1, MembershipPlan.SeededNode(Fault(FaultKind.Kill, nodeIndex: index), founding));
        }

        // After node 2 left and node 6 joined, the same draw lands on an active node.
        Assert.Equal(6UL, MembershipPlan.SeededNode(Fault(FaultKind.Kill, nodeIndex: 4), [1, 3, 4, 5, 6]));
        Assert.Equal(1UL, MembershipPlan.SeededNode(Fault(FaultKind.Kill, nodeIndex: 4), [1, 3, 4, 6]));
    }

    [Fact]
    public void A_transfer_picks_a_seeded_voter_other_than_the_leader()
    {
        ulong[] voters = [5, 1, 3];

        ulong?[] picks = [.. Enumerable.Range(0, 10).Select(salt => MembershipPlan.TransferTarget(Fault(FaultKind.Transfer, salt: salt), leader: 3, voters))];
        Assert.All(picks, p => Assert.Contains(p!.Value, new ulong[] { 1, 5 }));
        Assert.Equal([1UL, 5UL], picks.Distinct().Order().Select(p => p!.Value));
        Assert.Equal(MembershipPlan.TransferTarget(Fault(FaultKind.Transfer, salt: 7), 3, voters), MembershipPlan.TransferTarget(Fault(FaultKind.Transfer, salt: 7), 3, voters));
        // Negative salts (Random.Next never gives them, a hand-made plan may) still pick a voter.
        Assert.NotNull(MembershipPlan.TransferTarget(Fault(FaultKind.Transfer, salt: -3), 3, voters));
        Assert.Null(MembershipPlan.TransferTarget(Fault(FaultKind.Transfer, salt: 1), leader: 3, [3]));
    }

    [Fact]
    public void Membership_faults_have_no_duration_and_leave_the_draws_of_the_other_kinds_alone()
    {
        var options = new ChaosOptions { Operations = 3000, Faults = [FaultKind.Kill, .. ChaosOptions.Memberships], FaultCount = 12, Seed = 5 };
        IReadOnlyList<PlannedFault> plan = FaultPlan.Create(options);

        Assert.Equal(12, plan.Count);
        Assert.Equal(3, plan.Count(f => f.Kind == FaultKind.Join));
        Assert.Equal(3, plan.Count(f => f.Kind == FaultKind.Decommission));
        Assert.All(plan.Where(f => ChaosOptions.IsMembership(f.Kind)), f => Assert.Equal(TimeSpan.Zero, f.Duration));
        Assert.All(plan.Where(f => f.Kind == FaultKind.Kill), f => Assert.InRange(f.Duration, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2)));
        Assert.All(plan.Where(f => f.Kind is FaultKind.Kill or FaultKind.Join or FaultKind.Decommission), f => Assert.Equal(0, f.Salt));
        Assert.Equal(plan, FaultPlan.Create(options));

        // A plan without membership faults does not depend on their existence: kills and pauses only, as always.
        var classic = new ChaosOptions { Operations = 3000, Faults = [FaultKind.Kill, FaultKind.Pause], FaultCount = 6, Seed = 5 };
        Assert.All(FaultPlan.Create(classic), f => Assert.True(f.Duration > TimeSpan.Zero && f.Salt == 0));
    }

    [Theory]
    [InlineData("join")]
    [InlineData("decommission")]
    public void Join_and_decommission_under_netns_need_a_spare_namespace(string kind)
    {
        var options = new ChaosOptions { Operations = 300, Faults = ChaosOptions.ParseFaults(kind), Network = ChaosNetwork.Namespaces, Nodes = LocalCluster.MaxNodes };

        ArgumentException e = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("spare network namespace", e.Message, StringComparison.Ordinal);
        (options with { Network = ChaosNetwork.Loopback }).Validate();
        (options with { Nodes = 3 }).Validate();
    }

    [Fact]
    public void Namespaces_are_set_aside_for_each_planned_join_and_decommission_up_to_the_node_limit()
    {
        var options = new ChaosOptions { Operations = 3000, Faults = [FaultKind.Isolate, .. ChaosOptions.Memberships], FaultCount = 8, Network = ChaosNetwork.Namespaces };
        IReadOnlyList<PlannedFault> plan = FaultPlan.Create(options);

        Assert.Equal(4, plan.Count(f => f.Kind is FaultKind.Join or FaultKind.Decommission));
        Assert.Equal(4, options.SpareNodes(plan));
        Assert.Equal(2, (options with { Nodes = 5 }).SpareNodes(plan));
        Assert.Equal(0, options.SpareNodes(FaultPlan.Create(options with { Faults = [FaultKind.Isolate, FaultKind.Transfer] })));
    }

    [Fact]
    public void A_transfer_works_on_either_network()
    {
        new ChaosOptions { Operations = 300, Faults = [FaultKind.Transfer, FaultKind.Isolate], Network = ChaosNetwork.Namespaces, Nodes = LocalCluster.MaxNodes }.Validate();
        new ChaosOptions { Operations = 300, Faults = [FaultKind.Transfer] }.Validate();
        Assert.True(LocalCluster.MaxNodes > MembershipPlan.MinActiveNodes);
    }
}
