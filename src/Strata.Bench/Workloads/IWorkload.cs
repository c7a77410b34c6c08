namespace Strata.Bench.Workloads;

/// <summary>
/// A workload: what to load before the run, and per worker the stream of operations to issue.
/// </summary>
/// <remarks>
/// The runner calls <see cref="PrepareAsync"/> once, then <see cref="CreateWorker"/> for each worker index, then
/// each worker's <see cref="IWorkloadWorker.InitializeAsync"/>, all before the clock starts.
/// </remarks>
public interface IWorkload
{
    /// <summary>The workload's name in results.</summary>
    BenchWorkload Kind { get; }

    /// <summary>Creates the bucket and preloads what the operations need. Not measured.</summary>
    Task<PreloadInfo> PrepareAsync(IProgress<BenchProgress>? progress, CancellationToken cancellationToken);

    /// <summary>The operation stream of worker <paramref name="index"/>, with its own seeded random source.</summary>
    IWorkloadWorker CreateWorker(int index);
}

/// <summary>
/// One worker's operations. Not thread-safe: the runner calls a worker from one logical flow, one operation at a time.
/// </summary>
public interface IWorkloadWorker
{
    /// <summary>Reads or creates what the worker needs before the clock starts (not measured).</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>The kind of the next operation (drawn from the workload's mix with the worker's seeded random source).</summary>
    OperationKind NextOperation();

    /// <summary>
    /// The number of entries of the directory that the operation just drawn by <see cref="NextOperation"/> works on, when
    /// the workload reports latency per directory size (the directory rename); null otherwise. The runner reads it after
    /// <see cref="NextOperation"/> and before <see cref="ExecuteAsync"/>.
    /// </summary>
    long? DirectorySize => null;

    /// <summary>
    /// Issues one operation of <paramref name="kind"/>. Throws <see cref="Targets.BenchOperationException"/> for an
    /// outcome the runner counts as an error (a stat of a missing entry, a create of an existing one) or, marked as a
    /// conflict, for a conditional update that lost its race; the target's own exception when it failed to answer.
    /// </summary>
    Task ExecuteAsync(OperationKind kind, CancellationToken cancellationToken);
}
