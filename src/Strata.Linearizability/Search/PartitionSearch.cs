using System.Diagnostics;

namespace Strata.Linearizability.Search;

/// <summary>
/// The Wing–Gong search with Lowe's just-in-time linearization and memoization, over one partition.
/// </summary>
/// <remarks>
/// <para>
/// The history is a doubly-linked list of call and return events in time order. Scanning from the head,
/// a call event is a candidate: if the model accepts it in the current state it is linearized (its call and
/// return events are lifted out of the list, the previous state is pushed) and the scan restarts at the
/// head. Reaching a return event means that operation had to be linearized before now and was not: undo the
/// most recent linearization (unlift it, pop the state) and try the next candidate after it.
/// </para>
/// <para>
/// Memoization (Lowe; made practical by Porcupine): the future of the search depends only on which
/// operations are linearized and the model state, so each (linearized set, state) pair is explored once.
/// The set is a bitset with an incrementally maintained Zobrist hash.
/// </para>
/// <para>
/// Operations with unknown outcome have no return event: nothing forces them to be linearized, which is
/// exactly "may take effect at any time after the call, or never". The search succeeds once every definite
/// operation is linearized. Linearizing an indeterminate operation that leaves the state unchanged is never
/// useful (the pair without it dominates), so such steps are skipped; this makes timed-out reads free.
/// </para>
/// <para>Not thread-safe; one instance runs one search once.</para>
/// </remarks>
internal sealed partial class PartitionSearch<TState, TInput, TOutput>
{
    private const int Head = 0;
    private const int None = -1;
    private const int CancellationCheckInterval = 1024;

    private readonly IModel<TState, TInput, TOutput> _model;
    private readonly IEqualityComparer<TState> _stateComparer;
    private readonly Operation<TInput, TOutput>[] _ops;
    private readonly int[] _historyIndex;
    private readonly bool[] _unknown;
    private readonly int _definiteCount;

    // Event list. Node 0 is the head sentinel; op i has its call at node 2i+1 and its return at node 2i+2
    // (the return node is never linked for an operation with unknown outcome).
    private readonly int[] _next;
    private readonly int[] _prev;

    private readonly ulong[] _linearized;
    private readonly ulong[] _zobrist;
    private ulong _linearizedHash;
    private readonly HashSet<MemoEntry> _memo;

    // The longest linearization seen: _bestBuffer[0.._bestLength). Only the part of the stack that changed since
    // the last record is copied (from _bestDirtyFrom), so keeping it costs O(1) amortized per step.
    private readonly int[] _bestBuffer;
    private int _bestLength;
    private int _bestDirtyFrom;

    /// <summary>Prepares the search over <paramref name="operations"/>, which are <paramref name="historyIndex"/>[i] in the full history.</summary>
    public PartitionSearch(
        IModel<TState, TInput, TOutput> model,
        Operation<TInput, TOutput>[] operations,
        int[] historyIndex)
    {
        _model = model;
        _stateComparer = model.StateComparer;
        _ops = operations;
        _historyIndex = historyIndex;
        var n = operations.Length;
        _unknown = new bool[n];
        for (var i = 0; i < n; i++)
        {
            _unknown[i] = operations[i].OutcomeUnknown;
            if (!_unknown[i])
            {
                _definiteCount++;
            }
        }

        _next = new int[(2 * n) + 1];
        _prev = new int[(2 * n) + 1];
        LinkEvents();

        _linearized = new ulong[(n + 63) / 64];
        _zobrist = new ulong[n];
        var seed = 0x9E3779B97F4A7C15UL;
        for (var i = 0; i < n; i++)
        {
            _zobrist[i] = SplitMix64(ref seed);
        }

        _memo = new HashSet<MemoEntry>(new MemoComparer(_stateComparer));
        _bestBuffer = new int[n];
    }

    /// <summary>How many (linearized set, state) pairs the search visited.</summary>
    public int VisitedCount => _memo.Count;

    /// <summary>
    /// The longest sequence of operations (local indices, in order) the search linearized: the full
    /// linearization when <see cref="Run"/> returned Ok.
    /// </summary>
    public ReadOnlySpan<int> Best => _bestBuffer.AsSpan(0, _bestLength);

