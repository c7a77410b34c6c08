using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Strata.Transport.Tests;

/// <summary>What a transport refuses, and how it survives peers that die, restart or stop reading.</summary>
public sealed class TcpTransportFailureTests
{
    /// <summary>Node 2, knowing node 1 (which would dial it), with a raw socket playing node 1.</summary>
    private static async Task<(TcpTransport Node, RawPeer Raw)> AcceptorWithRawDialer()
    {
        var node = await TcpTransport.StartAsync(
            TestNodes.Options(2) with { Peers = new Dictionary<ulong, string> { [1] = "127.0.0.1:9" } }, CancellationToken.None);
        var raw = await RawPeer.Connect(node.ListenEndPoint);
        return (node, raw);
    }

    public static TheoryData<string> BrokenRecords => ["bad checksum", "oversize length", "bulk frame over the maximum", "chunk without a bulk frame", "handshake record again"];

    [Theory]
    [MemberData(nameof(BrokenRecords))]
    public async Task A_broken_record_closes_the_connection_and_nothing_of_it_is_delivered(string broken)
    {
        var (node, raw) = await AcceptorWithRawDialer();
        await using (node)
        await using (raw)
        {
            Assert.Equal(HandshakeStatus.Accepted, (await raw.Hello(1, 2)).Status);
            var good = WireRecord.Encode(RecordKind.Frame, TestNodes.Frame(1, 50));
            var bad = broken switch
            {
                "bad checksum" => Flip(WireRecord.Encode(RecordKind.Frame, TestNodes.Frame(2, 50)), 20),
                "oversize length" => [0x00, 0x00, 0x00, 0x40, (byte)RecordKind.Frame], // 1 GiB announced, no payload sent
                "bulk frame over the maximum" => WireRecord.Encode(RecordKind.BulkBegin, BulkHeader((uint)node.Options.MaxFrameSize + 1, 10)),
                "chunk without a bulk frame" => WireRecord.Encode(RecordKind.BulkPart, TestNodes.Frame(3, 10)),
                _ => Handshake.EncodeHello(1, 2, TestNodes.Cluster),
            };
            var after = WireRecord.Encode(RecordKind.Frame, TestNodes.Frame(4, 50));

            // One write: a good record, the broken one, and a good one that must not be delivered either.
            await raw.Write([.. good, .. bad, .. after]);
            Assert.True(await raw.ClosedByPeer(), "the transport closes the connection");

            var received = await Eventually.Receive(node, 1, "the record before the broken one");
            Assert.Equal(1, TestNodes.TagOf(received[0]));
            await Eventually.Until(() => node.LinkTo(1)!.State == LinkState.Unreachable, "the link is down");
            Assert.False(node.TryReceive(out _));
            var link = node.LinkTo(1)!;
            Assert.Equal(1, link.CorruptRecords);
            Assert.Equal(1, link.FramesIn);
            Assert.NotNull(link.LastError);
        }
    }

    [Fact]
    public async Task Another_protocol_or_silence_before_the_hello_is_cut_off()
    {
        var (node, talker) = await AcceptorWithRawDialer();
        await using (node)
        await using (talker)
        {
            await talker.Write("GET / HTTP/1.1\r\nHost: strata\r\n\r\n"u8.ToArray());
            Assert.True(await talker.ClosedByPeer(), "a non-Strata client is disconnected");
        }

        var quick = await TcpTransport.StartAsync(TestNodes.Options(2) with { HandshakeTimeout = TimeSpan.FromMilliseconds(200) }, CancellationToken.None);
        await using (quick)
        await using (var silent = await RawPeer.Connect(quick.ListenEndPoint))
        {
            Assert.True(await silent.ClosedByPeer(), "a client that never says hello is disconnected");
            Assert.Empty(quick.Links);
        }
    }

