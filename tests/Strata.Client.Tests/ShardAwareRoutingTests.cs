using Grpc.Core;
using Strata.Api;
using Strata.Api.V1;

namespace Strata.Client.Tests;

/// <summary>
/// A cluster client against fake nodes with scripted maps, trailers and refusals: where each call goes is read
/// from the nodes' recorded calls; backoff waits from the manual clock (they take no real time).
/// </summary>
public sealed class ShardAwareRoutingTests
{
    private static readonly ObjectAttributes Attributes = new() { Size = 1 };

    private static (StrataClient Client, ManualTime Time) ConnectTo(params FakeNode[] seeds)
    {
        var time = new ManualTime();
        var client = StrataClient.ConnectCluster(seeds.Select(s => s.Address), new StrataClientOptions
        {
            // Deadlines would be measured on the manual clock, which is not the transport's: none.
            DefaultDeadline = null,
            Time = time,
            JitterSeed = 7,
            Cluster = new ClusterRoutingOptions { MapFetchTimeout = null },
        });
        return (client, time);
    }

    [Fact]
    public async Task An_attempt_that_passes_its_deadline_is_retried_with_the_same_mutation_id()
    {
        await using FakeCluster cluster = await FakeCluster.StartAsync(3);
        cluster.SetSingleShard(leader: 2, 1, 2, 3);
        cluster[2].StallNext();
        // Real deadlines (the transport's clock): the first attempt is never answered and must end by its deadline,
        // surface as DEADLINE_EXCEEDED (not as a cancellation the caller never asked for) and be retried.
        using var client = StrataClient.ConnectCluster([cluster[1].Address], new StrataClientOptions
        {
            DefaultDeadline = TimeSpan.FromMilliseconds(300),
            JitterSeed = 7,
        });

        await client.PutObjectAsync("media", "late.ts", Attributes);

        FakeCall[] puts = [.. cluster.DataCalls.Where(c => c.Method == "PutObject")];
        Assert.True(puts.Length >= 2, $"the stalled attempt is retried ({puts.Length} attempts)");
        Assert.All(puts, p => Assert.Equal((puts[0].ClientId, puts[0].Sequence), (p.ClientId, p.Sequence)));
    }

    [Fact]
    public async Task A_leader_that_stops_answering_is_avoided_for_the_rest_of_the_call_even_when_redirected_to()
    {
        // The map's leader (2) is cut off from its peers and never answers; node 1 still names it as the leader.
        await using FakeCluster cluster = await FakeCluster.StartAsync(3);
        cluster.SetSingleShard(leader: 2, 1, 2, 3);
        for (int i = 0; i < 10; i++)
        {
            cluster[2].StallNext();
        }

        var pointsAtTwo = new Metadata
        {
            { StrataTrailers.Leader, "2" },
            { StrataTrailers.LeaderAddress, cluster[2].ApiAddress },
        };
        cluster[1].RefuseNext(StatusCode.Unavailable, "node 1 is not the leader of shard 1; try node 2", pointsAtTwo);
        using var client = StrataClient.ConnectCluster([cluster[1].Address], new StrataClientOptions
        {
            DefaultDeadline = TimeSpan.FromMilliseconds(300), // real deadlines: the stalled attempt must end
            JitterSeed = 7,
        });

        await client.PutObjectAsync("media", "a.ts", Attributes);

        // One attempt at the silent leader; the redirect back to it is not followed; a third replica answers.
        Assert.Single(cluster[2].DataCalls, c => c.Method == "PutObject");
        Assert.Single(cluster[3].DataCalls, c => c.Method == "PutObject");
    }

    [Fact]
    public void Decommissioned_nodes_are_left_out_of_the_clients_map()
    {
        var map = new ClusterMap { ClusterId = "c" };
        map.Nodes.Add(new NodeInfo { Id = 1, ApiAddress = "127.0.0.1:1", State = "active" });
        map.Nodes.Add(new NodeInfo { Id = 2, ApiAddress = "127.0.0.1:2", State = "decommissioned" });
        map.Nodes.Add(new NodeInfo { Id = 3, ApiAddress = "127.0.0.1:3", State = "decommissioning" });

        ClusterSnapshot snapshot = ClusterSnapshot.FromMap(map, DateTimeOffset.UnixEpoch);

        Assert.Equal([1UL, 3UL], snapshot.Nodes.Select(n => n.Id));
    }

