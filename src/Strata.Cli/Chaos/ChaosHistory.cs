using System.Diagnostics;
using Strata.Linearizability.Models;

namespace Strata.Cli.Chaos;

/// <summary>How an operation of the chaos workload ended, as Jepsen counts them.</summary>
internal enum ChaosOutcome
{
    /// <summary>The node answered: the operation took effect (a write, a successful cas) or returned what it saw (a read).</summary>
    Ok,

    /// <summary>Definitely did not take effect: the node refused it (for example a cas whose generation no longer matched).</summary>
    Failed,

    /// <summary>No answer (timed out, unavailable, connection torn after sending): it may have taken effect, or not, at any time after its call.</summary>
    Indeterminate,
}

/// <summary>
/// One operation of a chaos run as recorded: who issued it, what it asked, when it was called and answered (on the
/// run's monotonic clock, nanoseconds since the run began), and what came back. One line of <c>history.jsonl</c>.
/// </summary>
/// <remarks>
/// The register of a key is the <c>size</c> of the object at that path: a write puts the object with
/// <see cref="Value"/> as its size; a read stats it (NOT_FOUND: the register is absent); a cas puts it with an
/// if-generation-match precondition on <see cref="ExpectedGeneration"/>, the generation this client last saw
/// together with the value <see cref="Expected"/>. Every written value is unique in the run, so a generation
/// stands for exactly one value and "the generation still matches" means "the value is still
/// <see cref="Expected"/>": the cas of the register model.
/// </remarks>
internal sealed record ChaosOperation
{
    /// <summary>Position in the run: workload operations 0..ops-1 in the order they were started, then the final reads.</summary>
    public required int Index { get; init; }

    /// <summary>Jepsen's process: the client's number, renumbered (plus the client count) after each indeterminate operation, since that one may still be in flight.</summary>
    public required int Process { get; init; }

    /// <summary>The client (0..clients-1) that issued it; -1 for the final reads.</summary>
    public required int Client { get; init; }

    /// <summary>The object path holding the register.</summary>
    public required string Key { get; init; }

    public required CasRegisterOp Kind { get; init; }

    /// <summary>Write and cas: the value written.</summary>
    public long? Value { get; init; }

    /// <summary>Cas: the value it expects.</summary>
    public long? Expected { get; init; }

    /// <summary>Cas: the generation sent as if-generation-match (the one seen with <see cref="Expected"/>).</summary>
    public ulong? ExpectedGeneration { get; init; }

    /// <summary>When the request was about to be sent (ns since the run began).</summary>
    public required long CallNanos { get; init; }

    /// <summary>When the answer arrived; null when there was none (indeterminate).</summary>
    public long? ReturnNanos { get; init; }

    public required ChaosOutcome Outcome { get; init; }

    /// <summary>An answered read: whether the object existed.</summary>
    public bool? Found { get; init; }

    /// <summary>An answered read that found the object: the value (its size).</summary>
    public long? ReadValue { get; init; }

    /// <summary>The generation read, or written by an acknowledged write or cas; for a cas refused by its precondition, the current generation the node named.</summary>
    public ulong? Generation { get; init; }

    /// <summary>Namespace workload's metadata registers: the metageneration read or written (with <see cref="Generation"/> it names one value).</summary>
    public ulong? Metageneration { get; init; }

    /// <summary>Namespace workload's metadata registers: the metageneration a cas sent as if-metageneration-match.</summary>
    public ulong? ExpectedMetageneration { get; init; }

    /// <summary>A cas refused because the object's generation no longer matched: the register did not hold <see cref="Expected"/>.</summary>
    public bool? PreconditionFailed { get; init; }

    /// <summary>The gRPC status and message of a failed or indeterminate call.</summary>
    public string? Error { get; init; }

    /// <summary>For a call the client gave up on: the attempts it made (retries included), as the client counted them.</summary>
    public int? Attempts { get; init; }

    /// <summary>For a call the client gave up on: the redirects it followed (a node naming another that serves the shard).</summary>
    public int? Redirects { get; init; }

    /// <summary>A read sent straight to one node (a final read, or a home read: <see cref="ReadRouter"/>): that node; null for a call through the shard-aware route.</summary>
    public ulong? Node { get; init; }

    /// <summary>True for the reads of every key through every replica of the bucket's shard after the cluster was healed.</summary>
    public bool Final { get; init; }
}

/// <summary>
/// The run's monotonic clock: nanoseconds since the run began, from <see cref="Stopwatch"/> (the same source on
/// every thread), so call and return times of different clients are comparable.
/// </summary>
internal sealed class ChaosClock
{
    private readonly long _origin = Stopwatch.GetTimestamp();

    /// <summary>Nanoseconds since the clock was made.</summary>
    public long Now => (long)((Stopwatch.GetTimestamp() - _origin) * (1e9 / Stopwatch.Frequency));

    /// <summary><paramref name="nanos"/> as seconds.</summary>
    public static double Seconds(long nanos) => nanos / 1e9;
}

/// <summary>
/// The operations of one run, appended by the clients as they complete. Thread-safe: any thread may
/// <see cref="Add"/>; <see cref="Operations"/> returns a copy ordered by index.
/// </summary>
internal sealed class ChaosHistory
{
    private readonly Lock _gate = new();
    private readonly List<ChaosOperation> _operations = [];

    public void Add(ChaosOperation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        lock (_gate)
        {
            _operations.Add(operation);
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _operations.Count;
            }
        }
    }

    public IReadOnlyList<ChaosOperation> Operations()
    {
        lock (_gate)
        {
            return [.. _operations.OrderBy(o => o.Index)];
        }
    }
}