    [Fact]
    public async Task A_connection_that_goes_silent_is_closed_after_the_idle_timeout_while_keepalives_flow()
    {
        var node = await TcpTransport.StartAsync(TestNodes.Options(2) with
        {
            Peers = new Dictionary<ulong, string> { [1] = "127.0.0.1:9" },
            KeepAliveInterval = TimeSpan.FromMilliseconds(50),
            IdleTimeout = TimeSpan.FromMilliseconds(400),
        }, CancellationToken.None);
        await using (node)
        await using (var raw = await RawPeer.Connect(node.ListenEndPoint))
        {
            Assert.Equal(HandshakeStatus.Accepted, (await raw.Hello(1, 2)).Status);

            // The raw peer sends nothing; the node, having nothing to send either, still writes keepalives (each with a
            // reading of its clock, in nanoseconds)...
            (RecordKind kind, byte[] payload) = await raw.ReadRecord();
            Assert.Equal(RecordKind.KeepAlive, kind);
            Assert.Equal(8, payload.Length);
            Assert.True(System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(payload) > 0);

            // ...and closes the connection once it has heard nothing for the idle timeout.
            Assert.True(await raw.ClosedByPeer(), "a silent connection is closed");
            await Eventually.Until(() => node.LinkTo(1) is { IsConnected: false, LastError: { } error } && error.Contains("received nothing", StringComparison.Ordinal),
                "the link reports why the connection closed");
        }
    }

    [Fact]
    public async Task Keepalives_keep_an_idle_connection_open_past_the_idle_timeout()
    {
        var quick = (ulong id) => TestNodes.Options(id) with
        {
            KeepAliveInterval = TimeSpan.FromMilliseconds(50),
            IdleTimeout = TimeSpan.FromSeconds(2), // forty keepalive intervals: a stall would have to be long to fake silence
        };
        var nodes = await TestNodes.StartMesh(quick(1), quick(2));
        try
        {
            await Eventually.Until(() => nodes[0].LinkTo(2)!.IsConnected && nodes[1].LinkTo(1)!.IsConnected, "connected");
            await Task.Delay(TimeSpan.FromSeconds(4.5)); // more than two idle timeouts without a frame
            Assert.Equal(1, nodes[0].LinkTo(2)!.Connections);
            Assert.Equal(1, nodes[1].LinkTo(1)!.Connections);
            Assert.True(nodes[0].Send(2, TestNodes.Frame(7, 10)));
            await Eventually.Until(() => nodes[1].TryReceive(out var frame) && TestNodes.TagOf(frame.ToArray()) == 7, "the frame arrives");
        }
        finally
        {
            await TestNodes.DisposeAll(nodes);
        }
    }

