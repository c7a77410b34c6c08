namespace Strata.Transport.Tests;

/// <summary>Addresses and option validation.</summary>
public sealed class OptionsTests
{
    [Theory]
    [InlineData("127.0.0.1:7000", "127.0.0.1", 7000)]
    [InlineData("node-3.strata.internal:7000", "node-3.strata.internal", 7000)]
    [InlineData("[::1]:7001", "::1", 7001)]
    public void Addresses_parse(string text, string host, int port)
    {
        var address = PeerAddress.Parse(text);
        Assert.Equal(new PeerAddress(host, port), address);
        Assert.Equal(address, PeerAddress.Parse(address.ToString()));
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("localhost:")]
    [InlineData(":7000")]
    [InlineData("host:0")]
    [InlineData("host:70000")]
    [InlineData("::1:7000")]
    public void Bad_addresses_are_refused(string text) => Assert.Throws<ArgumentException>(() => PeerAddress.Parse(text));

    [Fact]
    public void Options_are_validated()
    {
        var good = TestNodes.Options(1);
        good.Validate();
        Assert.Throws<ArgumentException>(() => (good with { LocalNodeId = 0 }).Validate());
        Assert.Throws<ArgumentException>(() => (good with { ClusterId = "" }).Validate());
        Assert.Throws<ArgumentException>(() => (good with { BulkChunkSize = TcpTransportOptions.MaxRecordData + 1 }).Validate());
        Assert.Throws<ArgumentException>(() => (good with { Peers = new Dictionary<ulong, string> { [1] = "a:1" } }).Validate());
        Assert.Throws<ArgumentException>(() => (good with { Peers = new Dictionary<ulong, string> { [2] = "nope" } }).Validate());
        Assert.Throws<ArgumentException>(() => (good with { ReconnectMaxBackoff = TimeSpan.FromMilliseconds(1) }).Validate());
    }
}