    /// <summary>
    /// Runs the search to a verdict, or to <see cref="Verdict.Unknown"/> when <paramref name="cancellationToken"/>
    /// fires or the search would memoize more than <paramref name="maxVisitedStates"/> pairs.
    /// </summary>
    public Verdict Run(CancellationToken cancellationToken, long maxVisitedStates)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Verdict.Unknown;
        }

        var n = _ops.Length;
        var stackOps = new int[n];
        var stackStates = new TState[n];
        var depth = 0;
        var remaining = _definiteCount;
        var state = _model.Init();
        var entry = _next[Head];
        long iterations = 0;

        while (remaining > 0)
        {
            if ((++iterations & (CancellationCheckInterval - 1)) == 0 && cancellationToken.IsCancellationRequested)
            {
                return Verdict.Unknown;
            }

            Debug.Assert(entry != None, "a definite operation's return event always lies ahead of the scan");
            var op = (entry - 1) >> 1;
            if ((entry & 1) == 1)
            {
                // A call event: try to linearize op now.
                var unknown = _unknown[op];
                var (ok, next) = _model.Step(state, _ops[op].Input, unknown ? default : _ops[op].Output, unknown);
                if (ok && !(unknown && _stateComparer.Equals(next, state)))
                {
                    var hash = _linearizedHash ^ _zobrist[op];
                    SetBit(op);
                    var probe = new MemoEntry(_linearized, next, Combine(hash, next));
                    if (!_memo.Contains(probe))
                    {
                        if (_memo.Count >= maxVisitedStates)
                        {
                            ClearBit(op);
                            return Verdict.Unknown;
                        }

                        _memo.Add(probe with { Linearized = (ulong[])_linearized.Clone() });
                        _linearizedHash = hash;
                        stackOps[depth] = op;
                        stackStates[depth] = state;
                        depth++;
                        state = next;
                        Lift(op);
                        if (!unknown)
                        {
                            remaining--;
                        }

                        if (depth > _bestLength)
                        {
                            RecordBest(stackOps, depth);
                        }

                        entry = _next[Head];
                        continue;
                    }

                    ClearBit(op);
                }

                entry = _next[entry];
            }
            else
            {
                // A return event: op should have been linearized by now. Undo the latest choice.
                if (depth == 0)
                {
                    return Verdict.Illegal;
                }

                depth--;
                _bestDirtyFrom = Math.Min(_bestDirtyFrom, depth);
                var undone = stackOps[depth];
                state = stackStates[depth];
                stackStates[depth] = default!;
                ClearBit(undone);
                _linearizedHash ^= _zobrist[undone];
                Unlift(undone);
                if (!_unknown[undone])
                {
                    remaining++;
                }

                entry = _next[CallNode(undone)];
            }
        }

        // The final linearization may be shorter than an earlier dead end that placed more indeterminate operations.
        _bestDirtyFrom = 0;
        RecordBest(stackOps, depth);
        return Verdict.Ok;
    }

    private void RecordBest(int[] stackOps, int depth)
    {
        stackOps.AsSpan(_bestDirtyFrom, depth - _bestDirtyFrom).CopyTo(_bestBuffer.AsSpan(_bestDirtyFrom));
        _bestLength = depth;
        _bestDirtyFrom = depth;
    }

    /// <summary>Maps a local operation index to the full history's index.</summary>
    public int HistoryIndex(int op) => _historyIndex[op];

    private int Combine(ulong linearizedHash, TState state)
    {
        var stateHash = state is null ? 0 : _stateComparer.GetHashCode(state);
        return HashCode.Combine((int)linearizedHash, (int)(linearizedHash >> 32), stateHash);
    }

    private static int CallNode(int op) => (2 * op) + 1;

    private static int ReturnNode(int op) => (2 * op) + 2;

    private void LinkEvents()
    {
        var events = new List<(long Time, int Kind, int Node)>(2 * _ops.Length);
        for (var i = 0; i < _ops.Length; i++)
        {
            // Calls sort before returns at equal times: an operation returning at the instant another is
            // called counts as concurrent with it, the permissive reading.
            events.Add((_ops[i].Call, 0, CallNode(i)));
            if (!_unknown[i])
            {
                events.Add((_ops[i].Return, 1, ReturnNode(i)));
            }
        }

        events.Sort();
        var previous = Head;
        _prev[Head] = None;
        foreach (var (_, _, node) in events)
        {
            _next[previous] = node;
            _prev[node] = previous;
            previous = node;
        }

        _next[previous] = None;
    }

    // Lowe's lift: take op's call and return events out of the list. Unlift restores them in reverse order.
    private void Lift(int op)
    {
        Remove(CallNode(op));
        if (!_unknown[op])
        {
            Remove(ReturnNode(op));
        }
    }

    private void Unlift(int op)
    {
        if (!_unknown[op])
        {
            Restore(ReturnNode(op));
        }

        Restore(CallNode(op));
    }

    private void Remove(int node)
    {
        var next = _next[node];
        _next[_prev[node]] = next;
        if (next != None)
        {
            _prev[next] = _prev[node];
        }
    }

    private void Restore(int node)
    {
        _next[_prev[node]] = node;
        var next = _next[node];
        if (next != None)
        {
            _prev[next] = node;
        }
    }

    private void SetBit(int op) => _linearized[op >> 6] |= 1UL << (op & 63);

    private void ClearBit(int op) => _linearized[op >> 6] &= ~(1UL << (op & 63));

    private static ulong SplitMix64(ref ulong seed)
    {
        var z = seed += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private readonly record struct MemoEntry(ulong[] Linearized, TState State, int Hash);

    private sealed class MemoComparer(IEqualityComparer<TState> stateComparer) : IEqualityComparer<MemoEntry>
    {
        public bool Equals(MemoEntry x, MemoEntry y) =>
            x.Hash == y.Hash
            && x.Linearized.AsSpan().SequenceEqual(y.Linearized)
            && stateComparer.Equals(x.State, y.State);

        public int GetHashCode(MemoEntry obj) => obj.Hash;
    }
}
