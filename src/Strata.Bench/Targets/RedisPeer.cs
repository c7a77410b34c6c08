using System.Globalization;
using Google.Protobuf;
using StackExchange.Redis;
using Strata.Api.V1;

namespace Strata.Bench.Targets;

/// <summary>
/// Redis 7 (Debian <c>redis-server</c>) started on loopback in a temporary directory with <c>appendonly yes</c> and
/// <c>appendfsync always</c> (no RDB snapshots), through StackExchange.Redis (one multiplexed connection, as that
/// client is meant to be used). Entry (bucket, path) is a hash <c>{g: generation, v: attributes}</c>; generations come
/// from one counter, so a recreated entry never reuses one. Each directory has a sorted set of its entries' paths
/// (all scores 0, so it is ordered by bytes) that the write scripts keep in step: a listing is one ZRANGE. Writes,
/// compare-and-swap and renames are Lua scripts (atomic in Redis), called by their SHA; a directory rename is one
/// script that RENAMEs every entry key of the directory and rebuilds its index under the new name.
/// </summary>
/// <remarks>Thread-safe (the multiplexer pipelines every worker's commands over one connection).</remarks>
public sealed class RedisPeer : BenchTarget, IBenchStore
{
    // KEYS: entry, directory index, generation counter. ARGV: expected generation ('' = none), value, path.
    private const string PutScript = """
        local current = tonumber(redis.call('HGET', KEYS[1], 'g') or '0')
        if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= current then return {0, current} end
        local generation = redis.call('INCR', KEYS[3])
        redis.call('HSET', KEYS[1], 'g', generation, 'v', ARGV[2])
        if current == 0 then redis.call('ZADD', KEYS[2], 0, ARGV[3]) end
        return {1, generation}
        """;

