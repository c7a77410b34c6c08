using Strata.Api.V1;
using Strata.Cli.Cluster;
using Strata.Bench.Targets;
using Strata.Client;
using Strata.Replication;
using Xunit.Abstractions;

namespace Strata.Cli.Tests;

/// <summary>
/// Crash durability with real processes: a node started with <c>STRATA_CRASH_POINT</c> dies by SIGKILL at a named
/// place of its step while a client writes; restarted over the same data directory, it still has every write it
/// acknowledged, and serves.
/// </summary>
public sealed class CrashPointTests(ITestOutputHelper output) : IDisposable
{
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("strata-crash-");
    private NodeProcess? _node;

    // snapshot-install needs a lagging follower (a cluster, below); a single node reaches the other four on every write.
    private static readonly string[] SingleNodePoints = ["log-before-fsync", "log-after-fsync", "apply-before", "apply-after"];

    public static TheoryData<string> Points => [.. SingleNodePoints];

    [Theory]
    [MemberData(nameof(Points))]
    public async Task A_node_killed_at_a_crash_point_keeps_every_acknowledged_write(string point)
    {
        int port = FreePort();
        int raftPort = FreePort();
        // Past the startup steps (elections of the meta shard and the namespace shards), well inside the writes.
        NodeProcess crashing = await StartAsync(port, raftPort, $"{point}:150");
        var acknowledged = new List<string>();
        using (StrataClient client = crashing.Connect())
        {
            await client.CreateBucketAsync("crash");
            for (int i = 0; i < 5000 && !crashing.Process.HasExited; i++)
            {
                string path = $"objects/{i:D5}";
                try
                {
                    await client.PutObjectAsync("crash", path, new ObjectAttributes { Size = (ulong)i + 1 });
                    acknowledged.Add(path);
                }
                catch (StrataException)
                {
                    // The node died under this write (or just before): its outcome is unknown.
                    break;
                }
            }
        }

        Assert.True(await crashing.WaitForExitAsync(TimeSpan.FromSeconds(30)), $"the node never reached crash point {point}");
        Assert.Contains($"crash point {point} reached", crashing.Errors, StringComparison.Ordinal);
        Assert.NotEqual(0, crashing.Process.ExitCode);
        Assert.NotEmpty(acknowledged);

        // Restarted without the crash point over the same directory: every acknowledged write is there, as written.
        NodeProcess restarted = await StartAsync(port, raftPort, crashPoint: null);
        using (StrataClient client = restarted.Connect())
        {
            foreach (string path in acknowledged)
            {
                Entry entry = await client.StatAsync("crash", path);
                Assert.Equal(ulong.Parse(path["objects/".Length..], System.Globalization.CultureInfo.InvariantCulture) + 1, entry.Attributes.Size);
            }

            await client.PutObjectAsync("crash", "after-restart", new ObjectAttributes { Size = 1 });
        }

        await restarted.KillAsync();
    }

