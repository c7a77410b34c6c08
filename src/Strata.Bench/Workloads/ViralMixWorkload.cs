using System.Globalization;
using Strata.Bench.Targets;

namespace Strata.Bench.Workloads;

/// <summary>
/// (c) The viral event, <see cref="OperationMix.Viral"/>: 90% stat of preloaded objects (Zipfian), 8% creates
/// concentrated in <see cref="BenchOptions.HotDirectories"/> hot directories, and 2% split over one-page listings of
/// a hot directory, renames of an object the worker created (within its directory), and conditional updates
/// (stat, then put with if-generation-match the generation read) of a preloaded object.
/// </summary>
internal sealed class ViralMixWorkload(BenchTarget target, BenchOptions options, string bucket, TimeProvider time)
    : Workload(target, options, bucket, time)
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
        return await _catalog.LoadAsync(Store, Bucket, Time, progress, cancellationToken).ConfigureAwait(false);
    }

    public override IWorkloadWorker CreateWorker(int index)
    {
        Random random = WorkerRandom(Options.Seed, index);
        return new Worker(this, Target.StoreOf(index), index, random, Chooser(_zipfian, Options.Objects, random));
    }

    private string HotDirectory(int hot) => string.Create(CultureInfo.InvariantCulture, $"hot/h{hot:D3}");

    private sealed class Worker(ViralMixWorkload workload, IBenchStore store, int index, Random random, KeyChooser keys) : IWorkloadWorker
    {
        // Objects this worker created and may rename: no other worker touches them, so a rename never races.
        private readonly Queue<(string Directory, string Path)> _own = new();
        private long _sequence;

        public async Task InitializeAsync(CancellationToken cancellationToken)
        {
            // One object per worker to rename before its first create.
            string directory = workload.HotDirectory(index % workload.Options.HotDirectories);
            string path = NewPath(directory, "seed");
            await store.PutAsync(workload.Bucket, path, ObjectCatalog.Attributes(index), null, cancellationToken).ConfigureAwait(false);
            _own.Enqueue((directory, path));
        }

        public OperationKind NextOperation() => OperationMix.Viral.Pick(random);

        public async Task ExecuteAsync(OperationKind kind, CancellationToken cancellationToken)
        {
            string bucket = workload.Bucket;
            switch (kind)
            {
                case OperationKind.Stat:
                {
                    string path = workload._catalog.PathOf(keys.Next());
                    Found(await store.GetAsync(bucket, path, cancellationToken).ConfigureAwait(false), path);
                    break;
                }

                case OperationKind.Create:
                {
                    string directory = workload.HotDirectory(random.Next(workload.Options.HotDirectories));
                    string path = NewPath(directory, "c");
                    Created(await store.PutAsync(bucket, path, ObjectCatalog.Attributes(_sequence), 0, cancellationToken).ConfigureAwait(false), path);
                    _own.Enqueue((directory, path));
                    break;
                }

                case OperationKind.List:
                {
                    string directory = workload.HotDirectory(random.Next(workload.Options.HotDirectories));
                    await store.ListAsync(bucket, directory, startAfter: null, ListPage, cancellationToken).ConfigureAwait(false);
                    break;
                }

                case OperationKind.Rename:
                {
                    (string directory, string source) = _own.Dequeue();
                    string destination = NewPath(directory, "r");
                    RenameOutcome outcome;
                    try
                    {
                        outcome = await store.RenameAsync(bucket, source, destination, cancellationToken).ConfigureAwait(false);
                    }
                    catch
                    {
                        // Not renamed as far as the worker knows: try the old name again later.
                        _own.Enqueue((directory, source));
                        throw;
                    }

                    switch (outcome)
                    {
                        case RenameOutcome.Renamed:
                            _own.Enqueue((directory, destination));
                            break;
                        case RenameOutcome.DestinationExists:
                            _own.Enqueue((directory, source));
                            throw new BenchOperationException("AlreadyExists", $"rename destination '{destination}' exists");
                        default:
                            // The object is gone (nothing to rename any more).
                            throw new BenchOperationException("NotFound", $"rename source '{source}' does not exist");
                    }

                    break;
                }

                case OperationKind.ConditionalUpdate:
                {
                    int key = keys.Next();
                    string path = workload._catalog.PathOf(key);
                    StoredEntry current = Found(await store.GetAsync(bucket, path, cancellationToken).ConfigureAwait(false), path);
                    WriteOutcome written = await store.PutAsync(bucket, path, ObjectCatalog.Attributes(key + _sequence), current.Generation, cancellationToken)
                        .ConfigureAwait(false);
                    if (!written.Committed)
                    {
                        throw new BenchOperationException("Conflict", $"'{path}' changed between its read and the conditional update", isConflict: true);
                    }

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
