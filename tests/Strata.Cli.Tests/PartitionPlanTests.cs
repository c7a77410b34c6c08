using Strata.Cli.Chaos;
using Strata.Cli.Cluster;

namespace Strata.Cli.Tests;

/// <summary>
/// Partition planning without root or processes: which nodes end up on which side of each partition kind, the
/// seeded plan, the options that need <c>--network netns</c>, the prerequisite check and the subnet choice.
/// </summary>
public sealed class PartitionPlanTests
{
    private static readonly ulong[] Three = [1, 2, 3];
    private static readonly ulong[] Five = [1, 2, 3, 4, 5];

    [Fact]
    public void Isolate_cuts_the_target_off_from_every_other_node_both_ways()
    {
        NetworkCut cut = NetworkCut.Plan(FaultKind.Isolate, Five, target: 3, salt: 9);

        Assert.Equal([[3UL], [1UL, 2, 4, 5]], cut.Sides.Select(s => s.ToArray()));
        Assert.Equal("3 | 1 2 4 5", cut.SidesText);
        Assert.Equal(8, cut.Dropped.Count);
        foreach (ulong other in new ulong[] { 1, 2, 4, 5 })
        {
            Assert.Contains(new NodeLink(3, other), cut.Dropped);
            Assert.Contains(new NodeLink(other, 3), cut.Dropped);
        }

        Assert.DoesNotContain(cut.Dropped, l => l.From != 3 && l.To != 3);
    }

    [Fact]
    public void Split_puts_the_target_in_a_minority_and_cuts_every_link_across()
    {
        foreach (int salt in Enumerable.Range(0, 20))
        {
            NetworkCut cut = NetworkCut.Plan(FaultKind.Split, Five, target: 4, salt);

            ulong[] minority = [.. cut.Sides[0]];
            ulong[] majority = [.. cut.Sides[1]];
            Assert.Equal(2, minority.Length);
            Assert.Equal(3, majority.Length);
            Assert.Contains(4UL, minority);
            Assert.Equal(Five, minority.Concat(majority).Order());
            Assert.Equal(2 * 2 * 3, cut.Dropped.Count);
            Assert.All(cut.Dropped, l => Assert.True(minority.Contains(l.From) != minority.Contains(l.To), $"{l} does not cross the split"));
        }

        // With three nodes the minority is the target alone.
        Assert.Equal([[2UL], [1UL, 3]], NetworkCut.Plan(FaultKind.Split, Three, target: 2, salt: 1).Sides.Select(s => s.ToArray()));
        // The other minority members are the salt's choice.
        Assert.True(Enumerable.Range(0, 20).Select(salt => NetworkCut.Plan(FaultKind.Split, Five, 4, salt).SidesText).Distinct().Count() > 1);
    }

    [Fact]
    public void A_split_of_five_nodes_keeps_the_shards_other_replicas_on_the_majority_side()
    {
        // The shard under test has replicas on 2, 3 and 4 and is led by 4: its minority partner must be 1 or 5, so that
        // the leader's side holds one replica of three and the shard's majority is on the other side.
        foreach (int salt in Enumerable.Range(0, 20))
        {
            NetworkCut cut = NetworkCut.Plan(FaultKind.Split, Five, target: 4, salt, replicas: [2, 3, 4]);

            ulong partner = Assert.Single(cut.Sides[0], n => n != 4);
            Assert.Contains(partner, new ulong[] { 1, 5 });
            Assert.Equal(2, cut.Sides[1].Count(n => n is 2 or 3));
        }
    }

    [Fact]
    public void A_bridge_node_reaches_both_halves_which_cannot_reach_each_other()
    {
        foreach ((ulong[] nodes, int halfSize) in new[] { (Three, 1), (Five, 2) })
        {
            foreach (int salt in Enumerable.Range(0, 10))
            {
                NetworkCut cut = NetworkCut.Plan(FaultKind.Bridge, nodes, target: 1, salt);

                Assert.Equal(3, cut.Sides.Count);
                ulong[] half = [.. cut.Sides[0]];
                ulong bridge = Assert.Single(cut.Sides[1]);
                ulong[] otherHalf = [.. cut.Sides[2]];
                Assert.Contains(1UL, half);
                Assert.Equal(halfSize, half.Length);
                Assert.Equal(nodes.Length - halfSize - 1, otherHalf.Length);
                Assert.Equal(nodes, half.Append(bridge).Concat(otherHalf).Order());
                Assert.DoesNotContain(cut.Dropped, l => l.From == bridge || l.To == bridge);
                Assert.Equal(2 * half.Length * otherHalf.Length, cut.Dropped.Count);
                Assert.All(half, a => Assert.All(otherHalf, b =>
                {
                    Assert.Contains(new NodeLink(a, b), cut.Dropped);
                    Assert.Contains(new NodeLink(b, a), cut.Dropped);
                }));
            }
        }
    }