    [Fact]
    public async Task Calls_go_to_the_leader_of_the_cached_map()
    {
        await using FakeCluster cluster = await FakeCluster.StartAsync(3);
        cluster.SetSingleShard(leader: 2, 1, 2, 3);
        (StrataClient client, _) = ConnectTo(cluster[1]);
        using (client)
        {
            await client.PutObjectAsync("media", "a.ts", Attributes);
            await client.StatAsync("media", "a.ts");
            await client.PutObjectAsync("media", "b.ts", Attributes);

            Assert.Equal(["PutObject", "Stat", "PutObject"], cluster[2].DataCalls.Select(c => c.Method));
            Assert.Empty(cluster[1].DataCalls);
            Assert.Empty(cluster[3].DataCalls);
            Assert.Equal(1, cluster.MapFetches);
            Assert.Equal(2UL, client.Cluster!.Current!.Shards.Single().Leader);
        }
    }

    [Fact]
    public async Task Buckets_go_to_the_leader_of_the_shard_owning_their_routing_key()
    {
        await using FakeCluster cluster = await FakeCluster.StartAsync(3);
        const ulong third = ulong.MaxValue / 3;
        cluster.SetShards(
            FakeCluster.Shard(10, third, 2 * third, leader: 2, 1, 2, 3),
            FakeCluster.Shard(11, 2 * third, 0, leader: 3, 1, 2, 3),
            FakeCluster.Shard(9, 0, third, leader: 1, 1, 2, 3));
        (StrataClient client, _) = ConnectTo(cluster[3]);
        using (client)
        {
            string[] buckets = [.. Enumerable.Range(0, 24).Select(i => $"bucket-{i}")];
            ulong LeaderOf(string bucket) => ShardRouting.RoutingKey(bucket) switch
            {
                < third => 1,
                < 2 * third => 2,
                _ => 3,
            };
            Assert.All(new ulong[] { 1, 2, 3 }, leader => Assert.Contains(buckets, b => LeaderOf(b) == leader));

            foreach (string bucket in buckets)
            {
                await client.StatAsync(bucket, "x");
            }

            await client.CommitAsync(new StrataTransaction().Put(buckets[0], "t.ts", Attributes));

            foreach (FakeNode node in cluster.Nodes)
            {
                Assert.Equal(buckets.Where(b => LeaderOf(b) == node.Id), node.DataCalls.Where(c => c.Method == "Stat").Select(c => c.Bucket));
            }

            Assert.Equal(LeaderOf(buckets[0]), cluster.DataCalls.Single(c => c.Method == "Commit").Node);
            ClusterSnapshot map = client.Cluster!.Current!;
            Assert.Equal([9UL, 10UL, 11UL], map.Shards.Select(s => s.Id));
            Assert.All(buckets, b => Assert.Equal(LeaderOf(b), map.ShardFor(b)!.Leader));
            Assert.Equal(0, client.Cluster.Counters.LeadersLearned);
        }
    }

    [Fact]
    public async Task A_trailer_naming_another_leader_moves_later_calls_there()
    {
        await using FakeCluster cluster = await FakeCluster.StartAsync(3);
        cluster.SetSingleShard(leader: 1, 1, 2, 3);
        cluster.SetActualLeader(1, 3);
        (StrataClient client, _) = ConnectTo(cluster[1]);
        using (client)
        {
            await client.StatAsync("media", "a.ts");
            await client.StatAsync("media", "b.ts");
            await client.StatAsync("media", "c.ts");

            Assert.Equal(["a.ts"], cluster[1].DataCalls.Select(c => c.Path));
            Assert.Equal(["b.ts", "c.ts"], cluster[3].DataCalls.Select(c => c.Path));
            Assert.Empty(cluster[2].DataCalls);
            Assert.Equal(3UL, client.Cluster!.Current!.Shards.Single().Leader);
            Assert.Equal(1, client.Cluster.Counters.LeadersLearned);
            Assert.Equal(1, cluster.MapFetches);
        }
    }

