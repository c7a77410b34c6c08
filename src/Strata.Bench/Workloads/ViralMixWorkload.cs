using System.Globalization;
using Grpc.Core;
using Strata.Api.V1;
using Strata.Client;

namespace Strata.Bench.Workloads;

/// <summary>
/// (c) The viral event, <see cref="OperationMix.Viral"/>: 90% stat of preloaded objects (Zipfian), 8% creates
/// concentrated in <see cref="BenchOptions.HotDirectories"/> hot directories, and 2% split over one-page listings of
/// a hot directory, renames of an object the worker created (within its directory), and conditional updates
/// (stat, then put with if-generation-match the generation read) of a preloaded object.
/// </summary>
internal sealed class ViralMixWorkload(IReadOnlyList<StrataClient> clients, BenchOptions options, string bucket, TimeProvider time)
    : StrataWorkload(clients, options, bucket, time)
{
    /// <summary>Entries per listing page.</summary>
    public const int ListPage = 100;

    private readonly ObjectCatalog _catalog = new("objects", options.Objects, options.Directories);
    private readonly ZipfianDistribution? _zipfian = options.Distribution == KeyDistribution.Zipfian ? new ZipfianDistribution(options.Objects, options.ZipfTheta) : null;
    private readonly string _run = time.GetUtcNow().ToUnixTimeMilliseconds().ToString("x", CultureInfo.InvariantCulture);

    public override BenchWorkload Kind => BenchWorkload.ViralMix;

    public override async Task<PreloadInfo> PrepareAsync(IProgress<BenchProgress>? progress, CancellationToken cancellationToken)
    {
        await CreateBucketAsync(cancellationToken).ConfigureAwait(false);
        return await _catalog.LoadAsync(Client, Bucket, Time, progress, cancellationToken).ConfigureAwait(false);
    }

    public override IWorkloadWorker CreateWorker(int index)
    {
        Random random = WorkerRandom(Options.Seed, index);
        return new Worker(this, ClientOf(index), index, random, Chooser(_zipfian, Options.Objects, random));
    }

    private string HotDirectory(int hot) => string.Create(CultureInfo.InvariantCulture, $"hot/h{hot:D3}");

    private sealed class Worker(ViralMixWorkload workload, StrataClient client, int index, Random random, KeyChooser keys) : IWorkloadWorker
    {
        // Objects this worker created and may rename: no other worker touches them, so a rename never races.
        private readonly Queue<(string Directory, string Path)> _own = new();
        private long _sequence;

        public async Task InitializeAsync(CancellationToken cancellationToken)
        {
            // One object per worker to rename before its first create.
            string directory = workload.HotDirectory(index % workload.Options.HotDirectories);
            string path = NewPath(directory, "seed");
            await client.PutObjectAsync(workload.Bucket, path, ObjectCatalog.Attributes(index), cancellationToken: cancellationToken).ConfigureAwait(false);
            _own.Enqueue((directory, path));
        }

        public OperationKind NextOperation() => OperationMix.Viral.Pick(random);

        public async Task ExecuteAsync(OperationKind kind, CancellationToken cancellationToken)
        {
            string bucket = workload.Bucket;
            switch (kind)
            {
                case OperationKind.Stat:
                    await client.StatAsync(bucket, workload._catalog.PathOf(keys.Next()), cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                case OperationKind.Create:
                {
                    string directory = workload.HotDirectory(random.Next(workload.Options.HotDirectories));
                    string path = NewPath(directory, "c");
                    await client.PutObjectAsync(bucket, path, ObjectCatalog.Attributes(_sequence), new Preconditions { IfGenerationMatch = 0 }, cancellationToken: cancellationToken)
                        .ConfigureAwait(false);
                    _own.Enqueue((directory, path));
                    break;
                }

                case OperationKind.List:
                {
                    string directory = workload.HotDirectory(random.Next(workload.Options.HotDirectories));
                    var request = new ListRequest { Bucket = bucket, Prefix = directory + "/", Delimiter = "/", Limit = ListPage };
                    await client.ListAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                }

                case OperationKind.Rename:
                {
                    (string directory, string source) = _own.Dequeue();
                    string destination = NewPath(directory, "r");
                    try
                    {
                        await client.RenameAsync(bucket, source, destination, cancellationToken: cancellationToken).ConfigureAwait(false);
                        _own.Enqueue((directory, destination));
                    }
                    catch (StrataException e) when (e.StatusCode != StatusCode.NotFound)
                    {
                        // Not renamed (nothing changed): the object is still at its old name.
                        _own.Enqueue((directory, source));
                        throw;
                    }

                    break;
                }

                case OperationKind.ConditionalUpdate:
                {
                    int key = keys.Next();
                    string path = workload._catalog.PathOf(key);
                    Entry current = await client.StatAsync(bucket, path, cancellationToken: cancellationToken).ConfigureAwait(false);
                    await client.PutObjectAsync(bucket, path, ObjectCatalog.Attributes(key + _sequence), new Preconditions { IfGenerationMatch = current.Generation },
                        cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                }

                default:
                    throw new ArgumentOutOfRangeException(nameof(kind), kind, "not part of the viral mix");
            }
        }

        private string NewPath(string directory, string tag) =>
            string.Create(CultureInfo.InvariantCulture, $"{directory}/{workload._run}-w{index:D4}-{tag}{++_sequence:D9}");
    }
}
