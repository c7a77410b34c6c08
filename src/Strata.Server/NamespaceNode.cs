using System.Security.Cryptography;
using System.Threading.Channels;
using Strata.Namespace;
using Strata.Namespace.Commands;
using Strata.Storage;

namespace Strata.Server;

/// <summary>Settings of a single node.</summary>
public sealed record NamespaceNodeOptions
{
    /// <summary>MVCC versions older than this are garbage-collected (reads "at" older timestamps may fail).</summary>
    public TimeSpan MvccRetention { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Client sessions idle this long are forgotten (their retries then fail with ABORTED).</summary>
    public TimeSpan SessionTtl { get; init; } = TimeSpan.FromHours(24);

    /// <summary>How often the node proposes garbage collection; zero disables it.</summary>
    public TimeSpan GarbageCollectionInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Most commands applied in one batch (one fsync).</summary>
    public int MaxBatch { get; init; } = 256;

    /// <summary>Make every batch durable before acknowledging (fsync). Only tests turn this off.</summary>
    public bool Sync { get; init; } = true;
}

/// <summary>
/// One node serving the whole namespace as one shard: a log of commands applied by the deterministic
/// <see cref="NamespaceStateMachine"/>, with group commit — concurrent proposals are applied as one batch
/// and made durable with one fsync before any of them is acknowledged.
/// </summary>
/// <remarks>
/// The replicated cluster replaces the local log with Raft; the state machine and the command format stay.
/// <see cref="ProposeAsync"/> and <see cref="Reader"/> are thread-safe. A failure to make a batch durable
/// is fatal: every pending and later proposal fails and the process is expected to stop.
/// </remarks>
public sealed class NamespaceNode : IAsyncDisposable
{
    private readonly IKvEngine _engine;
    private readonly bool _ownsEngine;
    private readonly NamespaceStateMachine _stateMachine;
    private readonly HybridClock _clock;
    private readonly TimeProvider _time;
    private readonly NamespaceNodeOptions _options;
    private readonly Channel<Proposal> _proposals = Channel.CreateUnbounded<Proposal>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _applyLoop;
    private readonly ITimer? _gcTimer;
    private Exception? _fatal;
    private ulong _appliedTimestamp;

    private NamespaceNode(IKvEngine engine, bool ownsEngine, TimeProvider time, NamespaceNodeOptions options)
    {
        _engine = engine;
        _ownsEngine = ownsEngine;
        _time = time;
        _options = options;
        _stateMachine = new NamespaceStateMachine(engine, shardId: 1);
        _clock = new HybridClock(time);
        _clock.Observe(_stateMachine.LastTimestamp);
        _appliedTimestamp = _stateMachine.LastTimestamp;
        Reader = new NamespaceReader(engine);
        _applyLoop = ApplyLoopAsync();
        if (options.GarbageCollectionInterval > TimeSpan.Zero)
        {
            _gcTimer = time.CreateTimer(_ => CollectGarbageInBackground(), null,
                options.GarbageCollectionInterval, options.GarbageCollectionInterval);
        }
    }

    /// <summary>Opens (or creates) a node whose data lives in RocksDB under <paramref name="dataDirectory"/>.</summary>
    public static NamespaceNode Open(string dataDirectory, NamespaceNodeOptions? options = null, TimeProvider? time = null)
    {
        Directory.CreateDirectory(dataDirectory);
        return new NamespaceNode(RocksDbEngine.Open(dataDirectory), ownsEngine: true, time ?? TimeProvider.System,
            options ?? new NamespaceNodeOptions());
    }

    /// <summary>A node over an engine owned by the caller (tests: the in-memory engine).</summary>
    public static NamespaceNode Create(IKvEngine engine, NamespaceNodeOptions? options = null, TimeProvider? time = null) =>
        new(engine, ownsEngine: false, time ?? TimeProvider.System, options ?? new NamespaceNodeOptions());

    /// <summary>
    /// Queries over the live engine. Each key it reads is current, but a query that reads several keys (path
    /// resolution, listings) can straddle a batch applied meanwhile and mix two states; use <see cref="Read"/>
    /// for anything served to clients.
    /// </summary>
    public NamespaceReader Reader { get; }

    /// <summary>
    /// Runs <paramref name="query"/> over one point-in-time view of the latest applied state (an engine snapshot
    /// taken now): every acknowledged command is visible, and commands applied while the query runs are not, so
    /// multi-key queries are linearizable. Thread-safe; the reader must not escape <paramref name="query"/>.
    /// </summary>
    public T Read<T>(Func<NamespaceReader, T> query)
    {
        ArgumentNullException.ThrowIfNull(query);
        using IKvSnapshot snapshot = _engine.Snapshot();
        return query(new NamespaceReader(snapshot));
    }