    /// <summary>
    /// Trials over one data directory: each starts the node with a seeded crash point and hit count, writes until it
    /// dies, and the next start (the next trial's, or the final one) must still have every write acknowledged in any
    /// trial so far. <c>STRATA_CRASH_TRIALS</c> sets the number (the release gate runs 1,000), <c>STRATA_CRASH_SEED</c>
    /// the seed.
    /// </summary>
    [Fact]
    public async Task Crash_trials_over_one_data_directory_lose_no_acknowledged_write()
    {
        int trials = Knob("STRATA_CRASH_TRIALS", 2);
        int seed = Knob("STRATA_CRASH_SEED", 20261126);
        var random = new Random(seed);
        int port = FreePort();
        int raftPort = FreePort();
        var acknowledged = new Dictionary<string, ulong>();
        int next = 0;
        ulong lastTrialStart = 0;
        for (int trial = 0; trial < trials; trial++)
        {
            string point = SingleNodePoints[random.Next(SingleNodePoints.Length)];
            int hit = random.Next(20, 400);
            NodeProcess crashing = await StartAsync(port, raftPort, $"{point}:{hit}");
            using (StrataClient client = crashing.Connect())
            {
                // Every write of the trial before, and a sample of the older ones (all of them at the end).
                var check = acknowledged.Where(p => p.Value > lastTrialStart || random.Next(acknowledged.Count) < 100)
                    .ToDictionary(p => p.Key, p => p.Value);
                await VerifyAsync(client, check, $"trial {trial} (seed {seed})");
                lastTrialStart = (ulong)next;
                if (trial == 0)
                {
                    // A first attempt that timed out on a starved machine may have created it.
                    await PatientlyAsync(async retry =>
                    {
                        try
                        {
                            await client.CreateBucketAsync("crash");
                        }
                        catch (StrataException e) when (retry && e.StatusCode == Grpc.Core.StatusCode.AlreadyExists)
                        {
                        }

                        return true;
                    });
                }

                while (!crashing.Process.HasExited)
                {
                    string path = $"objects/{next:D7}";
                    ulong size = (ulong)next + 1;
                    next++;
                    try
                    {
                        await client.PutObjectAsync("crash", path, new ObjectAttributes { Size = size });
                        acknowledged[path] = size;
                    }
                    catch (StrataException)
                    {
                        break;
                    }
                }
            }

            Assert.True(await crashing.WaitForExitAsync(TimeSpan.FromSeconds(30)), $"trial {trial}: the node never reached {point}:{hit}");
            Assert.Contains($"crash point {point} reached", crashing.Errors, StringComparison.Ordinal);
        }

        NodeProcess last = await StartAsync(port, raftPort, crashPoint: null);
        using (StrataClient client = last.Connect())
        {
            await VerifyAsync(client, acknowledged, $"after {trials} trials (seed {seed})");
        }

        // The long mode's figures (docs/TESTING.md "Long runs done so far").
        output.WriteLine($"{trials} crash trials (seed {seed}): {acknowledged.Count:N0} acknowledged writes of {next:N0} sent, every one present after the last restart");

        await last.KillAsync();
    }