    [Fact]
    public async Task A_refusal_naming_a_node_with_a_replica_is_followed_at_once_with_the_same_mutation_id()
    {
        await using FakeCluster cluster = await FakeCluster.StartAsync(3);
        cluster.SetSingleShard(leader: 1, 1, 2);
        cluster.SetActualLeader(1, 3);
        cluster[1].RefuseNext(StatusCode.Unavailable, "no replica here", FakeNode.NoReplicaHere(cluster[3]).Trailers);
        (StrataClient client, ManualTime time) = ConnectTo(cluster[2]);
        using (client)
        {
            await client.PutObjectAsync("media", "a.ts", Attributes);

            FakeCall refused = Assert.Single(cluster[1].DataCalls);
            FakeCall served = Assert.Single(cluster[3].DataCalls);
            Assert.Empty(cluster[2].DataCalls);
            Assert.Equal("PutObject", served.Method);
            Assert.Equal(client.ClientId.ToArray(), served.ClientId!.ToByteArray());
            Assert.Equal(refused.ClientId, served.ClientId);
            Assert.Equal(refused.Sequence, served.Sequence);
            Assert.Empty(time.Waits);
            RoutingCounters counters = client.Cluster!.Counters;
            Assert.Equal(1, counters.RedirectsFollowed);
            Assert.Equal(0, counters.ConnectionFailures);

            // The next mutation is a new one: the next sequence, wherever it goes.
            await client.PutObjectAsync("media", "b.ts", Attributes);
            FakeCall next = cluster.DataCalls.Single(c => c.Sequence != refused.Sequence);
            Assert.Equal(refused.Sequence + 1, next.Sequence);
        }
    }

    [Fact]
    public async Task A_redirect_loop_ends_after_the_bound_in_a_clear_error_and_keeps_the_mutation_id()
    {
        await using FakeCluster cluster = await FakeCluster.StartAsync(2);
        cluster.SetSingleShard(leader: 1, 1, 2);
        cluster[1].RefuseAlways = () => FakeNode.NoReplicaHere(cluster[2]);
        cluster[2].RefuseAlways = () => FakeNode.NoReplicaHere(cluster[1]);
        (StrataClient client, ManualTime time) = ConnectTo(cluster[1]);
        using (client)
        {
            var failure = await Assert.ThrowsAsync<StrataException>(() => client.PutObjectAsync("media", "a.ts", Attributes));

            int bound = client.Options.Cluster.MaxRedirects;
            Assert.Equal(StatusCode.Unavailable, failure.StatusCode);
            Assert.Equal(bound, failure.Redirects);
            Assert.Equal(1, failure.Attempts);
            Assert.Contains($"following {bound} redirects", failure.Message, StringComparison.Ordinal);
            IReadOnlyList<FakeCall> calls = cluster.DataCalls;
            Assert.Equal(bound + 1, calls.Count);
            Assert.Single(calls.Select(c => (c.ClientId, c.Sequence)).Distinct());
            Assert.Empty(time.Waits);
            Assert.Equal(bound, client.Cluster!.Counters.RedirectsFollowed);
        }
    }

    [Fact]
    public async Task Without_redirects_allowed_a_refusal_naming_another_node_is_retried_after_backoff()
    {
        await using FakeCluster cluster = await FakeCluster.StartAsync(2);
        cluster.SetSingleShard(leader: 1, 1, 2);
        cluster[1].RefuseNext(StatusCode.Unavailable, "no replica here", FakeNode.NoReplicaHere(cluster[2]).Trailers);
        var time = new ManualTime();
        using var client = StrataClient.ConnectCluster([cluster[1].Address], new StrataClientOptions
        {
            DefaultDeadline = null,
            Time = time,
            JitterSeed = 7,
            Cluster = new ClusterRoutingOptions { MapFetchTimeout = null, MaxRedirects = 0 },
        });

        await client.PutObjectAsync("media", "a.ts", Attributes);

        Assert.Single(time.Waits);
        Assert.Equal(0, client.Cluster!.Counters.RedirectsFollowed);
        Assert.Equal(2, cluster[1].DataCalls.Count);
        Assert.Single(cluster[1].DataCalls.Select(c => c.Sequence).Distinct());
    }

