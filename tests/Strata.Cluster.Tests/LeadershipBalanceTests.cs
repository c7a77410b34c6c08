namespace Strata.Cluster.Tests;

public sealed class LeadershipBalanceTests
{
    private static readonly Func<ulong, bool> EveryoneCaughtUp = _ => true;

    [Fact]
    public void ALeaderHandsAShardToAVoterLeadingTwoFewer()
    {
        var led = new Dictionary<ulong, int> { [1] = 3, [2] = 1, [3] = 0 };

        Assert.Equal(3UL, LeadershipBalance.TransferTarget(1, [1, 2, 3], led, EveryoneCaughtUp));
    }

    [Fact]
    public void AnImbalanceOfOneIsSettled()
    {
        // 4 shards on 3 nodes can do no better than 2/1/1; moving one would only swap which node leads two.
        var led = new Dictionary<ulong, int> { [1] = 2, [2] = 1, [3] = 1 };

        Assert.Equal(0UL, LeadershipBalance.TransferTarget(1, [1, 2, 3], led, EveryoneCaughtUp));
    }

    [Fact]
    public void OnlyVotersOfTheShardThatAreActiveAndCaughtUpQualify()
    {
        var led = new Dictionary<ulong, int> { [1] = 4, [2] = 0, [3] = 0, [4] = 0 };

        // Node 4 leads nothing but holds no replica of this shard; node 5 is a voter but not active (not in led).
        Assert.Equal(0UL, LeadershipBalance.TransferTarget(1, [1, 5], led, EveryoneCaughtUp));
        // Node 2 lags the commit index: the transfer would wait for it to catch up.
        Assert.Equal(3UL, LeadershipBalance.TransferTarget(1, [1, 2, 3], led, voter => voter != 2));
        Assert.Equal(0UL, LeadershipBalance.TransferTarget(1, [1, 2], led, voter => voter != 2));
    }

    [Fact]
    public void TheVoterLeadingFewestWinsThenTheLowestId()
    {
        var led = new Dictionary<ulong, int> { [1] = 5, [2] = 2, [3] = 1, [4] = 1 };

        Assert.Equal(3UL, LeadershipBalance.TransferTarget(1, [4, 2, 1, 3], led, EveryoneCaughtUp));
        Assert.Equal(2UL, LeadershipBalance.TransferTarget(1, [2], led, EveryoneCaughtUp));
    }

    [Fact]
    public void ALeaderThatIsNotActiveOrLeadsOneHandsNothing()
    {
        var led = new Dictionary<ulong, int> { [1] = 1, [2] = 0 };

        Assert.Equal(0UL, LeadershipBalance.TransferTarget(1, [1, 2], led, EveryoneCaughtUp));
        Assert.Equal(0UL, LeadershipBalance.TransferTarget(7, [7, 2], led, EveryoneCaughtUp));
    }
}
