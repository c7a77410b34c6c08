using System.Globalization;
using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Strata.Api;
using Strata.Api.V1;
using GrpcCluster = Strata.Api.V1.Cluster;
using GrpcStrata = Strata.Api.V1.Strata;

namespace Strata.Client.Tests;

/// <summary>
/// A few fake Strata nodes in-process (Kestrel on 127.0.0.1, port 0, HTTP/2 cleartext) that answer from a script
/// shared by all of them: the cluster map every node serves, the leader each shard's responses name, and per-node
/// refusals. Every call a node receives is recorded, so tests assert where calls went, never how long they took.
/// </summary>
internal sealed class FakeCluster : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<FakeNode> _nodes = [];
    private readonly List<ShardInfo> _shards = [];
    private readonly Dictionary<ulong, ulong> _actualLeaders = [];

    public IReadOnlyList<FakeNode> Nodes => _nodes;

    /// <summary>Nodes the map lists besides the running fakes (set before the client fetches the map).</summary>
    public List<NodeInfo> ExtraNodes { get; } = [];

    public FakeNode this[ulong id] => _nodes.Single(n => n.Id == id);

    public static async Task<FakeCluster> StartAsync(int nodes)
    {
        var cluster = new FakeCluster();
        try
        {
            for (ulong id = 1; id <= (ulong)nodes; id++)
            {
                cluster._nodes.Add(await FakeNode.StartAsync(cluster, id));
            }
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    /// <summary>Replaces the shards of the map (the leader of each as the map reports it). The leader named in
    /// response trailers follows the map unless <see cref="SetActualLeader"/> says otherwise.</summary>
    public void SetShards(params ShardInfo[] shards)
    {
        lock (_gate)
        {
            _shards.Clear();
            _shards.AddRange(shards.Select(s => s.Clone()));
            _actualLeaders.Clear();
        }
    }

    /// <summary>One shard over the whole key space.</summary>
    public void SetSingleShard(ulong leader, params ulong[] replicas) =>
        SetShards(Shard(1, 0, 0, leader, replicas));

    public static ShardInfo Shard(ulong id, ulong start, ulong end, ulong leader, params ulong[] replicas)
    {
        var shard = new ShardInfo { ShardId = id, Start = start, End = end, Generation = 1, Leader = leader };
        shard.Replicas.AddRange(replicas);
        return shard;
    }

    /// <summary>The leader the map reports for <paramref name="shardId"/> from now on.</summary>
    public void SetMapLeader(ulong shardId, ulong leader)
    {
        lock (_gate)
        {
            _shards.Single(s => s.ShardId == shardId).Leader = leader;
        }
    }

    /// <summary>The leader named by the trailers of successful responses for the shard (the map may lag).</summary>
    public void SetActualLeader(ulong shardId, ulong leader)
    {
        lock (_gate)
        {
            _actualLeaders[shardId] = leader;
        }
    }

    public ClusterMap MapAnsweredBy(ulong nodeId)
    {
        var map = new ClusterMap { ClusterId = "fake", AnsweredBy = nodeId };
        map.Nodes.AddRange(_nodes.Select(n => new NodeInfo { Id = n.Id, ApiAddress = n.ApiAddress, RaftAddress = "127.0.0.1:1" }));
        map.Nodes.AddRange(ExtraNodes.Select(n => n.Clone()));
        lock (_gate)
        {
            map.Shards.AddRange(_shards.Select(s => s.Clone()));
        }

        return map;
    }

    /// <summary>The shard holding <paramref name="bucket"/> and the leader responses name, by the script.</summary>
    public (ulong Shard, ulong Leader)? Owner(string bucket)
    {
        ulong key = ShardRouting.RoutingKey(bucket);
        lock (_gate)
        {
            ShardInfo? shard = _shards.FirstOrDefault(s => ShardRouting.Contains(s.Start, s.End, key));
            if (shard is null)
            {
                return null;
            }

            return (shard.ShardId, _actualLeaders.TryGetValue(shard.ShardId, out ulong actual) ? actual : shard.Leader);
        }
    }

    /// <summary>Every Strata call (not GetClusterMap) any node received, in no particular order across nodes.</summary>
    public IReadOnlyList<FakeCall> DataCalls => [.. _nodes.SelectMany(n => n.Calls).Where(c => c.Method != "GetClusterMap")];

    public int MapFetches => _nodes.Sum(n => n.Calls.Count(c => c.Method == "GetClusterMap"));

    public async ValueTask DisposeAsync()
    {
        foreach (FakeNode node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}

/// <summary>A call a fake node received: the RPC, the bucket and path it names, and its MutationId (mutations).</summary>
internal sealed record FakeCall(ulong Node, string Method, string? Bucket, string? Path, ByteString? ClientId, ulong Sequence);

/// <summary>One fake node: strata.v1.Strata and strata.v1.Cluster answering from the <see cref="FakeCluster"/> script.</summary>
internal sealed class FakeNode : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<FakeCall> _calls = [];
    private readonly Queue<Func<RpcException>> _refusals = new();
    private WebApplication? _application;

    private FakeNode(FakeCluster cluster, ulong id)
    {
        Cluster = cluster;
        Id = id;
    }

    public FakeCluster Cluster { get; }

    public ulong Id { get; }

    public Uri Address { get; private set; } = null!;

    /// <summary>host:port, as the map names the node.</summary>
    public string ApiAddress => $"{Address.Host}:{Address.Port}";

    /// <summary>When set, every Strata call is refused with this (after the queued refusals).</summary>
    public Func<RpcException>? RefuseAlways { get; set; }

    public IReadOnlyList<FakeCall> Calls
    {
        get
        {
            lock (_gate)
            {
                return [.. _calls];
            }
        }
    }

    public IReadOnlyList<FakeCall> DataCalls => [.. Calls.Where(c => c.Method != "GetClusterMap")];

    public static async Task<FakeNode> StartAsync(FakeCluster cluster, ulong id)
    {
        var node = new FakeNode(cluster, id);
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddRoutingCore();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(new FakeStrataService(node));
        builder.Services.AddSingleton(new FakeClusterService(node));
        WebApplication application = builder.Build();
        application.UseRouting();
        application.MapGrpcService<FakeStrataService>();
        application.MapGrpcService<FakeClusterService>();
        await application.StartAsync();
        node._application = application;
        node.Address = new Uri(application.Urls.First());
        return node;
    }

    /// <summary>The next data call is never answered: it waits until the client gives up on it (its deadline).</summary>
    public void StallNext()
    {
        lock (_gate)
        {
            _stalls++;
        }
    }

    private int _stalls;

    /// <summary>Refuses the next Strata call with <paramref name="status"/> and <paramref name="trailers"/>.</summary>
    public void RefuseNext(StatusCode status, string detail, Metadata trailers)
    {
        lock (_gate)
        {
            _refusals.Enqueue(() => new RpcException(new Status(status, detail), trailers));
        }
    }

    /// <summary>The refusal of a node without a replica of the shard: UNAVAILABLE naming <paramref name="other"/>.</summary>
    public static RpcException NoReplicaHere(FakeNode other) => new(
        new Status(StatusCode.Unavailable, "this node hosts no replica of the shard"),
        new Metadata
        {
            { StrataTrailers.Leader, other.Id.ToString(CultureInfo.InvariantCulture) },
            { StrataTrailers.LeaderAddress, other.ApiAddress },
        });

    /// <summary>Stops serving: the port is closed, connections are refused.</summary>
    public async Task StopAsync()
    {
        if (_application is { } application)
        {
            _application = null;
            await application.StopAsync();
            await application.DisposeAsync();
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    /// <summary>Records a call and answers it: a scripted refusal, or <paramref name="answer"/> with the
    /// shard and leader trailers the script gives for <paramref name="bucket"/>.</summary>
    internal Task<T> Serve<T>(string method, string? bucket, string? path, MutationId? id, ServerCallContext context, Func<T> answer)
    {
        Func<RpcException>? refusal;
        bool stall;
        lock (_gate)
        {
            _calls.Add(new FakeCall(Id, method, bucket, path, id?.ClientId, id?.Sequence ?? 0));
            refusal = _refusals.Count > 0 ? _refusals.Dequeue() : RefuseAlways;
            stall = _stalls > 0;
            if (stall)
            {
                _stalls--;
            }
        }

        if (stall)
        {
            return Task.Delay(Timeout.Infinite, context.CancellationToken).ContinueWith<T>(
                _ => throw new RpcException(new Status(StatusCode.Cancelled, "the client gave up")), TaskScheduler.Default);
        }

        if (refusal is not null)
        {
            throw refusal();
        }

        if (bucket is not null && Cluster.Owner(bucket) is var (shard, leader))
        {
            context.ResponseTrailers.Add(StrataTrailers.Shard, shard.ToString(CultureInfo.InvariantCulture));
            if (leader != 0)
            {
                context.ResponseTrailers.Add(StrataTrailers.Leader, leader.ToString(CultureInfo.InvariantCulture));
            }
        }

        return Task.FromResult(answer());
    }

    internal void RecordMapFetch()
    {
        lock (_gate)
        {
            _calls.Add(new FakeCall(Id, "GetClusterMap", null, null, null, 0));
        }
    }
}

internal sealed class FakeStrataService(FakeNode node) : GrpcStrata.StrataBase
{
    private static BucketResponse BucketNamed(string name) => new() { Bucket = new Bucket { Name = name } };

    private static EntryResponse EntryAt(string bucket, string path) =>
        new() { Entry = new Entry { Bucket = bucket, Path = path, Generation = 1 } };

    public override Task<BucketResponse> CreateBucket(CreateBucketRequest request, ServerCallContext context) =>
        node.Serve("CreateBucket", request.Name, null, request.Id, context, () => BucketNamed(request.Name));

    public override Task<BucketResponse> GetBucket(GetBucketRequest request, ServerCallContext context) =>
        node.Serve("GetBucket", request.Name, null, null, context, () => BucketNamed(request.Name));

    public override Task<ListBucketsResponse> ListBuckets(ListBucketsRequest request, ServerCallContext context) =>
        node.Serve("ListBuckets", null, null, null, context, () => new ListBucketsResponse());

    public override Task<EntryResponse> PutObject(PutObjectRequest request, ServerCallContext context) =>
        node.Serve("PutObject", request.Bucket, request.Path, request.Id, context, () => EntryAt(request.Bucket, request.Path));

    public override Task<EntryResponse> DeleteObject(DeleteObjectRequest request, ServerCallContext context) =>
        node.Serve("DeleteObject", request.Bucket, request.Path, request.Id, context, () => EntryAt(request.Bucket, request.Path));

    public override Task<EntryResponse> Stat(StatRequest request, ServerCallContext context) =>
        node.Serve("Stat", request.Bucket, request.Path, null, context, () => EntryAt(request.Bucket, request.Path));

    public override Task<ListResponse> List(ListRequest request, ServerCallContext context) =>
        node.Serve("List", request.Bucket, request.Prefix, null, context, () => new ListResponse());

    public override Task<CommitResponse> Commit(CommitRequest request, ServerCallContext context) =>
        node.Serve("Commit", request.Operations.Count > 0 ? request.Operations[0].Put?.Bucket : null, null, request.Id, context, () => new CommitResponse());
}

internal sealed class FakeClusterService(FakeNode node) : GrpcCluster.ClusterBase
{
    public override Task<ClusterMap> GetClusterMap(GetClusterMapRequest request, ServerCallContext context)
    {
        node.RecordMapFetch();
        return Task.FromResult(node.Cluster.MapAnsweredBy(node.Id));
    }
}
