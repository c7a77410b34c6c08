using Strata.Api.V1;

namespace Strata.Bench.Targets;

/// <summary>
/// A system the workloads run against: Strata, or a peer (etcd, Redis, PostgreSQL) measured side by side with it.
/// The workloads' logical operations — point read, create, conditional update, listing page, rename, preload — are
/// expressed once, in <see cref="IBenchStore"/>, and each target maps them to what a user of that system would
/// write (a get, a put, a compare-and-swap transaction, a prefix range).
/// </summary>
/// <remarks>
/// <para>Lifecycle: a target is ready when its factory returns (a peer's server process is running and answers);
/// <see cref="CreateBucketAsync"/> is called once before the load; <see cref="DisposeAsync"/> closes the clients and,
/// for a peer the bench started, stops its server and deletes its data directory.</para>
/// <para>Concurrency: the store that <see cref="StoreOf"/> returns is called by one worker at a time, but several
/// workers may share one store; every implementation is thread-safe.</para>
/// </remarks>
public abstract class BenchTarget : IAsyncDisposable
{
    /// <summary>The target's short name in tables: <c>strata</c>, <c>etcd</c>, <c>redis</c>, <c>postgres</c>.</summary>
    public abstract string Name { get; }

    /// <summary>What runs where: version, address, how it was started, how the client talks to it.</summary>
    public abstract string Description { get; }

    /// <summary>When a write is acknowledged (fsync policy, replication): the report states it for every target.</summary>
    public abstract string Durability { get; }

    /// <summary>Makes <paramref name="bucket"/> usable (a Strata bucket; nothing for peers that key by bucket name).</summary>
    public abstract Task CreateBucketAsync(string bucket, CancellationToken cancellationToken);

    /// <summary>The store worker <paramref name="worker"/> uses (index 0 also preloads).</summary>
    public abstract IBenchStore StoreOf(int worker);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await DisposeCoreAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Closes clients and stops what the target started. Called once.</summary>
    protected abstract ValueTask DisposeCoreAsync();
}

/// <summary>
/// The workloads' operations on one target. Entries are named by (bucket, path) and hold <see cref="ObjectAttributes"/>
/// and a generation that changes on every write of the entry (Strata's generation, etcd's mod revision, a counter
/// in Redis and PostgreSQL); the generation of a missing entry is 0.
/// </summary>
/// <remarks>
/// Thread-safe. Methods throw only when the target failed to answer or refused for a reason outside the contract
/// (the runner counts those as errors by exception); a missing entry, a lost compare-and-swap or a refused rename are
/// results, not exceptions.
/// </remarks>
public interface IBenchStore
{
    /// <summary>Point read (a Strata stat, a key get); null when the entry does not exist. Linearizable on every target.</summary>
    Task<StoredEntry?> GetAsync(string bucket, string path, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the entry. <paramref name="ifGenerationMatch"/>: null writes unconditionally; 0 creates only if the entry
    /// does not exist; n replaces only if the current generation is n (compare-and-swap). Nothing changes on a conflict.
    /// </summary>
    Task<WriteOutcome> PutAsync(string bucket, string path, ObjectAttributes attributes, long? ifGenerationMatch, CancellationToken cancellationToken);

    /// <summary>
    /// One page of at most <paramref name="limit"/> entry names under <paramref name="directory"/> (paths starting with
    /// <c>directory + "/"</c>, in byte order, full paths), beginning after <paramref name="startAfter"/> (a full path;
    /// null: from the first entry). The workloads' directories hold no subdirectories, so this is the directory's
    /// children on every target. Each target uses its own way of resuming a listing from a key (Strata's start-after,
    /// an etcd range from the key, a Redis lexicographic range, a PostgreSQL key comparison).
    /// </summary>
    Task<IReadOnlyList<string>> ListAsync(string bucket, string directory, string? startAfter, int limit, CancellationToken cancellationToken);

    /// <summary>Moves the entry at <paramref name="source"/> to <paramref name="destination"/> atomically; nothing changes unless renamed.</summary>
    Task<RenameOutcome> RenameAsync(string bucket, string source, string destination, CancellationToken cancellationToken);

    /// <summary>
    /// Moves the directory at <paramref name="source"/> and everything under it to <paramref name="destination"/>.
    /// Strata renames the one directory entry (its children are keyed by the directory's id, not its path); a
    /// key-value peer has to move every key under <c>source + "/"</c> — each peer does it the way its users would
    /// (one SQL statement, one Lua script, or etcd transactions of bounded size), and its description says whether
    /// that is atomic. <see cref="RenameOutcome.SourceMissing"/> when nothing is under the source.
    /// </summary>
    Task<RenameOutcome> RenameDirectoryAsync(string bucket, string source, string destination, CancellationToken cancellationToken);

    /// <summary>Writes <paramref name="entries"/> unconditionally as one batch (one transaction where the target has them). Preload only: not measured.</summary>
    Task LoadAsync(string bucket, IReadOnlyList<(string Path, ObjectAttributes Attributes)> entries, CancellationToken cancellationToken);
}

/// <summary>An entry as a point read returns it.</summary>
public sealed record StoredEntry(long Generation, ObjectAttributes Attributes);

/// <summary>
/// The outcome of <see cref="IBenchStore.PutAsync"/>: written with its new generation, or a conflict with the current
/// generation (0: the entry does not exist; null: the target did not say).
/// </summary>
public readonly record struct WriteOutcome(bool Committed, long? Generation)
{
    /// <summary>Written; <paramref name="generation"/> is the entry's new generation.</summary>
    public static WriteOutcome Written(long generation) => new(true, generation);

    /// <summary>Not written: the precondition failed; <paramref name="current"/> is the generation found, when known.</summary>
    public static WriteOutcome Conflict(long? current) => new(false, current);
}

/// <summary>The outcome of <see cref="IBenchStore.RenameAsync"/>.</summary>
public enum RenameOutcome
{
    /// <summary>The entry moved.</summary>
    Renamed,

    /// <summary>Nothing at the source; nothing changed.</summary>
    SourceMissing,

    /// <summary>Something already at the destination; nothing changed.</summary>
    DestinationExists,
}

/// <summary>
/// An operation's result that the runner counts as an error (<see cref="Kind"/>, e.g. <c>NotFound</c> for a stat of a
/// missing entry) or, with <see cref="IsConflict"/>, as a lost compare-and-swap of a conditional update.
/// </summary>
public sealed class BenchOperationException(string kind, string message, bool isConflict = false) : Exception(message)
{
    /// <summary>The error's name in the results' errors by kind.</summary>
    public string Kind { get; } = kind;

    /// <summary>A conditional update lost its race: a conflict, not an error.</summary>
    public bool IsConflict { get; } = isConflict;
}
