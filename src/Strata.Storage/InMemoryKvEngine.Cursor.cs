using System.Collections.Immutable;

namespace Strata.Storage;

public sealed partial class InMemoryKvEngine
{
    /// <summary>
    /// A cursor over one immutable column version: it sees exactly the content at the moment it was opened, whatever
    /// is written afterwards. Positions are indexes into the immutable set, so moving is O(log n).
    /// </summary>
    private sealed class Cursor : IKvCursor
    {
        private readonly EngineGate _gate;
        private readonly ImmutableSortedSet<Pair> _set;

        // The range as indexes: [_first, _end).
        private readonly int _first;
        private readonly int _end;
        private readonly byte[] _lower;
        private readonly byte[]? _upper;

        private int _position = -1;
        private Pair? _current;
        private bool _disposed;

        public Cursor(EngineGate gate, ImmutableSortedSet<Pair> set, ReadOnlySpan<byte> lowerInclusive, ReadOnlySpan<byte> upperExclusive)
        {
            _gate = gate;
            _set = set;
            _lower = lowerInclusive.ToArray();
            _upper = upperExclusive.IsEmpty ? null : upperExclusive.ToArray();
            _first = LowerBound(set, _lower);
            _end = _upper is null ? set.Count : Math.Max(_first, LowerBound(set, _upper));
        }

        public bool Valid
        {
            get
            {
                ThrowIfUnusable();
                return _current is not null;
            }
        }

        public ReadOnlySpan<byte> Key => Current.Key;

        public ReadOnlySpan<byte> Value => Current.Value;

        private Pair Current
        {
            get
            {
                ThrowIfUnusable();
                return _current ?? throw new InvalidOperationException("The cursor is not positioned on an entry.");
            }
        }

        public void SeekToFirst()
        {
            ThrowIfUnusable();
            MoveTo(_first);
        }

        public void SeekToLast()
        {
            ThrowIfUnusable();
            MoveTo(_end - 1);
        }

        public void Seek(ReadOnlySpan<byte> key)
        {
            ThrowIfUnusable();
            MoveTo(Math.Max(_first, LowerBound(_set, key)));
        }

        public void SeekForPrev(ReadOnlySpan<byte> key)
        {
            ThrowIfUnusable();
            MoveTo(Math.Min(_end - 1, UpperBound(_set, key) - 1));
        }

        public void Next()
        {
            ThrowIfUnusable();
            ThrowIfNotPositioned();
            MoveTo(_position + 1);
        }

        public void Prev()
        {
            ThrowIfUnusable();
            ThrowIfNotPositioned();
            MoveTo(_position - 1);
        }

        public void Dispose()
        {
            _disposed = true;
            _current = null;
        }

        private void MoveTo(int index)
        {
            if (index >= _first && index < _end)
            {
                _position = index;
                _current = _set[index];
            }
            else
            {
                _position = -1;
                _current = null;
            }
        }

        private void ThrowIfNotPositioned()
        {
            if (_current is null)
            {
                throw new InvalidOperationException("Next/Prev need a positioned cursor: seek first.");
            }
        }

        private void ThrowIfUnusable()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _gate.ThrowIfUnusable();
        }

        public override string ToString() =>
            $"InMemoryKvEngine cursor [{Convert.ToHexString(_lower)}, {(_upper is null ? "end" : Convert.ToHexString(_upper))})";
    }
}
