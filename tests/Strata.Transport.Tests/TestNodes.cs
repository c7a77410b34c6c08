using System.Buffers.Binary;
using System.Net;

namespace Strata.Transport.Tests;

/// <summary>Starts transports on 127.0.0.1 with free ports and introduces them to each other.</summary>
internal static class TestNodes
{
    public const string Cluster = "test-cluster";

    public static TcpTransportOptions Options(ulong id, int port = 0) => new()
    {
        LocalNodeId = id,
        ClusterId = Cluster,
        ListenEndPoint = new IPEndPoint(IPAddress.Loopback, port),
        BulkBytesPerSecond = null,
        ReconnectInitialBackoff = TimeSpan.FromMilliseconds(20),
        ReconnectMaxBackoff = TimeSpan.FromMilliseconds(300),
    };

    public static string Address(TcpTransport t) => $"127.0.0.1:{t.ListenEndPoint.Port}";

    /// <summary>Starts one transport per id and makes the full mesh; returns once every link is connected.</summary>
    public static async Task<TcpTransport[]> StartMesh(params TcpTransportOptions[] options)
    {
        var nodes = new TcpTransport[options.Length];
        for (var i = 0; i < options.Length; i++)
        {
            nodes[i] = await TcpTransport.StartAsync(options[i], CancellationToken.None);
        }

        // Acceptors learn their lower-id peers first, so no dialer is refused as unknown.
        foreach (var node in nodes)
        {
            foreach (var peer in nodes.Where(p => p.LocalNode < node.LocalNode))
            {
                node.SetPeer(peer.LocalNode, Address(peer));
            }
        }

        foreach (var node in nodes)
        {
            foreach (var peer in nodes.Where(p => p.LocalNode > node.LocalNode))
            {
                node.SetPeer(peer.LocalNode, Address(peer));
            }
        }

        await Eventually.Until(() => nodes.All(n => n.Links.Count == nodes.Length - 1 && n.Links.All(l => l.IsConnected)), "every link connected");
        return nodes;
    }

    /// <summary>Starts a transport on a fixed port, retrying while the port is taken: between a node's stop and its
    /// restart another process's connection may briefly hold the port as its local end (as a real restart would,
    /// the test waits for it to be free).</summary>
    public static async Task<TcpTransport> StartOnPort(TcpTransportOptions options)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await TcpTransport.StartAsync(options, CancellationToken.None);
            }
            catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse && clock.Elapsed < Eventually.Limit)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>A recognizable frame: a u32 tag then deterministic bytes (frames under 4 bytes are all-tag bytes).</summary>
    public static byte[] Frame(int tag, int size)
    {
        var frame = new byte[size];
        new Random(tag).NextBytes(frame);
        if (size >= 4)
        {
            BinaryPrimitives.WriteInt32LittleEndian(frame, tag);
        }

        return frame;
    }

    public static int TagOf(byte[] frame) => BinaryPrimitives.ReadInt32LittleEndian(frame);

    public static async Task DisposeAll(IEnumerable<TcpTransport> nodes)
    {
        foreach (var node in nodes)
        {
            await node.DisposeAsync();
        }
    }
}