    // KEYS: source, destination, source directory index, destination directory index, generation counter. ARGV: source path, destination path.
    private const string RenameScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
        if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
        redis.call('RENAME', KEYS[1], KEYS[2])
        redis.call('HSET', KEYS[2], 'g', redis.call('INCR', KEYS[5]))
        redis.call('ZREM', KEYS[3], ARGV[1])
        redis.call('ZADD', KEYS[4], 0, ARGV[2])
        return 0
        """;

    // KEYS: source directory index, destination directory index, generation counter. ARGV: entry key prefix
    // ('e:bucket/'), source directory + '/', destination directory + '/'. Moves every entry of the directory (the
    // workloads' directories hold no subdirectories) in one script: atomic, and O(entries) on Redis's one thread.
    private const string RenameDirectoryScript = """
        if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
        local names = redis.call('ZRANGE', KEYS[1], 0, -1)
        if #names == 0 then return 1 end
        local cut = string.len(ARGV[2]) + 1
        for _, name in ipairs(names) do
          local moved = ARGV[3] .. string.sub(name, cut)
          redis.call('RENAME', ARGV[1] .. name, ARGV[1] .. moved)
          redis.call('HSET', ARGV[1] .. moved, 'g', redis.call('INCR', KEYS[3]))
          redis.call('ZADD', KEYS[2], 0, moved)
        end
        redis.call('DEL', KEYS[1])
        return 0
        """;

    private static readonly RedisKey GenerationCounter = "strata-bench:generation";
    private static readonly RedisValue[] EntryFields = ["g", "v"];

    private readonly ConnectionMultiplexer _connection;
    private readonly IDatabase _database;
    private readonly PeerServer _server;
    private readonly string _directory;
    private readonly byte[] _put;
    private readonly byte[] _rename;

    private RedisPeer(ConnectionMultiplexer connection, PeerServer server, string directory, string version, int port, byte[] put, byte[] rename)
    {
        _connection = connection;
        _database = connection.GetDatabase();
        _server = server;
        _directory = directory;
        _put = put;
        _rename = rename;
        Description = string.Create(CultureInfo.InvariantCulture,
            $"Redis {version}, one server on 127.0.0.1:{port}, data in a temporary directory; StackExchange.Redis (one multiplexed connection), Lua scripts for conditional writes and renames");
    }

    /// <summary>The server process (for tests: teardown must leave none).</summary>
    public int ProcessId => _server.ProcessId;

    public override string Name => "redis";

    public override string Description { get; }

    public override string Durability =>
        "appendonly yes, appendfsync always (the AOF is fsynced before replies to the writes of each event-loop pass are sent), no RDB snapshots; single server, no replica";

    /// <summary>Starts redis-server on a free loopback port and returns once it answers. Throws <see cref="PeerUnavailableException"/> if it is not installed or does not start.</summary>
    public static async Task<RedisPeer> StartAsync(CancellationToken cancellationToken = default)
    {
        string redis = PeerServer.FindExecutable("redis-server", "/usr/bin/redis-server")
            ?? throw new PeerUnavailableException("redis-server is not installed: install the Debian package redis-server (scripts/install-prerequisites.sh does)");
        string directory = Directory.CreateTempSubdirectory("strata-bench-redis-").FullName;
        int port = LoopbackPorts.Reserve(1)[0];
        PeerServer? server = null;
        ConnectionMultiplexer? connection = null;
        try
        {
            server = PeerServer.Start(redis,
            [
                "--port", port.ToString(CultureInfo.InvariantCulture),
                "--bind", "127.0.0.1",
                "--dir", directory,
                "--appendonly", "yes",
                "--appendfsync", "always",
                "--save", "",
                "--daemonize", "no",
                "--protected-mode", "no",
                "--logfile", "",
            ], Path.Combine(directory, "redis.log"), directory);
            var options = new ConfigurationOptions
            {
                EndPoints = { { "127.0.0.1", port } },
                AbortOnConnectFail = false,
                ConnectTimeout = 2000,
                SyncTimeout = 10_000,
                AsyncTimeout = 10_000,
            };
            connection = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
            ConnectionMultiplexer connected = connection;
            await PeerServer.WaitUntilServingAsync("redis", [server], TimeSpan.FromSeconds(30),
                async _ => await connected.GetDatabase().PingAsync().ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            IServer endpoint = connection.GetServer("127.0.0.1", port);
            byte[] put = await endpoint.ScriptLoadAsync(PutScript).ConfigureAwait(false);
            byte[] rename = await endpoint.ScriptLoadAsync(RenameScript).ConfigureAwait(false);
            string version = endpoint.Version.ToString();
            return new RedisPeer(connection, server, directory, version, port, put, rename);
        }
        catch
        {
            connection?.Dispose();
            if (server is not null)
            {
                await server.StopAsync().ConfigureAwait(false);
            }

            PeerServer.DeleteDirectory(directory);
            throw;
        }
    }

    public override Task CreateBucketAsync(string bucket, CancellationToken cancellationToken) => Task.CompletedTask;

    public override IBenchStore StoreOf(int worker) => this;

    public async Task<StoredEntry?> GetAsync(string bucket, string path, CancellationToken cancellationToken)
    {
        RedisValue[] fields = await _database.HashGetAsync(EntryKey(bucket, path), EntryFields).ConfigureAwait(false);
        if (fields[0].IsNull)
        {
            return null;
        }

        return new StoredEntry((long)fields[0], ObjectAttributes.Parser.ParseFrom((byte[])fields[1]!));
    }

    public async Task<WriteOutcome> PutAsync(string bucket, string path, ObjectAttributes attributes, long? ifGenerationMatch, CancellationToken cancellationToken)
    {
        RedisResult result = await _database.ScriptEvaluateAsync(_put,
            [EntryKey(bucket, path), DirectoryKey(bucket, path), GenerationCounter],
            [ifGenerationMatch is long expected ? expected : RedisValue.EmptyString, attributes.ToByteArray(), path]).ConfigureAwait(false);
        RedisResult[] answer = (RedisResult[])result!;
        long generation = (long)answer[1];
        return (long)answer[0] == 1 ? WriteOutcome.Written(generation) : WriteOutcome.Conflict(generation);
    }

    public async Task<IReadOnlyList<string>> ListAsync(string bucket, string directory, string? startAfter, int limit, CancellationToken cancellationToken)
    {
        // The index's scores are all 0, so it is ordered by bytes: a page after a name is ZRANGEBYLEX (name + LIMIT 0 n,
        // Redis's documented way to page through a lexicographic index.
        RedisValue[] names = startAfter is null
            ? await _database.SortedSetRangeByRankAsync(IndexKey(bucket, directory), 0, limit - 1).ConfigureAwait(false)
            : await _database.SortedSetRangeByValueAsync(IndexKey(bucket, directory), startAfter, default, Exclude.Start, Order.Ascending, 0, limit).ConfigureAwait(false);
        return [.. names.Select(n => n.ToString())];
    }

    public async Task<RenameOutcome> RenameDirectoryAsync(string bucket, string source, string destination, CancellationToken cancellationToken)
    {
        RedisResult result = await _database.ScriptEvaluateAsync(RenameDirectoryScript,
            [IndexKey(bucket, source), IndexKey(bucket, destination), GenerationCounter],
            ["e:" + bucket + "/", source + "/", destination + "/"]).ConfigureAwait(false);
        return (int)result switch
        {
            0 => RenameOutcome.Renamed,
            1 => RenameOutcome.SourceMissing,
            _ => RenameOutcome.DestinationExists,
        };
    }

    public async Task<RenameOutcome> RenameAsync(string bucket, string source, string destination, CancellationToken cancellationToken)
    {
        RedisResult result = await _database.ScriptEvaluateAsync(_rename,
            [EntryKey(bucket, source), EntryKey(bucket, destination), DirectoryKey(bucket, source), DirectoryKey(bucket, destination), GenerationCounter],
            [source, destination]).ConfigureAwait(false);
        return (int)result switch
        {
            0 => RenameOutcome.Renamed,
            1 => RenameOutcome.SourceMissing,
            _ => RenameOutcome.DestinationExists,
        };
    }

    public async Task LoadAsync(string bucket, IReadOnlyList<(string Path, ObjectAttributes Attributes)> entries, CancellationToken cancellationToken)
    {
        // Pipelined: the multiplexer sends the batch back to back and Redis fsyncs once per event-loop pass.
        await Task.WhenAll(entries.Select(e => PutAsync(bucket, e.Path, e.Attributes, null, cancellationToken))).ConfigureAwait(false);
    }

    protected override async ValueTask DisposeCoreAsync()
    {
        await _connection.DisposeAsync().ConfigureAwait(false);
        await _server.StopAsync().ConfigureAwait(false);
        PeerServer.DeleteDirectory(_directory);
    }

    private static RedisKey EntryKey(string bucket, string path) => "e:" + bucket + "/" + path;

    private static RedisKey DirectoryKey(string bucket, string path)
    {
        int slash = path.LastIndexOf('/');
        return IndexKey(bucket, slash < 0 ? "" : path[..slash]);
    }

    private static RedisKey IndexKey(string bucket, string directory) => "d:" + bucket + "/" + directory;
}
