namespace Strata.Transport.Tests;

/// <summary>Two or three transports over real loopback sockets: delivery, lanes, the one-connection rule.</summary>
public sealed class TcpTransportTests
{
    [Fact]
    public async Task Frames_of_every_size_arrive_intact_in_lane_order_both_ways_over_one_connection()
    {
        var nodes = await TestNodes.StartMesh(TestNodes.Options(1), TestNodes.Options(2));
        try
        {
            int[] sizes = [0, 1, 3, 100, 65_536, 65_537, 1 << 20, 20 << 20, 7, 0, 200_000, 4];
            var sent = new Dictionary<ulong, List<byte[]>> { [1] = [], [2] = [] };
            for (var i = 0; i < sizes.Length; i++)
            {
                // Both directions at once over the same connection.
                foreach (var (from, to) in new[] { (0, 2UL), (1, 1UL) })
                {
                    var frame = TestNodes.Frame((i * 10) + from, sizes[i]);
                    Assert.True(nodes[from].Send(to, frame), $"send of {sizes[i]} bytes to node {to}");
                    sent[to].Add(frame);
                }
            }

            foreach (var node in nodes)
            {
                var received = await Eventually.Receive(node, sizes.Length, "all sizes");
                var expected = sent[node.LocalNode];

                // Each lane keeps its order; a small frame may overtake a bulk frame sent before it (by design).
                var threshold = node.Options.BulkThreshold;
                Assert.Equal(expected.Where(f => f.Length <= threshold), received.Where(f => f.Length <= threshold));
                Assert.Equal(expected.Where(f => f.Length > threshold), received.Where(f => f.Length > threshold));
                Assert.False(node.TryReceive(out _));
            }

            var link = nodes[0].LinkTo(2)!;
            Assert.Equal(1, link.Connections);
            Assert.Equal(sizes.Length, link.FramesOut);
            Assert.Equal(sizes.Length, link.FramesIn);
            Assert.Equal(sizes.Sum(s => (long)s), link.BytesIn);
            Assert.Equal(0, nodes[0].AcceptedConnections);
            Assert.Equal(1, nodes[1].AcceptedConnections);
        }
        finally
        {
            await TestNodes.DisposeAll(nodes);
        }
    }

    [Fact]
    public async Task Three_nodes_make_exactly_one_connection_per_pair_and_the_lower_id_dials()
    {
        var nodes = await TestNodes.StartMesh(TestNodes.Options(1), TestNodes.Options(2), TestNodes.Options(3));
        try
        {
            foreach (var from in nodes)
            {
                foreach (var to in nodes.Where(n => n != from))
                {
                    Assert.True(from.Send(to.LocalNode, TestNodes.Frame((int)((from.LocalNode * 10) + to.LocalNode), 64)));
                }
            }

            foreach (var node in nodes)
            {
                var received = await Eventually.Receive(node, 2, "one frame from each peer");
                var tags = received.Select(TestNodes.TagOf).Order().ToArray();
                Assert.Equal(nodes.Where(n => n != node).Select(n => (int)((n.LocalNode * 10) + node.LocalNode)).Order().ToArray(), tags);
            }

            // Node n accepts one socket from each lower id and none from higher ids: 0 + 1 + 2 sockets for 3 pairs.
            Assert.Equal([0L, 1L, 2L], nodes.Select(n => n.AcceptedConnections).ToArray());
            Assert.All(nodes.SelectMany(n => n.Links), l => Assert.Equal(1, l.Connections));
        }
        finally
        {
            await TestNodes.DisposeAll(nodes);
        }
    }

    [Fact]
    public async Task Small_frames_overtake_a_throttled_bulk_frame_sent_before_them()
    {
        // 1 MiB at 256 KiB/s in 64 KiB chunks: the bulk frame needs about 3.75 s after its first chunk, while the
        // small frames are all queued within microseconds of it and each writer round sends every queued small frame
        // before the next chunk. Only a stall of the test thread of seconds between two Sends could reorder them.
        var sender = TestNodes.Options(1) with { BulkBytesPerSecond = 256 << 10, BulkChunkSize = 64 << 10 };
        var nodes = await TestNodes.StartMesh(sender, TestNodes.Options(2));
        try
        {
            var big = TestNodes.Frame(-1, 1 << 20);
            Assert.True(nodes[0].Send(2, big));
            for (var i = 0; i < 200; i++)
            {
                Assert.True(nodes[0].Send(2, TestNodes.Frame(i, 100)));
            }

            var received = await Eventually.Receive(nodes[1], 201, "200 small frames and the big one");
            Assert.Equal(big, received[^1]);
            Assert.Equal(Enumerable.Range(0, 200), received.Take(200).Select(TestNodes.TagOf));
        }
        finally
        {
            await TestNodes.DisposeAll(nodes);
        }
    }

    [Fact]
    public async Task Frames_to_unknown_nodes_and_oversize_frames_are_refused()
    {
        var nodes = await TestNodes.StartMesh(TestNodes.Options(1) with { MaxFrameSize = 1000 }, TestNodes.Options(2));
        try
        {
            Assert.False(nodes[0].Send(9, [1, 2, 3]));
            Assert.Equal(1, nodes[0].FramesToUnknownPeers);
            Assert.False(nodes[0].Send(2, new byte[1001]));
            Assert.Equal(1, nodes[0].LinkTo(2)!.DroppedQueueFull);
            Assert.True(nodes[0].Send(2, new byte[1000]));
            var received = await Eventually.Receive(nodes[1], 1, "the frame of the maximum size");
            Assert.Equal(1000, received[0].Length);
        }
        finally
        {
            await TestNodes.DisposeAll(nodes);
        }
    }

    [Fact]
    public async Task A_removed_peer_is_no_longer_sent_to_and_an_added_one_is_dialed()
    {
        var nodes = await TestNodes.StartMesh(TestNodes.Options(1), TestNodes.Options(2));
        await using var third = await TcpTransport.StartAsync(TestNodes.Options(3), CancellationToken.None);
        try
        {
            nodes[0].RemovePeer(2);
            Assert.False(nodes[0].Send(2, [1]));
            Assert.Null(nodes[0].LinkTo(2));
            await Eventually.Until(() => !nodes[1].LinkTo(1)!.IsConnected, "node 2 notices the closed connection");

            // A join: node 3 learns node 1, then node 1 learns node 3 and dials it.
            third.SetPeer(1, TestNodes.Address(nodes[0]));
            nodes[0].SetPeer(3, TestNodes.Address(third));
            await Eventually.Until(() => nodes[0].LinkTo(3)!.IsConnected, "node 1 connects to the new node 3");
            Assert.True(nodes[0].Send(3, TestNodes.Frame(5, 10)));
            Assert.Equal(5, TestNodes.TagOf((await Eventually.Receive(third, 1, "frame to the joined node"))[0]));
        }
        finally
        {
            await TestNodes.DisposeAll(nodes);
        }
    }
}