    [Fact]
    public async Task A_stopped_leader_makes_the_client_use_another_replica_with_backoff()
    {
        await using FakeCluster cluster = await FakeCluster.StartAsync(3);
        cluster.SetSingleShard(leader: 1, 1, 2, 3);
        await cluster[1].StopAsync();
        (StrataClient client, ManualTime time) = ConnectTo(cluster[2]);
        using (client)
        {
            await client.PutObjectAsync("media", "a.ts", Attributes);
            await client.PutObjectAsync("media", "b.ts", Attributes);

            Assert.Equal(["PutObject", "PutObject"], cluster[2].DataCalls.Select(c => c.Method));
            Assert.Empty(cluster[3].DataCalls);
            Assert.Single(time.Waits);
            RoutingCounters counters = client.Cluster!.Counters;
            Assert.Equal(1, counters.ConnectionFailures);
            Assert.Equal(2, counters.MapFetches);
            Assert.True(client.Cluster.IsSuspected(cluster[1].Address));
            Assert.False(client.Cluster.IsSuspected(cluster[2].Address));
        }
    }

    [Fact]
    public async Task The_map_is_fetched_from_any_seed_that_answers()
    {
        await using FakeCluster cluster = await FakeCluster.StartAsync(3);
        cluster.SetSingleShard(leader: 2, 1, 2, 3);
        await cluster[3].StopAsync();
        (StrataClient client, _) = ConnectTo(cluster[3], cluster[1]);
        using (client)
        {
            ClusterSnapshot map = await client.GetClusterMapAsync();

            Assert.Equal(1UL, map.AnsweredBy);
            Assert.Equal([1UL, 2UL, 3UL], map.Nodes.Select(n => n.Id));
            Assert.Equal(cluster[2].ApiAddress, map.Node(2)!.ApiAddress);
            Assert.Same(map, client.Cluster!.Current);
            RoutingCounters counters = client.Cluster.Counters;
            Assert.Equal(1, counters.MapFetches);
            Assert.Equal(1, counters.ConnectionFailures);
        }
    }

    [Fact]
    public async Task A_map_fetched_after_an_unavailable_answer_moves_the_retry_to_the_new_leader()
    {
        await using FakeCluster cluster = await FakeCluster.StartAsync(3);
        cluster.SetSingleShard(leader: 1, 1, 3, 2);
        (StrataClient client, ManualTime time) = ConnectTo(cluster[1]);
        using (client)
        {
            await client.PutObjectAsync("media", "a.ts", Attributes);
            RoutingCounters before = client.Cluster!.Counters;

            // Leadership moves; the old leader answers "no leader" once (as a node does: no trailers), the map then
            // names the new one. Without the fresh map the retry would go to the next replica, node 3.
            cluster.SetMapLeader(1, 2);
            cluster[1].RefuseNext(StatusCode.Unavailable, "shard 1 has no leader right now (election in progress); retry", []);
            await client.PutObjectAsync("media", "b.ts", Attributes);

            FakeCall refused = cluster[1].DataCalls[^1];
            FakeCall served = Assert.Single(cluster[2].DataCalls);
            Assert.Equal((refused.ClientId, refused.Sequence), (served.ClientId, served.Sequence));
            Assert.Equal(2, cluster[1].DataCalls.Count);
            Assert.Single(time.Waits);
            Assert.Equal(new RoutingCounters(MapFetches: 1, 0, 0, 0, 0), client.Cluster.Counters.Since(before));
            Assert.Equal(2UL, client.Cluster.Current!.Shards.Single().Leader);
        }
    }

