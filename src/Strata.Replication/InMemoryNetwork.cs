namespace Strata.Replication;

/// <summary>
/// An in-process network of <see cref="ITransport"/> endpoints for tests, simulations and benchmarks: frames are queued
/// per destination and delivered in order when the destination's store next receives. Nodes can be taken down (frames
/// to and from them are dropped and their queue is lost, as in a crash) and links cut; the next frame on a link can be
/// corrupted to exercise checksums, and chosen frames lost. Counts frames per link.
/// </summary>
/// <remarks>Not thread-safe: drive every store from one thread (tests step them in turn). Deterministic.</remarks>
public sealed class InMemoryNetwork
{
    private readonly Dictionary<ulong, Queue<byte[]>> _inboxes = [];
    private readonly HashSet<ulong> _down = [];
    private readonly HashSet<(ulong, ulong)> _cut = [];
    private readonly HashSet<(ulong, ulong)> _corruptNext = [];
    private readonly Dictionary<(ulong From, ulong To), long> _framesSent = [];
    private readonly Dictionary<(ulong From, ulong To), long> _bytesSent = [];

    /// <summary>The endpoint of <paramref name="nodeId"/> (created on first use; the same queue after a restart).</summary>
    public ITransport Endpoint(ulong nodeId)
    {
        if (!_inboxes.ContainsKey(nodeId))
        {
            _inboxes[nodeId] = new Queue<byte[]>();
        }

        return new Transport(this, nodeId);
    }

    /// <summary>Total frames accepted for delivery on every link.</summary>
    public long TotalFrames { get; private set; }

    /// <summary>The longest frame delivered so far, in bytes.</summary>
    public int LargestFrame { get; private set; }

    /// <summary>Frames accepted from <paramref name="from"/> to <paramref name="to"/> so far.</summary>
    public long FramesSent(ulong from, ulong to) => _framesSent.GetValueOrDefault((from, to));

    /// <summary>Bytes of the frames delivered from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public long BytesSent(ulong from, ulong to) => _bytesSent.GetValueOrDefault((from, to));

    /// <summary>Takes <paramref name="nodeId"/> down: its queued frames are lost and frames to it are dropped.</summary>
    public void Down(ulong nodeId)
    {
        _down.Add(nodeId);
        if (_inboxes.TryGetValue(nodeId, out var inbox))
        {
            inbox.Clear();
        }
    }

    /// <summary>Brings <paramref name="nodeId"/> back up.</summary>
    public void Up(ulong nodeId) => _down.Remove(nodeId);

    /// <summary>Cuts (or with <paramref name="cut"/> false, restores) both directions between two nodes.</summary>
    public void Cut(ulong a, ulong b, bool cut = true)
    {
        if (cut)
        {
            _cut.Add((a, b));
            _cut.Add((b, a));
        }
        else
        {
            _cut.Remove((a, b));
            _cut.Remove((b, a));
        }
    }

    /// <summary>Flips one bit in the next frame sent from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public void CorruptNextFrame(ulong from, ulong to) => _corruptNext.Add((from, to));

    /// <summary>
    /// Optional: called with (from, to, frame) for every frame that would be delivered; true loses it on the way, as a
    /// connection that broke after the sender handed it over would (the sender is told it was sent).
    /// </summary>
    public Func<ulong, ulong, ReadOnlyMemory<byte>, bool>? Lose { get; set; }

    private bool Send(ulong from, ulong to, byte[] frame)
    {
        if (_down.Contains(to) || _down.Contains(from) || _cut.Contains((from, to)) || !_inboxes.TryGetValue(to, out var inbox))
        {
            return false;
        }

        if (Lose?.Invoke(from, to, frame) == true)
        {
            return true;
        }

        if (_corruptNext.Remove((from, to)))
        {
            frame = (byte[])frame.Clone();
            frame[frame.Length / 2] ^= 0x10;
        }

        inbox.Enqueue(frame);
        TotalFrames++;
        LargestFrame = Math.Max(LargestFrame, frame.Length);
        _framesSent[(from, to)] = _framesSent.GetValueOrDefault((from, to)) + 1;
        _bytesSent[(from, to)] = _bytesSent.GetValueOrDefault((from, to)) + frame.Length;
        return true;
    }

    private bool TryReceive(ulong node, out ReadOnlyMemory<byte> frame)
    {
        if (!_down.Contains(node) && _inboxes.TryGetValue(node, out var inbox) && inbox.TryDequeue(out var bytes))
        {
            frame = bytes;
            return true;
        }

        frame = default;
        return false;
    }

    private sealed class Transport(InMemoryNetwork network, ulong node) : ITransport
    {
        public ulong LocalNode => node;

        public bool Send(ulong destinationNode, byte[] frame) => network.Send(node, destinationNode, frame);

        public bool TryReceive(out ReadOnlyMemory<byte> frame) => network.TryReceive(node, out frame);
    }
}