    /// <summary>Index of the last applied command.</summary>
    public ulong AppliedIndex => _stateMachine.AppliedIndex;

    /// <summary>
    /// MVCC version of the last applied command. Published after the batch is in the engine, so a snapshot taken
    /// after reading it contains every version at or below it: reads "at" such a timestamp are repeatable.
    /// </summary>
    public ulong AppliedTimestamp => Volatile.Read(ref _appliedTimestamp);

    /// <summary>The settings the node runs with.</summary>
    public NamespaceNodeOptions Options => _options;

    /// <summary>The node's hybrid logical clock.</summary>
    public HybridClock Clock => _clock;

    /// <summary>The storage failure that stopped the node, or null while it is healthy (health checks read this).</summary>
    public Exception? Failure => Volatile.Read(ref _fatal);

    /// <summary>
    /// Assigns the command its timestamp and ID seed, applies it after the commands before it, and returns
    /// its result once it is durable. The caller sets the body and, for client mutations, (client id, sequence).
    /// </summary>
    public Task<CommandResult> ProposeAsync(Command command, CancellationToken cancellationToken = default)
    {
        if (Failure is { } fatal)
        {
            return Task.FromException<CommandResult>(new StorageFailureException("the node stopped after a storage failure", fatal));
        }

        var proposal = new Proposal(command, new TaskCompletionSource<CommandResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_proposals.Writer.TryWrite(proposal))
        {
            return Task.FromException<CommandResult>(new ObjectDisposedException(nameof(NamespaceNode)));
        }

        // Cancellation abandons the wait, not the command: once queued it applies (exactly once) regardless.
        return proposal.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Writes a consistent snapshot of the whole namespace.</summary>
    public void WriteSnapshot(Stream output) => _stateMachine.WriteSnapshot(output);

    /// <summary>Proposes garbage collection of MVCC versions and idle sessions now.</summary>
    public Task<CommandResult> CollectGarbageAsync(CancellationToken cancellationToken = default)
    {
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        return ProposeAsync(new Command
        {
            CollectGarbage = new CollectGarbage
            {
                MvccHorizon = HybridClock.FromMilliseconds(now - (long)_options.MvccRetention.TotalMilliseconds),
                SessionExpiryBefore = HybridClock.FromMilliseconds(now - (long)_options.SessionTtl.TotalMilliseconds),
            },
        }, cancellationToken);
    }

    private void CollectGarbageInBackground() => _ = CollectGarbageAsync(_stopping.Token).ContinueWith(
        t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    private async Task ApplyLoopAsync()
    {
        await Task.Yield();
        var batch = new List<Proposal>(_options.MaxBatch);
        var logged = new List<LoggedCommand>(_options.MaxBatch);
        ChannelReader<Proposal> reader = _proposals.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                batch.Clear();
                logged.Clear();
                ulong index = _stateMachine.AppliedIndex;
                while (batch.Count < _options.MaxBatch && reader.TryRead(out Proposal? proposal))
                {
                    proposal.Command.Timestamp = _clock.Now();
                    proposal.Command.IdSeed = NewIdSeed();
                    batch.Add(proposal);
                    logged.Add(new LoggedCommand(++index, proposal.Command));
                }

                IReadOnlyList<CommandResult?> results;
                try
                {
                    results = _stateMachine.Apply(logged, _options.Sync);
                    Volatile.Write(ref _appliedTimestamp, _stateMachine.LastTimestamp);
                }
                catch (Exception e)
                {
                    Volatile.Write(ref _fatal, e);
                    foreach (Proposal failed in batch)
                    {
                        failed.Completion.TrySetException(new StorageFailureException("applying the batch failed; the node stops", e));
                    }

                    FailPending(new StorageFailureException("an earlier batch failed to apply; the node stops", e));
                    return;
                }

                for (int i = 0; i < batch.Count; i++)
                {
                    batch[i].Completion.TrySetResult(results[i]!);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            FailPending(new ObjectDisposedException(nameof(NamespaceNode)));
        }
    }

    private void FailPending(Exception reason)
    {
        _proposals.Writer.TryComplete();
        while (_proposals.Reader.TryRead(out Proposal? pending))
        {
            pending.Completion.TrySetException(reason);
        }
    }

    private static ulong NewIdSeed() => BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));

    public async ValueTask DisposeAsync()
    {
        if (_gcTimer is not null)
        {
            await _gcTimer.DisposeAsync().ConfigureAwait(false);
        }

        _proposals.Writer.TryComplete();
        try
        {
            await _applyLoop.ConfigureAwait(false);
        }
        finally
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            _stopping.Dispose();
            if (_ownsEngine)
            {
                _engine.Dispose();
            }
        }
    }

    private sealed record Proposal(Command Command, TaskCompletionSource<CommandResult> Completion);
}