    [Fact]
    public async Task The_map_is_fetched_again_once_it_is_older_than_the_refresh_interval()
    {
        await using FakeCluster cluster = await FakeCluster.StartAsync(2);
        cluster.SetSingleShard(leader: 1, 1, 2);
        (StrataClient client, ManualTime time) = ConnectTo(cluster[1]);
        using (client)
        {
            TimeSpan interval = client.Options.Cluster.MapRefreshInterval;
            await client.StatAsync("media", "a.ts");
            time.Advance(interval - TimeSpan.FromSeconds(1));
            await client.StatAsync("media", "a.ts");
            Assert.Equal(1, cluster.MapFetches);

            cluster.SetMapLeader(1, 2);
            time.Advance(TimeSpan.FromSeconds(1));
            await client.StatAsync("media", "a.ts");

            Assert.Equal(2, cluster.MapFetches);
            Assert.Equal(2, cluster[1].DataCalls.Count);
            Assert.Single(cluster[2].DataCalls);
        }
    }

    [Fact]
    public async Task Calls_that_name_no_bucket_go_to_any_node()
    {
        await using FakeCluster cluster = await FakeCluster.StartAsync(2);
        cluster.SetSingleShard(leader: 2, 1, 2);
        (StrataClient client, _) = ConnectTo(cluster[1]);
        using (client)
        {
            await client.ListBucketsAsync();

            FakeCall call = Assert.Single(cluster.DataCalls);
            Assert.Equal("ListBuckets", call.Method);
            Assert.Null(call.Bucket);
        }
    }

    [Fact]
    public async Task An_unreachable_cluster_fails_the_call_as_a_connection_failure_within_the_retry_policy()
    {
        await using FakeCluster cluster = await FakeCluster.StartAsync(2);
        cluster.SetSingleShard(leader: 1, 1, 2);
        (StrataClient client, ManualTime time) = ConnectTo(cluster[1]);
        using (client)
        {
            await client.StatAsync("media", "a.ts");
            await cluster[1].StopAsync();
            await cluster[2].StopAsync();

            var failure = await Assert.ThrowsAsync<StrataException>(() => client.StatAsync("media", "a.ts"));

            Assert.Equal(StatusCode.Unavailable, failure.StatusCode);
            Assert.True(failure.IsConnectionFailure);
            Assert.Equal(client.Options.Retry.MaxAttempts, failure.Attempts);
            Assert.Equal(client.Options.Retry.MaxAttempts - 1, time.Waits.Count);
            // Each retry looked for a fresh map first, and no node answered.
            Assert.Equal(client.Options.Retry.MaxAttempts - 1, client.Cluster!.Counters.MapFetchFailures);
        }
    }

    [Fact]
    public async Task A_single_node_client_reads_the_cluster_map_of_its_node()
    {
        await using FakeCluster cluster = await FakeCluster.StartAsync(2);
        cluster.SetSingleShard(leader: 2, 1, 2);
        using StrataClient client = StrataClient.Connect(cluster[1].Address);

        ClusterSnapshot map = await client.GetClusterMapAsync();

        Assert.Null(client.Cluster);
        Assert.Equal(1UL, map.AnsweredBy);
        Assert.Equal(2UL, map.ShardFor("anything")!.Leader);
        Assert.Equal([1UL, 2UL], map.Shards.Single().Replicas.ToArray());
    }

    [Fact]
    public async Task A_refusal_naming_the_leader_by_id_only_is_followed_at_once_to_its_address_in_the_map()
    {
        await using FakeCluster cluster = await FakeCluster.StartAsync(3);
        cluster.SetSingleShard(leader: 1, 1, 2, 3);
        cluster.SetActualLeader(1, 2);
        var trailers = new Metadata { { StrataTrailers.Shard, "1" }, { StrataTrailers.Leader, "2" } };
        cluster[1].RefuseNext(StatusCode.Unavailable, "outcome unknown: leadership changed", trailers);
        (StrataClient client, ManualTime time) = ConnectTo(cluster[3]);
        using (client)
        {
            await client.DeleteObjectAsync("media", "a.ts");

            FakeCall refused = Assert.Single(cluster[1].DataCalls);
            FakeCall served = Assert.Single(cluster[2].DataCalls);
            Assert.Equal((refused.ClientId, refused.Sequence), (served.ClientId, served.Sequence));
            Assert.Empty(time.Waits);
            Assert.Equal(1, client.Cluster!.Counters.RedirectsFollowed);
            Assert.Equal(2UL, client.Cluster.Current!.Shards.Single().Leader);
        }
    }

