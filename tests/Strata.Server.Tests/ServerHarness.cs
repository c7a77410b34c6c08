using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Strata.Api;
using Strata.Api.V1;
using Strata.Cluster;
using Strata.Storage;
using StrataClient = Strata.Api.V1.Strata.StrataClient;

namespace Strata.Server.Tests;

/// <summary>
/// A real server (Kestrel on 127.0.0.1, a free port) over an in-memory node, and a channel to it. Tests share
/// one per class and isolate themselves by bucket name.
/// </summary>
public sealed class ServerHarness : IAsyncLifetime
{
    private StrataServer? _server;
    private GrpcChannel? _channel;
    private int _buckets;

    public StrataServer Server => _server ?? throw new InvalidOperationException("not started");

    public GrpcChannel Channel => _channel ?? throw new InvalidOperationException("not started");

    public StrataClient Client { get; private set; } = null!;

    /// <summary>An in-memory single-node cluster on a free loopback port, silent, without background GC.</summary>
    public static StrataServerOptions InMemoryOptions() => new()
    {
        InMemory = true,
        Port = 0,
        MinimumLogLevel = LogLevel.None,
        Cluster = new ClusterNodeOptions { GarbageCollectionInterval = TimeSpan.Zero },
    };

    /// <summary>
    /// The key under which the engine stores <paramref name="key"/> of <paramref name="bucket"/>'s namespace: inside the
    /// keyspace of the shard that owns the bucket (for tests that watch or corrupt raw engine keys).
    /// </summary>
    public static byte[] EngineKey(StrataServer server, string bucket, byte[] key)
    {
        ulong shard = server.Node.Map.FindByRoutingKey(ShardRouting.RoutingKey(bucket))!.ShardId;
        return [.. KeyspaceEngine.ShardPrefix(shard), .. key];
    }

    /// <summary>Like <see cref="InMemoryOptions"/> over an engine the test owns (fault injection, interleaving).</summary>
    public static StrataServerOptions OptionsOver(IKvEngine engine) => InMemoryOptions() with { InMemory = false, Engine = engine };

    public async Task InitializeAsync()
    {
        _server = await StrataServer.StartAsync(InMemoryOptions());
        _channel = GrpcChannel.ForAddress(_server.Address);
        Client = new StrataClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A bucket name no other test of this harness uses.</summary>
    public string UniqueBucketName(string stem) =>
        $"{stem}-{Interlocked.Increment(ref _buckets).ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>
/// One client identity: a 16-byte client id and its next sequence number. Every session of the process gets
/// its own id (xunit makes a test class instance per test, so sessions must never share ids by accident).
/// </summary>
public sealed class ClientSession
{
    private static int s_sessions;
    private readonly ByteString _clientId;
    private ulong _sequence;

    public ClientSession()
    {
        var bytes = new byte[16];
        new Random(Interlocked.Increment(ref s_sessions)).NextBytes(bytes);
        _clientId = ByteString.CopyFrom(bytes);
    }

    public ByteString ClientId => _clientId;

    /// <summary>The id of a new mutation.</summary>
    public MutationId Next() => new() { ClientId = _clientId, Sequence = Interlocked.Increment(ref _sequence) };
}

/// <summary>Assertions and shortcuts over the generated client.</summary>
public static class Calls
{
    public static async Task<RpcException> Refused<T>(AsyncUnaryCall<T> call, StatusCode expected)
    {
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.True(expected == e.StatusCode, $"expected {expected}, got {e.StatusCode}: {e.Status.Detail}");
        return e;
    }

    public static string? Trailer(RpcException e, string key) => e.Trailers.GetValue(key);

    public static ulong? GenerationTrailer(RpcException e) =>
        Trailer(e, StrataTrailers.CurrentGeneration) is { } value ? ulong.Parse(value, CultureInfo.InvariantCulture) : null;

    public static async Task<Bucket> CreateBucketAsync(this StrataClient client, string name, bool versioning = false,
        MutationId? id = null) =>
        (await client.CreateBucketAsync(new CreateBucketRequest { Id = id, Name = name, Versioning = versioning })).Bucket;

    public static async Task<Entry> PutAsync(this StrataClient client, string bucket, string path, ulong size = 1,
        string etag = "", Preconditions? preconditions = null, MutationId? id = null,
        IDictionary<string, string>? metadata = null)
    {
        var attributes = new ObjectAttributes { Size = size, Etag = etag, ContentType = "application/octet-stream" };
        if (metadata is not null)
        {
            attributes.UserMetadata.Add(metadata);
        }

        return (await client.PutObjectAsync(new PutObjectRequest
        {
            Id = id,
            Bucket = bucket,
            Path = path,
            Attributes = attributes,
            Preconditions = preconditions,
        })).Entry;
    }

    public static async Task<Entry> StatAsync(this StrataClient client, string bucket, string path) =>
        (await client.StatAsync(new StatRequest { Bucket = bucket, Path = path })).Entry;

    public static async Task<bool> ExistsAsync(this StrataClient client, string bucket, string path)
    {
        try
        {
            await client.StatAsync(new StatRequest { Bucket = bucket, Path = path });
            return true;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return false;
        }
    }

    /// <summary>Every entry of a listing, following continuation tokens.</summary>
    public static async Task<List<Entry>> ListAllAsync(this StrataClient client, ListRequest request)
    {
        var entries = new List<Entry>();
        ListRequest page = request.Clone();
        while (true)
        {
            ListResponse response = await client.ListAsync(page);
            entries.AddRange(response.Entries);
            if (response.NextContinuationToken.Length == 0)
            {
                return entries;
            }

            page.ContinuationToken = response.NextContinuationToken;
        }
    }

    public static List<string> Paths(this IEnumerable<Entry> entries) => entries.Select(e => e.Path).ToList();
}

/// <summary>Shortcuts for preconditions.</summary>
public static class When
{
    public static Preconditions Generation(ulong generation) => new() { IfGenerationMatch = generation };

    public static Preconditions Metageneration(ulong metageneration) => new() { IfMetagenerationMatch = metageneration };

    public static Preconditions Absent() => new() { IfNoneMatch = true };

    public static Preconditions Etag(string etag) => new() { IfMatch = etag };
}
