namespace Strata.Consensus;

/// <summary>
/// ReadIndex requests waiting for a heartbeat round to confirm that the leader still leads (§6.4 of the thesis).
/// Requests are answered in arrival order: an acknowledgment of a later request confirms every earlier one.
/// </summary>
internal sealed class ReadOnlyQueue
{
    private readonly Dictionary<ReadOnlyMemory<byte>, Pending> _pending = new(ContextComparer.Instance);
    private readonly List<Pending> _queue = [];

    public int Count => _queue.Count;

    public ReadOnlyMemory<byte> LastContext => _queue.Count == 0 ? default : _queue[^1].Context;

    /// <summary>Queues a request; false if a request with the same context is already waiting.</summary>
    public bool Add(ulong index, ulong from, ReadOnlyMemory<byte> context)
    {
        if (_pending.ContainsKey(context))
        {
            return false;
        }

        var p = new Pending(index, from, context);
        _pending.Add(context, p);
        _queue.Add(p);
        return true;
    }

    /// <summary>Records that <paramref name="id"/> acknowledged the heartbeat carrying <paramref name="context"/>.</summary>
    public HashSet<ulong>? Acknowledge(ulong id, ReadOnlyMemory<byte> context)
    {
        if (!_pending.TryGetValue(context, out var p))
        {
            return null;
        }

        p.Acks.Add(id);
        return p.Acks;
    }

    /// <summary>Removes and returns every request up to and including the one with <paramref name="context"/>.</summary>
    public List<Pending> Release(ReadOnlyMemory<byte> context)
    {
        var released = new List<Pending>();
        var at = _queue.FindIndex(p => p.Context.Span.SequenceEqual(context.Span));
        if (at < 0)
        {
            return released;
        }

        for (var i = 0; i <= at; i++)
        {
            released.Add(_queue[i]);
            _pending.Remove(_queue[i].Context);
        }

        _queue.RemoveRange(0, at + 1);
        return released;
    }

    public void Clear()
    {
        _pending.Clear();
        _queue.Clear();
    }

    internal sealed record Pending(ulong Index, ulong From, ReadOnlyMemory<byte> Context)
    {
        public HashSet<ulong> Acks { get; } = [];
    }

    private sealed class ContextComparer : IEqualityComparer<ReadOnlyMemory<byte>>
    {
        public static readonly ContextComparer Instance = new();

        public bool Equals(ReadOnlyMemory<byte> x, ReadOnlyMemory<byte> y) => x.Span.SequenceEqual(y.Span);

        public int GetHashCode(ReadOnlyMemory<byte> obj)
        {
            var h = new HashCode();
            h.AddBytes(obj.Span);
            return h.ToHashCode();
        }
    }
}