    [Fact]
    public async Task A_refusal_naming_the_refusing_node_itself_is_retried_after_backoff_not_redirected()
    {
        await using FakeCluster cluster = await FakeCluster.StartAsync(2);
        cluster.SetSingleShard(leader: 1, 1, 2);
        var trailers = new Metadata { { StrataTrailers.Shard, "1" }, { StrataTrailers.Leader, "1" } };
        cluster[1].RefuseNext(StatusCode.Unavailable, "outcome unknown: wait timed out", trailers);
        (StrataClient client, ManualTime time) = ConnectTo(cluster[1]);
        using (client)
        {
            await client.PutObjectAsync("media", "a.ts", Attributes);

            Assert.Equal(2, cluster[1].DataCalls.Count);
            Assert.Single(cluster[1].DataCalls.Select(c => c.Sequence).Distinct());
            Assert.Empty(cluster[2].DataCalls);
            Assert.Single(time.Waits);
            Assert.Equal(0, client.Cluster!.Counters.RedirectsFollowed);
        }
    }

    [Fact]
    public async Task Concurrent_first_calls_share_one_map_fetch()
    {
        await using FakeCluster cluster = await FakeCluster.StartAsync(2);
        cluster.SetSingleShard(leader: 2, 1, 2);
        (StrataClient client, _) = ConnectTo(cluster[1]);
        using (client)
        {
            await Task.WhenAll(Enumerable.Range(0, 32).Select(i => client.PutObjectAsync("media", $"{i}.ts", Attributes)));

            Assert.Equal(1, cluster.MapFetches);
            Assert.Equal(32, cluster[2].DataCalls.Count);
            Assert.Equal(Enumerable.Range(1, 32).Select(i => (ulong)i), cluster[2].DataCalls.Select(c => c.Sequence).Order());
        }
    }

    [Fact]
    public async Task A_node_answering_unavailable_is_passed_over_for_the_retry_but_not_suspected()
    {
        await using FakeCluster cluster = await FakeCluster.StartAsync(2);
        cluster.SetSingleShard(leader: 1, 1, 2);
        cluster[1].RefuseNext(StatusCode.Unavailable, "outcome unknown: the wait timed out; retry with the same id", []);
        (StrataClient client, ManualTime time) = ConnectTo(cluster[1]);
        using (client)
        {
            await client.PutObjectAsync("media", "a.ts", Attributes);
            await client.PutObjectAsync("media", "b.ts", Attributes);

            FakeCall refused = cluster[1].DataCalls[0];
            FakeCall retried = Assert.Single(cluster[2].DataCalls);
            Assert.Equal((refused.ClientId, refused.Sequence), (retried.ClientId, retried.Sequence));
            Assert.Equal(["a.ts", "b.ts"], cluster[1].DataCalls.Select(c => c.Path));
            Assert.Single(time.Waits);
            Assert.Equal(0, client.Cluster!.Counters.ConnectionFailures);
            Assert.False(client.Cluster.IsSuspected(cluster[1].Address));
        }
    }

    [Fact]
    public async Task A_map_node_without_a_usable_address_is_never_routed_to()
    {
        await using FakeCluster cluster = await FakeCluster.StartAsync(2);
        cluster.SetSingleShard(leader: 7, 7, 2);
        cluster.ExtraNodes.Add(new NodeInfo { Id = 7, ApiAddress = "" });
        (StrataClient client, _) = ConnectTo(cluster[1]);
        using (client)
        {
            await client.StatAsync("media", "a.ts");

            FakeCall call = Assert.Single(cluster.DataCalls);
            Assert.Equal(2UL, call.Node);
            Assert.NotNull(client.Cluster!.Current!.Node(7));
        }
    }
}
