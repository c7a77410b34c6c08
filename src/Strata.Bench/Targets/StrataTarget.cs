using Grpc.Core;
using Strata.Api.V1;
using Strata.Client;

namespace Strata.Bench.Targets;

/// <summary>
/// Strata through its client library: a stat, a put (with if-generation-match for creates and conditional updates), a
/// one-page listing with delimiter <c>/</c>, a rename, and a preload transaction. Worker w uses
/// <c>clients[w mod count]</c>: several clients stand for several gateways (each its own client id, sequence window
/// and HTTP/2 connection).
/// </summary>
/// <remarks>The clients belong to the caller: disposing the target does not dispose them (nor stop the node).</remarks>
public sealed class StrataTarget : BenchTarget
{
    private readonly Store[] _stores;

    /// <summary>A target over <paramref name="clients"/> (at least one, no nulls), described by <paramref name="description"/>.</summary>
    public StrataTarget(IReadOnlyList<StrataClient> clients, string description, string durability)
    {
        ArgumentNullException.ThrowIfNull(clients);
        if (clients.Count == 0 || clients.Any(c => c is null))
        {
            throw new ArgumentException("at least one client is needed, and no null ones", nameof(clients));
        }

        _stores = [.. clients.Select(c => new Store(c))];
        Description = description;
        Durability = durability;
    }

    /// <summary>A target over one client.</summary>
    public StrataTarget(StrataClient client, string description = "Strata node", string durability = SingleNodeDurability)
        : this([client], description, durability)
    {
    }

    /// <summary>How one node acknowledges a write: its Raft log entry is fsynced (group commit) before the reply.</summary>
    public const string SingleNodeDurability = "write acknowledged after its Raft log entry is fsynced on the node (RocksDB WAL, group commit); single replica";

    /// <summary>How a three-replica cluster acknowledges a write.</summary>
    public const string ClusterDurability = "write acknowledged after its Raft log entry is fsynced on a majority of the shard's 3 replicas (group commit); reads served by the leaseholder";

    public override string Name => "strata";

    public override string Description { get; }

    public override string Durability { get; }

    public override async Task CreateBucketAsync(string bucket, CancellationToken cancellationToken)
    {
        try
        {
            await _stores[0].Client.CreateBucketAsync(bucket, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (StrataException e) when (e.StatusCode == StatusCode.AlreadyExists)
        {
            // Reusing the bucket of an earlier run (--bucket): creates get fresh names from the run's time, reads find the objects.
        }
    }

    public override IBenchStore StoreOf(int worker) => _stores[worker % _stores.Length];

    protected override ValueTask DisposeCoreAsync() => ValueTask.CompletedTask;

    private sealed class Store(StrataClient client) : IBenchStore
    {
        public StrataClient Client { get; } = client;

        public async Task<StoredEntry?> GetAsync(string bucket, string path, CancellationToken cancellationToken)
        {
            try
            {
                Entry entry = await Client.StatAsync(bucket, path, cancellationToken: cancellationToken).ConfigureAwait(false);
                return new StoredEntry((long)entry.Generation, entry.Attributes);
            }
            catch (StrataException e) when (e.StatusCode == StatusCode.NotFound)
            {
                return null;
            }
        }

        public async Task<WriteOutcome> PutAsync(string bucket, string path, ObjectAttributes attributes, long? ifGenerationMatch, CancellationToken cancellationToken)
        {
            Preconditions? preconditions = ifGenerationMatch is long generation ? new Preconditions { IfGenerationMatch = (ulong)generation } : null;
            try
            {
                Entry written = await Client.PutObjectAsync(bucket, path, attributes, preconditions, cancellationToken: cancellationToken).ConfigureAwait(false);
                return WriteOutcome.Written((long)written.Generation);
            }
            catch (StrataException e) when (preconditions is not null && e.StatusCode is StatusCode.FailedPrecondition or StatusCode.AlreadyExists)
            {
                return WriteOutcome.Conflict(e.CurrentGeneration is ulong current ? (long)current : null);
            }
        }

        public async Task<IReadOnlyList<string>> ListAsync(string bucket, string directory, string? startAfter, int limit, CancellationToken cancellationToken)
        {
            var request = new ListRequest { Bucket = bucket, Prefix = directory + "/", Delimiter = "/", StartAfter = startAfter ?? "", Limit = limit };
            try
            {
                ListResponse page = await Client.ListAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
                return [.. page.Entries.Select(e => e.Path)];
            }
            catch (StrataException e) when (e.StatusCode == StatusCode.NotFound)
            {
                // Strata's directories exist on their own; a key-value peer has no such thing: both list nothing.
                return [];
            }
        }

        public async Task<RenameOutcome> RenameAsync(string bucket, string source, string destination, CancellationToken cancellationToken)
        {
            try
            {
                await Client.RenameAsync(bucket, source, destination, cancellationToken: cancellationToken).ConfigureAwait(false);
                return RenameOutcome.Renamed;
            }
            catch (StrataException e) when (e.StatusCode == StatusCode.NotFound)
            {
                return RenameOutcome.SourceMissing;
            }
            catch (StrataException e) when (e.StatusCode == StatusCode.AlreadyExists)
            {
                return RenameOutcome.DestinationExists;
            }
        }

        // A directory is one entry: the same rename moves it, whatever it holds.
        public Task<RenameOutcome> RenameDirectoryAsync(string bucket, string source, string destination, CancellationToken cancellationToken) =>
            RenameAsync(bucket, source, destination, cancellationToken);

        public async Task LoadAsync(string bucket, IReadOnlyList<(string Path, ObjectAttributes Attributes)> entries, CancellationToken cancellationToken)
        {
            var transaction = new StrataTransaction();
            foreach ((string path, ObjectAttributes attributes) in entries)
            {
                transaction.Put(bucket, path, attributes);
            }

            await Client.CommitAsync(transaction, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }
}
