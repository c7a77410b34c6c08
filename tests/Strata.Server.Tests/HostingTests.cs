using Strata.Api;
using Strata.Cluster;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Strata.Api.V1;
using Strata.Storage;
using StrataClient = Strata.Api.V1.Strata.StrataClient;

namespace Strata.Server.Tests;

/// <summary>The server as a process hosts it: binding, health, restart on the same data, storage failure, shutdown.</summary>
public sealed class HostingTests
{
    private static async Task<(StrataServer Server, GrpcChannel Channel)> StartAsync(StrataServerOptions options)
    {
        StrataServer server = await StrataServer.StartAsync(options);
        return (server, GrpcChannel.ForAddress(server.Address));
    }

    [Fact]
    public async Task Port_zero_binds_a_free_port_on_loopback_and_reports_it()
    {
        await using StrataServer server = await StrataServer.StartAsync(ServerHarness.InMemoryOptions());

        Assert.Equal("http", server.Address.Scheme);
        Assert.Equal("127.0.0.1", server.Address.Host);
        Assert.NotEqual(0, server.Address.Port);
        Assert.Equal("", server.DataDirectory);
        Assert.True(server.Node.Map.IsBootstrapped, "the single-node cluster is ready when StartAsync returns");
        Assert.Equal([0UL, 1, 2, 3, 4], server.Node.HostedShards);
    }