    [Fact]
    public async Task A_peer_that_moves_to_a_new_address_is_redialed_there()
    {
        var log1 = new ListLogger();
        var log2 = new ListLogger();
        var nodes = await TestNodes.StartMesh(TestNodes.Options(1) with { Logger = log1 }, TestNodes.Options(2));
        TcpTransport? moved = null;
        try
        {
            await nodes[1].DisposeAsync();
            moved = await TcpTransport.StartAsync(
                TestNodes.Options(2) with { Logger = log2, Peers = new Dictionary<ulong, string> { [1] = TestNodes.Address(nodes[0]) } },
                CancellationToken.None);
            nodes[0].SetPeer(2, TestNodes.Address(moved));

            // From SetPeer on, frames wait for the connection to the new address (none is lost with the old one).
            Assert.True(nodes[0].Send(2, TestNodes.Frame(11, 10)));
            List<byte[]> received;
            try
            {
                received = await Eventually.Receive(moved, 1, "frame to the moved node");
            }
            catch (Exception e)
            {
                // What the two ends logged is what tells a slow machine from a stuck dial loop.
                throw new Xunit.Sdk.XunitException($"{e.Message}; link {nodes[0].LinkTo(2)}\nnode 1 log:\n{string.Join("\n", log1.Lines)}\nnode 2 log:\n{string.Join("\n", log2.Lines)}");
            }

            Assert.Equal(11, TestNodes.TagOf(received[0]));
            var link = nodes[0].LinkTo(2)!;
            Assert.Equal(2, link.Connections);
            Assert.Equal(TestNodes.Address(moved), link.Address);
            Assert.Contains(log1.Lines, l => l.Contains($"Peer 2 moved from {TestNodes.Address(nodes[1])} to {TestNodes.Address(moved)}", StringComparison.Ordinal));
            Assert.Contains(log2.Lines, l => l.Contains("connected to peer 1", StringComparison.Ordinal));
        }
        finally
        {
            await nodes[0].DisposeAsync();
            await nodes[1].DisposeAsync();
            if (moved is not null)
            {
                await moved.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_second_connection_for_the_same_pair_replaces_the_first()
    {
        var (node, first) = await AcceptorWithRawDialer();
        await using (node)
        await using (first)
        await using (var second = await RawPeer.Connect(node.ListenEndPoint))
        {
            Assert.Equal(HandshakeStatus.Accepted, (await first.Hello(1, 2)).Status);
            await Eventually.Until(() => node.LinkTo(1)!.IsConnected, "first connection adopted");
            Assert.Equal(HandshakeStatus.Accepted, (await second.Hello(1, 2)).Status);
            Assert.True(await first.ClosedByPeer(), "the replaced connection is closed");

            var link = node.LinkTo(1)!;
            Assert.Equal(LinkState.Connected, link.State);
            Assert.Equal(2, link.Connections);
            Assert.Equal(1, link.Reconnects);

            // Traffic now flows over the second connection, both ways.
            Assert.True(node.Send(1, TestNodes.Frame(6, 30)));
            var (kind, payload) = await second.ReadRecord();
            Assert.Equal(RecordKind.Frame, kind);
            Assert.Equal(TestNodes.Frame(6, 30), payload);
            await second.Write(WireRecord.Encode(RecordKind.Frame, TestNodes.Frame(7, 30)));
            Assert.Equal(7, TestNodes.TagOf((await Eventually.Receive(node, 1, "frame over the new connection"))[0]));
        }
    }

    [Theory]
    [InlineData(1UL, 5UL, "other-cluster", (int)HandshakeStatus.WrongCluster)]
    [InlineData(2UL, 5UL, TestNodes.Cluster, (int)HandshakeStatus.UnknownNode)]
    [InlineData(7UL, 5UL, TestNodes.Cluster, (int)HandshakeStatus.WrongDirection)]
    [InlineData(1UL, 4UL, TestNodes.Cluster, (int)HandshakeStatus.WrongNode)]
    public async Task A_bad_hello_is_refused_with_a_reason_and_closed(ulong dialer, ulong acceptor, string cluster, int status)
    {
        var node = await TcpTransport.StartAsync(
            TestNodes.Options(5) with { Peers = new Dictionary<ulong, string> { [1] = "127.0.0.1:9", [3] = "127.0.0.1:9" } },
            CancellationToken.None);
        await using (node)
        await using (var raw = await RawPeer.Connect(node.ListenEndPoint))
        {
            var welcome = await raw.Hello(dialer, acceptor, cluster);
            Assert.Equal((HandshakeStatus)status, welcome.Status);
            Assert.NotEmpty(welcome.Reason);
            Assert.True(await raw.ClosedByPeer());
            Assert.All(node.Links, l => Assert.Equal(0, l.Connections));
            Assert.Equal(2, node.Links.Count); // an unknown dialer leaves no trace
        }
    }

    [Fact]
    public async Task Nodes_of_different_clusters_never_connect()
    {
        var a = await TcpTransport.StartAsync(TestNodes.Options(1) with { ClusterId = "blue" }, CancellationToken.None);
        var b = await TcpTransport.StartAsync(TestNodes.Options(2) with { ClusterId = "green" }, CancellationToken.None);
        await using (a)
        await using (b)
        {
            b.SetPeer(1, TestNodes.Address(a));
            a.SetPeer(2, TestNodes.Address(b));
            await Eventually.Until(() => a.LinkTo(2)!.LastError?.Contains("WrongCluster", StringComparison.Ordinal) == true, "node 1 is refused for its cluster");
            Assert.False(a.Send(2, [1]));
            Assert.Equal(0, a.LinkTo(2)!.Connections);
            Assert.Equal(0, b.LinkTo(1)!.Connections);
            Assert.True(b.AcceptedConnections >= 1);
        }
    }

    [Fact]
    public async Task An_unknown_node_is_accepted_only_when_the_options_allow_it()
    {
        var b = await TcpTransport.StartAsync(TestNodes.Options(2) with { AcceptUnknownPeers = true }, CancellationToken.None);
        var a = await TcpTransport.StartAsync(TestNodes.Options(1), CancellationToken.None);
        await using (a)
        await using (b)
        {
            a.SetPeer(2, TestNodes.Address(b));
            await Eventually.Until(() => b.LinkTo(1)?.IsConnected == true, "node 2 adopts the unknown node 1");
            Assert.Null(b.LinkTo(1)!.Address);
            Assert.True(b.Send(1, TestNodes.Frame(8, 20)));
            Assert.Equal(8, TestNodes.TagOf((await Eventually.Receive(a, 1, "frame back to the unknown dialer"))[0]));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_restarted_peer_is_reconnected_and_send_reports_it_unreachable_meanwhile(bool restartAcceptor)
    {
        var nodes = await TestNodes.StartMesh(TestNodes.Options(1), TestNodes.Options(2));
        var survivor = restartAcceptor ? nodes[0] : nodes[1];
        var restarted = restartAcceptor ? nodes[1] : nodes[0];
        TcpTransport? replacement = null;
        try
        {
            Assert.True(survivor.Send(restarted.LocalNode, TestNodes.Frame(1, 10)));
            await Eventually.Receive(restarted, 1, "before the restart");

            var port = restarted.ListenEndPoint.Port;
            await restarted.DisposeAsync();
            var probe = TestNodes.Frame(2, 10);
            await Eventually.Until(() => !survivor.Send(restarted.LocalNode, probe), "Send returns false while the peer is down");
            Assert.Equal(LinkState.Unreachable, survivor.LinkTo(restarted.LocalNode)!.State);

            // Same id, same address (the dialer's own port does not matter but is kept too).
            replacement = await TestNodes.StartOnPort(
                TestNodes.Options(restarted.LocalNode, port) with
                {
                    Peers = new Dictionary<ulong, string> { [survivor.LocalNode] = TestNodes.Address(survivor) },
                });
            await Eventually.Until(() => survivor.LinkTo(replacement.LocalNode)!.IsConnected, "the link reconnects");
            Assert.True(survivor.Send(replacement.LocalNode, TestNodes.Frame(3, 10)));
            var after = await Eventually.Receive(replacement, 1, "after the restart");
            Assert.Equal(3, TestNodes.TagOf(after[0]));

            var link = survivor.LinkTo(replacement.LocalNode)!;
            Assert.Equal(2, link.Connections);
            Assert.True(link.DroppedUnreachable >= 1);
        }
        finally
        {
            await survivor.DisposeAsync();
            if (replacement is not null)
            {
                await replacement.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_peer_that_stops_reading_fills_the_bounded_queue_and_sends_are_refused()
    {
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.ReceiveBufferSize = 16 << 10;
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var stuckPeer = StuckAcceptor(listener);

        const long limit = 1 << 20;
        var options = TestNodes.Options(1) with
        {
            OutboundQueueLimit = limit,
            Peers = new Dictionary<ulong, string> { [2] = $"127.0.0.1:{((IPEndPoint)listener.LocalEndPoint!).Port}" },
        };
        await using var node = await TcpTransport.StartAsync(options, CancellationToken.None);
        await Eventually.Until(() => node.LinkTo(2)!.IsConnected, "connected to the peer that will not read");

        // 256 MiB offered in 16 KiB frames (one array, sent again and again), with pauses so the writer can push as
        // much as the socket takes. The peer reads nothing after its welcome.
        var frame = new byte[16 << 10];
        long accepted = 0;
        long refused = 0;
        for (var i = 0; i < 16_384; i++)
        {
            if (node.Send(2, frame))
            {
                accepted += frame.Length;
            }
            else
            {
                refused++;
            }

            if (i % 256 == 0)
            {
                await Task.Delay(1);
            }

            Assert.True(node.LinkTo(2)!.QueuedBytes <= limit, "the queue stays under its limit");
        }

        var link = node.LinkTo(2)!;
        Assert.True(refused > 0);
        Assert.Equal(refused, link.DroppedQueueFull);
        Assert.True(accepted < 64L << 20, $"accepted {accepted} bytes for a peer that reads nothing: only the queue and the socket buffers may hold them");
        Assert.Equal(LinkState.Connected, link.State);
        using var stuck = await stuckPeer;
    }

    [Fact]
    public async Task A_receiver_behind_on_its_queue_pauses_reading_and_loses_nothing_when_it_catches_up()
    {
        var nodes = await TestNodes.StartMesh(
            TestNodes.Options(1) with { OutboundQueueLimit = 256 << 10 },
            TestNodes.Options(2) with { InboundQueueLimit = 64 << 10 });
        try
        {
            // Node 2's drive loop "stalls" (nobody calls TryReceive): node 2 stops reading its socket, the socket
            // buffers fill, node 1's queue fills, and node 1's Send starts refusing.
            var accepted = 0;
            await Eventually.Until(
                () =>
                {
                    // 128 KiB per poll, under node 1's 256 KiB limit: only a writer that cannot drain fills the queue.
                    for (var i = 0; i < 8; i++)
                    {
                        if (!nodes[0].Send(2, TestNodes.Frame(accepted, 16 << 10)))
                        {
                            return true;
                        }

                        accepted++;
                    }

                    return false;
                },
                "node 1 feels the backpressure of node 2's full receive queue");
            // Node 2 read at most its limit plus one read's worth (64 KiB) and the frame that crossed the limit.
            var framesTaken = nodes[1].LinkTo(1)!.FramesIn;
            Assert.True(framesTaken * (16 << 10) <= (64 << 10) + (64 << 10) + (16 << 10), $"node 2 took {framesTaken} frames in while stalled");
            Assert.True(accepted > framesTaken);

            // The drive loop catches up: every accepted frame arrives, in order, none lost.
            var received = await Eventually.Receive(nodes[1], accepted, "every accepted frame after the stall");
            Assert.Equal(Enumerable.Range(0, accepted), received.Select(TestNodes.TagOf));
            Assert.Equal(LinkState.Connected, nodes[0].LinkTo(2)!.State);
        }
        finally
        {
            await TestNodes.DisposeAll(nodes);
        }
    }

    /// <summary>Accepts one connection, answers the hello as node 2, then never reads again.</summary>
    private static async Task<Socket> StuckAcceptor(Socket listener)
    {
        var socket = await listener.AcceptAsync();
        var raw = RawPeer.Wrap(socket);
        var (kind, _) = await raw.ReadRecord();
        Assert.Equal(RecordKind.Hello, kind);
        await raw.Write(Handshake.EncodeWelcome(2, HandshakeStatus.Accepted, ""));
        return socket;
    }

    private static byte[] Flip(byte[] record, int index)
    {
        record[index] ^= 0x01;
        return record;
    }

    private static byte[] BulkHeader(uint total, int data)
    {
        var payload = new byte[4 + data];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, total);
        return payload;
    }
}