    /// <summary>
    /// <c>snapshot-install</c>: a follower that missed more than the leader's log keeps is sent a snapshot; killed at the
    /// point where the snapshot is durable in its log but not yet installed, it restarts, installs it, and serves every
    /// write acknowledged while it was away (and after).
    /// </summary>
    [Fact]
    public async Task A_follower_killed_while_installing_a_snapshot_restarts_with_every_acknowledged_write()
    {
        var patient = new StrataClientOptions
        {
            DefaultDeadline = TimeSpan.FromSeconds(5),
            Retry = new RetryPolicy { MaxAttempts = 100, MaxBackoff = TimeSpan.FromMilliseconds(500), MaxElapsed = TimeSpan.FromSeconds(30) },
        };
        await using LocalCluster cluster = LocalCluster.Create(new LocalClusterOptions
        {
            Nodes = 3,
            ClusterId = "crash-snapshot",
            Shards = 1,
            CompactionThreshold = 64, // a few hundred writes leave a stopped follower behind the leader's log
        });
        cluster.StartAll();
        await cluster.WaitUntilReadyAsync(TimeSpan.FromSeconds(90), CancellationToken.None);
        var acknowledged = new Dictionary<string, ulong>();
        using (StrataClient client = StrataClient.ConnectCluster(cluster.RunningAddresses(), patient))
        {
            await client.CreateBucketAsync("snap");
            await PutAsync(client, "before", 20, acknowledged);
        }

        ClusterObservation observed = await cluster.WaitUntilReadyAsync(TimeSpan.FromSeconds(90), CancellationToken.None);
        ulong leader = observed.Leader(observed.ShardOf("snap").ShardId)!.Value.Node;
        ulong follower = cluster.Nodes.Select(n => n.Id).First(id => id != leader);
        await cluster.KillAsync(follower);
        using (StrataClient survivors = StrataClient.ConnectCluster(cluster.RunningAddresses(), patient))
        {
            await PutAsync(survivors, "while-down", 400, acknowledged);
        }

        cluster.Start(follower, new Dictionary<string, string> { [CrashPoints.Variable] = "snapshot-install" });
        LocalNode node = cluster.Node(follower);
        for (int i = 0; i < 600 && node.IsRunning; i++)
        {
            await Task.Delay(100);
        }

        Assert.False(node.IsRunning, $"node {follower} never installed a snapshot; its log ends with:{Environment.NewLine}{cluster.LogTail(follower)}");
        // The process has exited, but its last lines may still be on their way from the pipe into the log file.
        for (int i = 0; i < 100 && !cluster.LogTail(follower, 40).Contains("crash point snapshot-install reached", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }

        Assert.Contains("crash point snapshot-install reached", cluster.LogTail(follower, 40), StringComparison.Ordinal);

        cluster.Start(follower);
        await cluster.WaitUntilReadyAsync(TimeSpan.FromSeconds(90), CancellationToken.None);
        using (StrataClient survivors = StrataClient.ConnectCluster(cluster.RunningAddresses(), patient))
        {
            await PutAsync(survivors, "after", 20, acknowledged);
        }

        // Through the restarted follower alone (its reads go through ReadIndex and wait until it has applied).
        using StrataClient viaFollower = StrataClient.Connect(node.Uri, patient);
        await VerifyAsync(viaFollower, acknowledged, $"node {follower} after the snapshot-install crash", bucket: "snap");
    }

    private static async Task PutAsync(StrataClient client, string prefix, int count, Dictionary<string, ulong> acknowledged)
    {
        for (int i = 0; i < count; i++)
        {
            string path = $"{prefix}/{i:D4}";
            ulong size = (ulong)(acknowledged.Count + 1);
            await client.PutObjectAsync("snap", path, new ObjectAttributes { Size = size });
            acknowledged[path] = size;
        }
    }

    private static async Task VerifyAsync(StrataClient client, Dictionary<string, ulong> acknowledged, string when, string bucket = "crash")
    {
        foreach ((string path, ulong size) in acknowledged)
        {
            Entry entry;
            try
            {
                entry = await PatientlyAsync(_ => client.StatAsync(bucket, path));
            }
            catch (StrataException e)
            {
                throw new Xunit.Sdk.XunitException($"{when}: acknowledged write {path} is lost: {e.Message}");
            }

            Assert.True(entry.Attributes.Size == size, $"{when}: {path} has size {entry.Attributes.Size}, acknowledged {size}");
        }
    }

    /// <summary>
    /// Runs <paramref name="call"/> again (up to five attempts) while it times out or finds the node unavailable: on a
    /// machine starved by other work (the release gate runs these trials beside chaos runs) a call may outlast its
    /// deadline, and a timeout says nothing about what the node holds. The argument says whether this is a retry.
    /// </summary>
    private static async Task<T> PatientlyAsync<T>(Func<bool, Task<T>> call)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await call(attempt > 1);
            }
            catch (StrataException e) when (attempt < 5
                && e.StatusCode is Grpc.Core.StatusCode.DeadlineExceeded or Grpc.Core.StatusCode.Unavailable)
            {
            }
        }
    }

    private static int Knob(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), System.Globalization.CultureInfo.InvariantCulture, out int value) ? value : fallback;

    [Fact]
    public void A_malformed_crash_point_is_refused_at_startup()
    {
        Assert.Equal(("apply-after", 3L), CrashPoints.Parse("apply-after:3"));
        Assert.Equal(("log-before-fsync", 1L), CrashPoints.Parse("log-before-fsync"));
        Assert.Equal((null, 0L), CrashPoints.Parse(""));
        ArgumentException unknown = Assert.Throws<ArgumentException>(() => CrashPoints.Parse("nowhere"));
        Assert.Contains("NAME one of log-before-fsync", unknown.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => CrashPoints.Parse("apply-after:0"));
        Assert.Throws<ArgumentException>(() => CrashPoints.Parse("apply-after:x"));
    }

    private async Task<NodeProcess> StartAsync(int port, int raftPort, string? crashPoint)
    {
        _node?.Dispose();
        _node = await NodeProcess.StartAsync(_data.FullName, port, raftPort,
            new Dictionary<string, string?> { [CrashPoints.Variable] = crashPoint });
        Assert.True(_node.Ready, $"the node did not start: {_node.Errors}");
        return _node;
    }

    private static int FreePort() => LoopbackPorts.Reserve(1)[0];

    public void Dispose()
    {
        _node?.Dispose();
        _data.Delete(recursive: true);
    }
}