    [Fact]
    public async Task Health_reports_serving_for_the_server_and_the_strata_service()
    {
        (StrataServer server, GrpcChannel channel) = await StartAsync(ServerHarness.InMemoryOptions());
        await using (server)
        using (channel)
        {
            var health = new Health.HealthClient(channel);
            HealthCheckResponse whole = await health.CheckAsync(new HealthCheckRequest());
            HealthCheckResponse strata = await health.CheckAsync(new HealthCheckRequest { Service = StrataServer.HealthServiceName });

            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, whole.Status);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, strata.Status);
            await Calls.Refused(health.CheckAsync(new HealthCheckRequest { Service = "no.such.Service" }), StatusCode.NotFound);
        }
    }

    [Fact]
    public async Task A_storage_failure_makes_calls_unavailable_and_health_not_serving()
    {
        using var engine = new InMemoryKvEngine();
        StrataServerOptions options = ServerHarness.OptionsOver(engine) with { Cluster = new ClusterNodeOptions { GarbageCollectionInterval = TimeSpan.Zero } };
        (StrataServer server, GrpcChannel channel) = await StartAsync(options);
        await using (server)
        using (channel)
        {
            var client = new StrataClient(channel);
            var health = new Health.HealthClient(channel);
            await client.CreateBucketAsync("survivor");

            engine.FailNextSync();
            RpcException failed = await Calls.Refused(
                client.PutObjectAsync(new PutObjectRequest { Bucket = "survivor", Path = "lost" }), StatusCode.Unavailable);
            Assert.StartsWith("the node stopped after a storage failure:", failed.Status.Detail, StringComparison.Ordinal);

            Assert.NotNull(server.Node.Failure);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest())).Status);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing,
                (await health.CheckAsync(new HealthCheckRequest { Service = StrataServer.HealthServiceName })).Status);
            await Calls.Refused(client.PutObjectAsync(new PutObjectRequest { Bucket = "survivor", Path = "later" }), StatusCode.Unavailable);
            await Calls.Refused(client.StatAsync(new StatRequest { Bucket = "survivor", Path = "lost" }), StatusCode.Unavailable);
        }

        // After the "process restart", the failed write is not there and the acknowledged one is.
        engine.SimulateCrash();
        (StrataServer restarted, GrpcChannel again) = await StartAsync(ServerHarness.OptionsOver(engine));
        await using (restarted)
        using (again)
        {
            var client = new StrataClient(again);
            Assert.Equal("survivor", (await client.GetBucketAsync(new GetBucketRequest { Name = "survivor" })).Bucket.Name);
            Assert.False(await client.ExistsAsync("survivor", "lost"));
        }
    }

    [Fact]
    public async Task A_storage_failure_fails_the_batch_and_every_mutation_after_it()
    {
        var memory = new InMemoryKvEngine();
        using var engine = new InterleavingEngine(memory);
        StrataServerOptions options = ServerHarness.OptionsOver(engine) with
        {
            Cluster = new ClusterNodeOptions { GarbageCollectionInterval = TimeSpan.Zero },
        };
        (StrataServer server, GrpcChannel channel) = await StartAsync(options);
        await using (server)
        using (channel)
        {
            var client = new StrataClient(channel);
            await client.CreateBucketAsync("queue");

            // Hold the batch of the first put in its write, send three more puts, then fail the fsync.
            InterleavingEngine.Pause pause = engine.PauseNextWrite();
            Task<Entry> first = client.PutAsync("queue", "first");
            await pause.Reached.WaitAsync(TimeSpan.FromSeconds(60)); // fails instead of hanging if it is never reached
            // Whether they reach the node's queue before the failure (failed with it) or after (refused), the
            // outcome is the same; either way none of them may apply.
            Task<Entry>[] queued = [.. Enumerable.Range(0, 3).Select(i => client.PutAsync("queue", $"queued-{i}"))];
            memory.FailNextSync();
            pause.Resume();

            foreach (Task<Entry> put in queued.Prepend(first))
            {
                RpcException e = await Assert.ThrowsAsync<RpcException>(() => put);
                Assert.Equal(StatusCode.Unavailable, e.StatusCode);
                Assert.StartsWith("the node stopped after a storage failure:", e.Status.Detail, StringComparison.Ordinal);
            }
        }

        memory.SimulateCrash();
        (StrataServer restarted, GrpcChannel again) = await StartAsync(ServerHarness.OptionsOver(memory));
        await using (restarted)
        using (again)
        {
            ListResponse listing = await new StrataClient(again).ListAsync(new ListRequest { Bucket = "queue", Delimiter = "" });
            Assert.Empty(listing.Entries);
        }
    }

    [Fact]
    public async Task A_corrupted_record_is_data_loss_and_never_served()
    {
        using var engine = new InMemoryKvEngine();
        (StrataServer server, GrpcChannel channel) = await StartAsync(ServerHarness.OptionsOver(engine));
        await using (server)
        using (channel)
        {
            var client = new StrataClient(channel);
            await client.CreateBucketAsync("fragile");
            await client.PutAsync("fragile", "o");

            // The bucket record lives in the keyspace of the shard that owns the bucket.
            ulong shard = server.Node.Map.FindByRoutingKey(ShardRouting.RoutingKey("fragile"))!.ShardId;
            using var keyspace = KeyspaceEngine.ForShard(engine, shard);
            byte[] key = Namespace.NamespaceKeys.Bucket("fragile");
            byte[] stored = keyspace.Get(KvColumn.Data, key)!;
            stored[^1] ^= 0x01; // one flipped bit in the record's payload
            using (IKvWriteBatch batch = keyspace.CreateBatch())
            {
                batch.Put(KvColumn.Data, key, stored);
                keyspace.Write(batch, sync: false);
            }

            RpcException bucket = await Calls.Refused(client.GetBucketAsync(new GetBucketRequest { Name = "fragile" }), StatusCode.DataLoss);
            Assert.StartsWith("stored data failed verification: ", bucket.Status.Detail, StringComparison.Ordinal);
            await Calls.Refused(client.StatAsync(new StatRequest { Bucket = "fragile", Path = "o" }), StatusCode.DataLoss);

            // Corruption found by a read does not stop the node: other buckets are still served.
            await client.CreateBucketAsync("healthy");
            Assert.Null(server.Node.Failure);
        }
    }

    [Fact]
    public async Task Data_written_through_the_server_survives_a_restart_on_the_same_directory()
    {
        string directory = Path.Combine(Path.GetTempPath(), "strata-server-tests-" + Path.GetRandomFileName());
        try
        {
            StrataServerOptions options = ServerHarness.InMemoryOptions() with
            {
                InMemory = false,
                DataDirectory = directory,
                Cluster = new ClusterNodeOptions { GarbageCollectionInterval = TimeSpan.Zero },
            };
            var session = new ClientSession();
            var put = new PutObjectRequest
            {
                Id = session.Next(),
                Bucket = "durable",
                Path = "a/b/c",
                Attributes = new ObjectAttributes { Size = 7, Etag = "e", UserMetadata = { ["k"] = "v" } },
            };
            Entry written;
            (StrataServer server, GrpcChannel channel) = await StartAsync(options);
            await using (server)
            using (channel)
            {
                Assert.Equal(Path.GetFullPath(directory), server.DataDirectory);
                var client = new StrataClient(channel);
                await client.CreateBucketAsync("durable", versioning: true, session.Next());
                written = (await client.PutObjectAsync(put)).Entry;
                await client.PutAsync("durable", "a/b/c", etag: "newer", id: session.Next());
                await client.RenameAsync(new RenameRequest { Id = session.Next(), Bucket = "durable", Source = "a/b", Destination = "x" });
            }

            (StrataServer restarted, GrpcChannel again) = await StartAsync(options);
            await using (restarted)
            using (again)
            {
                var client = new StrataClient(again);
                Entry current = await client.StatAsync("durable", "x/c");
                Assert.Equal("newer", current.Attributes.Etag);
                ListResponse versions = await client.ListVersionsAsync(new ListVersionsRequest { Bucket = "durable", Path = "x/c" });
                Assert.Equal(2, versions.Entries.Count);
                Assert.Equal(written.Attributes, versions.Entries[1].Attributes);
                Assert.False(await client.ExistsAsync("durable", "a/b"));

                // Exactly-once survives the restart: the retried put returns its first outcome and applies nothing.
                Entry retried = (await client.PutObjectAsync(put)).Entry;
                Assert.Equal(written, retried);
                Assert.Equal("newer", (await client.StatAsync("durable", "x/c")).Attributes.Etag);
                Assert.False(await client.ExistsAsync("durable", "a/b/c"));
            }
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task WaitForShutdown_completes_when_the_server_is_disposed_and_disposal_is_idempotent()
    {
        StrataServer server = await StrataServer.StartAsync(ServerHarness.InMemoryOptions());
        Task waiting = server.WaitForShutdownAsync();
        Assert.False(waiting.IsCompleted);

        await server.DisposeAsync();
        await waiting;
        await server.DisposeAsync();

        using var channel = GrpcChannel.ForAddress(server.Address);
        await Calls.Refused(new StrataClient(channel).GetBucketAsync(new GetBucketRequest { Name = "any" }), StatusCode.Unavailable);
    }

    [Fact]
    public async Task Disposal_lets_a_call_in_flight_finish()
    {
        using var engine = new InterleavingEngine(new InMemoryKvEngine());
        StrataServer server = await StrataServer.StartAsync(ServerHarness.OptionsOver(engine));
        using var channel = GrpcChannel.ForAddress(server.Address);
        var client = new StrataClient(channel);
        await client.CreateBucketAsync("inflight");
        await client.PutAsync("inflight", "o", etag: "kept");

        // Hold a stat inside its read, start stopping the server, then let the stat go.
        InterleavingEngine.Pause pause = engine.PauseNextGet(ServerHarness.EngineKey(server, "inflight", Namespace.NamespaceKeys.Bucket("inflight")));
        Task<Entry> stat = client.StatAsync("inflight", "o");
        await pause.Reached.WaitAsync(TimeSpan.FromSeconds(60)); // fails instead of hanging if it is never reached
        Task disposing = server.DisposeAsync().AsTask();
        pause.Resume();

        Assert.Equal("kept", (await stat).Attributes.Etag);
        await disposing;
        await Calls.Refused(client.GetBucketAsync(new GetBucketRequest { Name = "inflight" }), StatusCode.Unavailable);
    }

    [Fact]
    public async Task WaitForShutdown_honours_its_cancellation_token()
    {
        await using StrataServer server = await StrataServer.StartAsync(ServerHarness.InMemoryOptions());
        using var cancel = new CancellationTokenSource();
        Task waiting = server.WaitForShutdownAsync(cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Fact]
    public async Task Starting_on_a_port_in_use_fails_and_releases_the_data_directory()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        int port = ((IPEndPoint)occupant.LocalEndpoint).Port;
        string directory = Path.Combine(Path.GetTempPath(), "strata-server-tests-" + Path.GetRandomFileName());
        try
        {
            StrataServerOptions options = ServerHarness.InMemoryOptions() with { InMemory = false, DataDirectory = directory, Port = port };
            await Assert.ThrowsAnyAsync<IOException>(() => StrataServer.StartAsync(options));

            // The failed start closed the node: the same directory opens again (RocksDB holds a lock per directory).
            await using StrataServer server = await StrataServer.StartAsync(options with { Port = 0 });
            Assert.NotEqual(port, server.Address.Port);
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Bad_hosts_and_ports_are_refused_before_anything_opens()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => StrataServer.StartAsync(ServerHarness.InMemoryOptions() with { Host = "not-an-ip.example" }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => StrataServer.StartAsync(ServerHarness.InMemoryOptions() with { Port = 70000 }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => StrataServer.StartAsync(ServerHarness.InMemoryOptions() with { Port = -1 }));
    }
}
