using System.Collections.Concurrent;
using Strata.Replication;

namespace Strata.Cluster.Tests;

/// <summary>
/// A thread-safe in-process network for clusters whose nodes run their own loop threads: frames are queued per
/// destination and the destination is woken. Nodes can be taken down (their frames are dropped both ways and their
/// queue is lost) and node pairs cut.
/// </summary>
internal sealed class InProcessNetwork
{
    private readonly ConcurrentDictionary<ulong, Endpoint> _endpoints = new();
    private readonly ConcurrentDictionary<ulong, bool> _down = new();
    private readonly ConcurrentDictionary<(ulong, ulong), bool> _cut = new();

    public ITransport Connect(ulong node, Action arrived)
    {
        var endpoint = new Endpoint(this, node, arrived);
        _endpoints[node] = endpoint;
        return endpoint;
    }

    public void Down(ulong node)
    {
        _down[node] = true;
        if (_endpoints.TryGetValue(node, out Endpoint? endpoint))
        {
            endpoint.Inbox.Clear();
        }
    }

    public void Up(ulong node) => _down.TryRemove(node, out _);

    /// <summary>Cuts both directions between <paramref name="a"/> and <paramref name="b"/>.</summary>
    public void Cut(ulong a, ulong b)
    {
        _cut[(a, b)] = true;
        _cut[(b, a)] = true;
    }

    /// <summary>Drops frames from <paramref name="from"/> to <paramref name="to"/> only (the other way still works).</summary>
    public void CutOneWay(ulong from, ulong to) => _cut[(from, to)] = true;

    /// <summary>Cuts <paramref name="node"/> from every node in <paramref name="others"/>, both ways.</summary>
    public void Isolate(ulong node, IEnumerable<ulong> others)
    {
        foreach (ulong other in others)
        {
            if (other != node)
            {
                Cut(node, other);
            }
        }
    }

    public void HealAll() => _cut.Clear();

    private bool Deliver(ulong from, ulong to, byte[] frame)
    {
        if (_down.ContainsKey(from) || _down.ContainsKey(to) || _cut.ContainsKey((from, to))
            || !_endpoints.TryGetValue(to, out Endpoint? destination))
        {
            return false;
        }

        destination.Inbox.Enqueue(frame);
        destination.Arrived();
        return true;
    }

    private readonly ConcurrentDictionary<(ulong Observer, ulong Peer), double> _clockRates = new();

    /// <summary>Makes <paramref name="observer"/>'s transport report <paramref name="peer"/>'s clock running <paramref name="rate"/> times as fast as its own.</summary>
    public void SetClockRate(ulong observer, ulong peer, double rate) => _clockRates[(observer, peer)] = rate;

    /// <summary>Makes <paramref name="observer"/>'s transport have no measurement of <paramref name="peer"/>'s clock (as on a connection younger than the span asked about).</summary>
    public void SetClockUnmeasured(ulong observer, ulong peer) => _clockRates[(observer, peer)] = double.NaN;

    /// <summary>Every clock at the same rate again.</summary>
    public void ClearClockRates() => _clockRates.Clear();

    private sealed class Endpoint(InProcessNetwork network, ulong node, Action arrived) : ITransport, IPeerClocks
    {
        public double? RelativeRate(ulong nodeId, TimeSpan span) =>
            network._clockRates.TryGetValue((node, nodeId), out double rate) ? (double.IsNaN(rate) ? null : rate) : 1.0;

        public ConcurrentQueue<byte[]> Inbox { get; } = new();

        public Action Arrived { get; } = arrived;

        public ulong LocalNode => node;

        public bool Send(ulong destinationNode, byte[] frame) => network.Deliver(node, destinationNode, frame);

        public bool TryReceive(out ReadOnlyMemory<byte> frame)
        {
            if (Inbox.TryDequeue(out byte[]? next))
            {
                frame = next;
                return true;
            }

            frame = default;
            return false;
        }
    }
}
