using BenchmarkDotNet.Attributes;
using Strata.Namespace;
using Strata.Namespace.Commands;
using Strata.Storage;

namespace Strata.Benchmarks;

/// <summary>
/// The namespace state machine on RocksDB: applying one put (without fsync: the durable cost is the fsync
/// measured in <see cref="StorageBenchmarks"/>), the hot point read of an entry by (directory, name), and a
/// stat by a three-level path.
/// </summary>
/// <remarks>
/// Setup creates a bucket with 100,000 objects spread over 100 directories ("d000/obj-00000" ...) and reopens the
/// database so reads go through SST files and the block cache.
/// Run: <c>dotnet run -c Release --project bench/Strata.Benchmarks -- --filter '*NamespaceBenchmarks*'</c>.
/// </remarks>
[MemoryDiagnoser]
public class NamespaceBenchmarks
{
    private const int Directories = 100;
    private const int ObjectsPerDirectory = 1000;

    private string _directory = "";
    private RocksDbEngine _engine = null!;
    private NamespaceStateMachine _machine = null!;
    private NamespaceReader _reader = null!;
    private ulong _index;
    private ulong _timestamp;
    private ulong[] _directoryIds = [];
    private byte[][] _names = [];
    private string[] _paths = [];
    private int _next;
    private readonly LoggedCommand[] _one = new LoggedCommand[1];

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"strata-bench-namespace-{Environment.ProcessId}");
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        using (var loader = RocksDbEngine.Open(_directory))
        {
            var machine = new NamespaceStateMachine(loader, shardId: 1);
            ulong index = 0;
            ulong timestamp = HybridClock.FromMilliseconds(1_700_000_000_000);
            machine.Apply([new LoggedCommand(++index, new Command { Timestamp = ++timestamp, IdSeed = 1, CreateBucket = new CreateBucket { Name = "media" } })], sync: true);
            var batch = new List<LoggedCommand>(1000);
            for (int d = 0; d < Directories; d++)
            {
                for (int o = 0; o < ObjectsPerDirectory; o++)
                {
                    batch.Add(new LoggedCommand(++index, PutCommand($"creators/c{d:D3}/obj-{o:D5}", ++timestamp, (ulong)o)));
                }

                machine.Apply(batch, sync: false);
                batch.Clear();
            }

            loader.Write(loader.CreateBatch(), sync: true);
        }

        _engine = RocksDbEngine.Open(_directory);
        _machine = new NamespaceStateMachine(_engine, shardId: 1);
        _reader = new NamespaceReader(_engine);
        _index = _machine.AppliedIndex;
        _timestamp = _machine.LastTimestamp;
        _directoryIds = [.. Enumerable.Range(0, Directories).Select(d => _reader.Stat("media", $"creators/c{d:D3}").DirectoryId)];
        var random = new Random(7);
        _names = [.. Enumerable.Range(0, 4096).Select(_ => System.Text.Encoding.UTF8.GetBytes($"obj-{random.Next(ObjectsPerDirectory):D5}"))];
        _paths = [.. Enumerable.Range(0, 4096).Select(_ => $"creators/c{random.Next(Directories):D3}/obj-{random.Next(ObjectsPerDirectory):D5}")];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _engine.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static Command PutCommand(string path, ulong timestamp, ulong size) => new()
    {
        Timestamp = timestamp,
        IdSeed = timestamp,
        Put = new PutObject
        {
            Bucket = "media",
            Path = path,
            Attributes = new ObjectAttributes
            {
                Size = size,
                Etag = "9b2cf535f27731c974343645a3985328",
                ContentType = "video/mp2t",
                Tier = Tier.Ssd,
                Lifecycle = LifecycleState.LifecycleHot,
                Locations = { new Location { Tier = Tier.Ssd, BlobId = "blob-0001" } },
                UserMetadata = { ["encoding-profile"] = "h264-1080p" },
            },
        },
    };

    /// <summary>The hot read: an entry by (directory ID, name), as a client with a cached path resolution does.</summary>
    [Benchmark]
    public EntryRecord? PointRead()
    {
        int i = _next++ & 4095;
        return _reader.FindEntry(_directoryIds[i % Directories], _names[i]);
    }

    /// <summary>Stat by path: resolves "creators", "cNNN", then reads the object (three point reads).</summary>
    [Benchmark]
    public EntryInfo StatByPath() => _reader.Stat("media", _paths[_next++ & 4095]);

    /// <summary>Applies one put of a new object into an existing directory (no fsync).</summary>
    [Benchmark]
    public CommandResult? ApplyPut()
    {
        int i = _next++;
        _one[0] = new LoggedCommand(++_index, PutCommand($"creators/c{i % Directories:D3}/new-{i:D8}", ++_timestamp, 1));
        return _machine.Apply(_one, sync: false)[0];
    }
}