    [Fact]
    public void An_asymmetric_partition_drops_one_direction_only_and_the_salt_picks_which()
    {
        NetworkCut[] cuts = [.. Enumerable.Range(0, 20).Select(salt => NetworkCut.Plan(FaultKind.Asymmetric, Three, target: 2, salt))];

        foreach (NetworkCut cut in cuts)
        {
            Assert.Equal(2, cut.Dropped.Count);
            Assert.All(cut.Dropped, l => Assert.True(l.From == 2 || l.To == 2, l.ToString()));
            // Never both directions of one pair.
            Assert.All(cut.Dropped, l => Assert.DoesNotContain(new NodeLink(l.To, l.From), cut.Dropped));
        }

        NetworkCut mute = Assert.Single(cuts.Where(c => c.Dropped.All(l => l.From == 2)).Take(1));
        NetworkCut deaf = Assert.Single(cuts.Where(c => c.Dropped.All(l => l.To == 2)).Take(1));
        Assert.Contains("node 2's packets to 1 3 dropped", mute.Description, StringComparison.Ordinal);
        Assert.Contains("packets from 1 3 to node 2 dropped", deaf.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_arguments_give_the_same_cut_and_bad_ones_are_refused()
    {
        foreach (FaultKind kind in ChaosOptions.Partitions)
        {
            NetworkCut a = NetworkCut.Plan(kind, Five, 5, 1234);
            NetworkCut b = NetworkCut.Plan(kind, Five, 5, 1234);
            Assert.Equal(a.SidesText, b.SidesText);
            Assert.Equal(a.Dropped, b.Dropped);
            Assert.Equal(a.Description, b.Description);
        }

        Assert.Throws<ArgumentException>(() => NetworkCut.Plan(FaultKind.Kill, Three, 1, 0));
        Assert.Throws<ArgumentException>(() => NetworkCut.Plan(FaultKind.Isolate, [1, 2], 1, 0));
        Assert.Throws<ArgumentException>(() => NetworkCut.Plan(FaultKind.Isolate, Three, 4, 0));
    }

    [Fact]
    public void Partition_faults_are_planned_with_their_own_windows_and_need_the_namespace_network()
    {
        var options = new ChaosOptions { Operations = 4000, FaultCount = 8, Seed = 5, Faults = ChaosOptions.ParseFaults("partition"), Network = ChaosNetwork.Namespaces };
        options.Validate();

        IReadOnlyList<PlannedFault> plan = FaultPlan.Create(options);

        Assert.Equal([FaultKind.Isolate, FaultKind.Split, FaultKind.Bridge, FaultKind.Asymmetric], options.Faults);
        Assert.Equal(2, plan.Count(f => f.Kind == FaultKind.Isolate));
        Assert.All(plan, f => Assert.InRange(f.Duration, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5)));
        Assert.True(plan.Select(f => f.Salt).Distinct().Count() > 1);
        Assert.Equal(plan, FaultPlan.Create(options));

        // A plan without partitions draws no salts: kill and pause plans are what they were for a seed.
        Assert.All(FaultPlan.Create(options with { Faults = [FaultKind.Kill, FaultKind.Pause], Network = ChaosNetwork.Loopback }), f => Assert.Equal(0, f.Salt));

        var loopback = options with { Network = ChaosNetwork.Loopback };
        ArgumentException refused = Assert.Throws<ArgumentException>(loopback.Validate);
        Assert.Contains("--faults isolate is a network partition: it needs --network netns", refused.Message, StringComparison.Ordinal);
        Assert.Equal([FaultKind.Kill, FaultKind.Bridge], ChaosOptions.ParseFaults("kill, bridge, kill"));
        Assert.Equal(ChaosNetwork.Namespaces, ChaosOptions.ParseNetwork("netns"));
        Assert.Throws<ArgumentException>(() => ChaosOptions.ParseNetwork("docker"));
    }

    [Fact]
    public void The_namespace_network_refuses_to_start_without_linux_root_ip_or_iptables_and_says_why()
    {
        static string? All(string program) => "/usr/sbin/" + program;
        static string? NoIptables(string program) => program == "ip" ? "/usr/sbin/ip" : null;

        CommandFailedException notRoot = Assert.Throws<CommandFailedException>(() => NetworkTools.Require(isLinux: true, isRoot: false, All));
        CommandFailedException missing = Assert.Throws<CommandFailedException>(() => NetworkTools.Require(isLinux: true, isRoot: true, NoIptables));
        CommandFailedException notLinux = Assert.Throws<CommandFailedException>(() => NetworkTools.Require(isLinux: false, isRoot: true, All));
        NetworkTools tools = NetworkTools.Require(isLinux: true, isRoot: true, All);

        Assert.Contains("needs root", notRoot.Message, StringComparison.Ordinal);
        Assert.Contains("'iptables' and 'iptables-restore' (Debian package iptables)", missing.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("'ip' (Debian package iproute2)", missing.Message, StringComparison.Ordinal);
        Assert.Contains("scripts/install-prerequisites.sh", missing.Message, StringComparison.Ordinal);
        Assert.Contains("not Linux", notLinux.Message, StringComparison.Ordinal);
        Assert.All(new[] { notRoot, missing, notLinux }, e => Assert.Equal(3, e.ExitCode));
        Assert.Equal(new NetworkTools("/usr/sbin/ip", "/usr/sbin/iptables", "/usr/sbin/iptables-restore"), tools);
    }

    [Fact]
    public void The_subnet_avoids_every_network_of_the_host()
    {
        const string Host = """
            1: lo    inet 127.0.0.1/8 scope host lo
            4: eth0    inet 10.77.5.20/24 brd 10.77.5.255 scope global eth0
            default via 10.77.5.1 dev eth0
            10.77.6.0/23 dev br0 proto kernel scope link src 10.77.6.1
            """;

        Assert.Equal(4, NamespaceNetwork.ChooseSubnet(Host, start: 3));
        Assert.Equal(8, NamespaceNetwork.ChooseSubnet(Host, start: 4)); // 5, 6 and 7 (inside the /23) are taken
        Assert.Equal(1, NamespaceNetwork.ChooseSubnet(Host + "\n10.77.254.0/24 dev br1", start: 253)); // 254 is taken: wraps to 1
        Assert.Null(NamespaceNetwork.ChooseSubnet("10.64.0.0/10 dev tun0", start: 0)); // covers all of 10.77.0.0/16
        Assert.Equal(1, NamespaceNetwork.ChooseSubnet("10.0.0.0/12 dev tun0", start: 0)); // 10.0-10.15 only
    }
}
