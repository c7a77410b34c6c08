using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using Strata.Api.V1;
using Strata.Cli.Cluster;
using Strata.Bench.Targets;
using Strata.Client;
using Strata.Replication;
using Xunit.Abstractions;

namespace Strata.Cli.Tests;

/// <summary>
/// The power-loss mode (<see cref="PowerLoss"/>, <c>tools/powerloss</c>): first the layer itself, with a probe program
/// whose writes and syncs are known exactly; then real <c>strata start</c> processes cut off at seeded moments, whose
/// every acknowledged write must survive with the value written, nothing reverted.
/// </summary>
public sealed class PowerLossTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("strata-powerloss-");
    private Process? _node;

    private string Data => Path.Combine(_root.FullName, "data");

    // ---------- the layer, with the probe ----------

    [Fact]
    public void Synced_bytes_survive_and_unsynced_bytes_are_lost()
    {
        PowerLossOutcome outcome = Probe("write:a:AAA", "fsync:a", "dirsync", "write:a:BBB", "writev:a:CCCC");
        Assert.Equal("AAA", Read("a"));
        PowerLossFile a = Assert.Single(outcome.Files);
        Assert.Equal((10L, 3L, true), (a.LiveBytes!.Value, a.DurableBytes!.Value, a.Changed));
        Assert.Equal(7, outcome.BytesLost);
    }

    [Fact]
    public void A_new_file_s_name_is_durable_only_after_its_directory_is_synced()
    {
        PowerLossOutcome outcome = Probe("write:a:kept", "fsync:a", "dirsync", "write:b:synced-but-unnamed", "fsync:b");
        Assert.Equal("kept", Read("a"));
        Assert.False(File.Exists(Path.Combine(Data, "b")));
        Assert.Null(outcome.Files.Single(f => f.Name == "b").DurableBytes);

        // A name synced before the bytes: the file is there, empty.
        Probe("write:c:unsynced", "dirsync");
        Assert.Equal("", Read("c"));
        Assert.Equal("kept", Read("a"));
    }

    [Fact]
    public void A_rename_is_durable_only_after_the_directory_is_synced()
    {
        // The way RocksDB replaces CURRENT: write a temporary file, sync it, rename it over, sync the directory.
        Probe("write:CURRENT:old", "fsync:CURRENT", "dirsync", "write:tmp:new", "fsync:tmp", "dirsync", "rename:tmp:CURRENT");
        Assert.Equal("old", Read("CURRENT"));
        Assert.Equal("new", Read("tmp"));

        Probe("write:tmp2:newer", "fsync:tmp2", "rename:tmp2:CURRENT", "dirsync");
        Assert.Equal("newer", Read("CURRENT"));
        Assert.False(File.Exists(Path.Combine(Data, "tmp2")));
        Assert.Equal("new", Read("tmp")); // untouched: present since the last power loss, durable at this start
    }

    [Fact]
    public void Unsynced_unlinks_and_truncations_revert()
    {
        Probe("write:gone:data", "fsync:gone", "write:short:0123456789", "fsync:short", "dirsync",
            "unlink:gone", "truncate:short:4", "write:short:xy");
        Assert.Equal("data", Read("gone"));
        Assert.Equal("0123456789", Read("short"));

        // Synced, the truncation holds: the bytes cut off do not come back even where the file grew again.
        Probe("truncate:short:2", "truncate:short:6", "pwrite:short:3:Z", "fdatasync:short", "unlink:gone", "dirsync");
        Assert.Equal("01\0Z\0\0", Read("short"));
        Assert.False(File.Exists(Path.Combine(Data, "gone")));
    }

    [Fact]
    public void A_torn_cut_keeps_a_prefix_of_an_appended_tail_and_nothing_of_a_rewrite()
    {
        Directory.CreateDirectory(Data);
        var info = new ProcessStartInfo(PowerLoss.Probe(), [Data, "write:log:synced|", "write:rewritten:abcdef", "fsync:log", "fsync:rewritten", "dirsync",
            "write:log:0123456789", "pwrite:rewritten:0:XY", "write:rewritten:tail"]) { UseShellExecute = false };
        PowerLoss.Arm(info, Data);
        using Process probe = Process.Start(info)!;
        probe.WaitForExit();
        PowerLossOutcome outcome = PowerLoss.Apply(Data, probe.Id, new TearingEverything(keep: 4));
        output.WriteLine(outcome.ToString());
        Assert.Equal("synced|0123", Read("log"));
        Assert.Equal(4, outcome.TornBytesKept);
        Assert.Equal("abcdef", Read("rewritten")); // its durable bytes are not a prefix of its live ones: no tail to keep
    }

    /// <summary>A "random" source that tears every tail it may, keeping <c>keep</c> bytes of it.</summary>
    private sealed class TearingEverything(long keep) : Random
    {
        public override int Next(int maxValue) => maxValue - 1;

        public override long NextInt64(long minValue, long maxValue) => Math.Min(minValue + keep - 1, maxValue - 1);
    }

    [Fact]
    public void Positioned_writes_are_tracked_by_range()
    {
        Probe("write:f:aaaaaaaaaa", "fsync:f", "dirsync", "pwrite:f:2:BB", "pwrite:f:7:CC", "fdatasync:f", "pwrite:f:0:X", "pwrite:f:12:tail");
        Assert.Equal("aaBBaaaCCa", Read("f"));
    }

    [Fact]
    public void Files_written_through_stdio_are_copied_whole_at_their_sync()
    {
        Probe("stdio:s:through-fwrite", "dirsync");
        Assert.Equal("through-fwrite", Read("s"));
    }

    [Fact]
    public void Concurrent_writers_and_syncs_keep_exactly_what_each_sync_covered()
    {
        const int Threads = 6;
        const int Records = 300;
        Probe($"threads:{Threads}:{Records}", "write:t0:unsynced-tail");
        for (int t = 0; t < Threads; t++)
        {
            string expected = string.Concat(Enumerable.Range(0, Records).Select(k => $"{t}:{k}\n"));
            Assert.Equal(expected, Read($"t{t}"));
        }
    }

    [Fact]
    public void Power_loss_refuses_a_process_that_did_not_run_under_the_library()
    {
        Directory.CreateDirectory(Data);
        using Process plain = Process.Start(new ProcessStartInfo(PowerLoss.Probe(), [Data, "write:a:x"]) { UseShellExecute = false })!;
        plain.WaitForExit();
        InvalidOperationException refused = Assert.Throws<InvalidOperationException>(() => PowerLoss.Apply(Data, plain.Id));
        Assert.Contains("did not run under the power-loss library", refused.Message, StringComparison.Ordinal);
        Assert.Equal("x", Read("a"));
    }

    /// <summary>Runs the probe under the library over <see cref="Data"/>, lets it die, and cuts the power.</summary>
    private PowerLossOutcome Probe(params string[] operations)
    {
        Directory.CreateDirectory(Data);
        var info = new ProcessStartInfo(PowerLoss.Probe()) { UseShellExecute = false, RedirectStandardError = true };
        info.ArgumentList.Add(Data);
        foreach (string operation in operations)
        {
            info.ArgumentList.Add(operation);
        }

        PowerLoss.Arm(info, Data);
        using Process probe = Process.Start(info)!;
        string errors = probe.StandardError.ReadToEnd();
        probe.WaitForExit();
        Assert.True(probe.ExitCode == 137, $"the probe should die by SIGKILL, exited {probe.ExitCode}: {errors}");
        PowerLossOutcome outcome = PowerLoss.Apply(Data, probe.Id);
        output.WriteLine(outcome.ToString());
        return outcome;
    }

    private string Read(string name) => File.ReadAllText(Path.Combine(Data, name));

    // ---------- a real node ----------

    /// <summary>
    /// Trials over one data directory: each starts <c>strata start</c> under the library, and in turn (1) writes from
    /// several clients (new objects, overwrites of hot objects with growing sizes, deletes) until the test kills it
    /// after a seeded number of acknowledged writes, (2) writes until a seeded crash point kills it, or (3) kills it a
    /// seeded time after it started, while it opens and recovers its database. Then the power is cut, and the next
    /// start must have every acknowledged write with its value and nothing reverted. <c>STRATA_POWERLOSS_TRIALS</c>
    /// sets the number of trials, <c>STRATA_POWERLOSS_SEED</c> the seed.
    /// </summary>
    [Fact]
    public async Task Power_loss_trials_over_one_data_directory_lose_no_acknowledged_write()
    {
        int trials = Knob("STRATA_POWERLOSS_TRIALS", 4);
        int seed = Knob("STRATA_POWERLOSS_SEED", 20261126);
        // Not in CI: torn cuts that keep unsynced WAL pages out of order (see docs/TESTING.md, "Power loss").
        bool outOfOrder = Knob("STRATA_POWERLOSS_OUT_OF_ORDER", 0) == 1;
        var random = new Random(seed);
        int[] ports = LoopbackPorts.Reserve(2);
        var model = new AcknowledgedState();
        long walBytesLost = 0;
        int trialsLosingWal = 0;
        int cutsChangingFiles = 0;
        long tornKept = 0;
        long tornWalKept = 0;
        int lastWriting = 0;
        for (int trial = 0; trial < trials; trial++)
        {
            string? crashPoint = trial % 3 == 1
                ? $"{CrashPoints.Names[random.Next(CrashPoints.Names.Count)] switch { "snapshot-install" => "apply-after", var p => p }}:{random.Next(30, 400)}"
                : null;
            int killAfter = random.Next(20, 400);
            bool atStartup = trial % 3 == 2;
            TimeSpan startupDelay = TimeSpan.FromMilliseconds(random.Next(300, 4000));
            // Every other round of the three kinds is torn: a seeded prefix of some unsynced tails reaches the disk too.
            Random? torn = trial / 3 % 2 == 1 ? new Random(random.Next()) : null;
            string when = $"trial {trial} (seed {seed}, {(torn is null ? "" : "torn cut, ")}" + (atStartup ? $"SIGKILL {startupDelay.TotalMilliseconds} ms into the start"
                : crashPoint is null ? $"SIGKILL after {killAfter} acknowledged writes" : $"crash point {crashPoint}") + ")";
            if (atStartup)
            {
                Process starting = await StartAsync(ports, crashPoint: null, powerLoss: true, waitReady: false);
                string owner = Path.Combine(PowerLoss.ShadowOf(Data), "owner");
                for (int i = 0; i < 3000 && !File.Exists(owner) && !starting.HasExited; i++)
                {
                    await Task.Delay(10); // the library copies the directory before the program runs; the cut comes after
                }

                await Task.Delay(startupDelay);
                starting.Kill();
                Assert.True(starting.WaitForExit(TimeSpan.FromSeconds(60)), $"{when}: the node did not die");
                PowerLossOutcome cut = PowerLoss.Apply(Data, starting.Id, torn, outOfOrder);
                tornKept += cut.TornBytesKept;
                tornWalKept += cut.TornWriteAheadLogBytesKept;
                output.WriteLine($"{when}: power loss: {cut}");
                continue;
            }

            Process node = await StartAsync(ports, crashPoint, powerLoss: true);
            using (StrataClient client = Connect(ports[0]))
            {
                await model.VerifyAsync(client, $"start of {when}", sinceTrial: lastWriting, random);
                lastWriting = trial;
                if (trial == 0)
                {
                    await client.CreateBucketAsync(AcknowledgedState.Bucket);
                }

                await model.WriteAsync(client, () => node.HasExited, random.Next(), crashPoint is null ? killAfter : int.MaxValue, trial);
            }

            if (crashPoint is null)
            {
                node.Kill();
            }

            Assert.True(node.WaitForExit(TimeSpan.FromSeconds(60)), $"{when}: the node did not die");
            PowerLossOutcome outcome = PowerLoss.Apply(Data, node.Id, torn, outOfOrder);
            long wal = torn is null ? outcome.WriteAheadLogBytesLost : 0;
            walBytesLost += wal;
            tornKept += outcome.TornBytesKept;
            tornWalKept += outcome.TornWriteAheadLogBytesKept;
            trialsLosingWal += wal > 0 ? 1 : 0;
            cutsChangingFiles += outcome.Changed.Any() ? 1 : 0;
            output.WriteLine($"{when}: {model.Acknowledged} acknowledged so far; power loss: {outcome}");
        }

        Process last = await StartAsync(ports, crashPoint: null, powerLoss: false);
        using (StrataClient client = Connect(ports[0]))
        {
            await model.VerifyAsync(client, $"after {trials} trials (seed {seed})");
        }

        last.Kill();
        await last.WaitForExitAsync();
        output.WriteLine($"{trials} trials: {trialsLosingWal} strict cuts dropped unsynced WAL bytes ({walBytesLost} in all), torn cuts kept {tornKept} unsynced bytes ({tornWalKept} of the WAL); {model.Acknowledged} acknowledged writes all present");
        // Not vacuous: the cuts really dropped what the node had written but not synced. (Rarely WAL bytes: RocksDB keeps
        // unsynced writes in its WAL buffer — manual WAL flush — so only a kill between a synced write's write() and its
        // fsync leaves some; the info LOG, SSTs and files of a starting node are the usual losses.)
        Assert.True(cutsChangingFiles > 0, "no power loss changed any file: the layer is not doing its job");
    }

    private async Task<Process> StartAsync(int[] ports, string? crashPoint, bool powerLoss, bool waitReady = true)
    {
        ProcessStartInfo info = NodeProgram.OfThisCli().StartInfo(
            ["start", "--data", Data, "--port", $"{ports[0]}", "--raft-port", $"{ports[1]}"]);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = true;
        info.Environment.Remove(CrashPoints.Variable);
        if (crashPoint is not null)
        {
            info.Environment[CrashPoints.Variable] = crashPoint;
        }

        if (powerLoss)
        {
            PowerLoss.Arm(info, Data);
        }

        var process = Process.Start(info)!;
        _node?.Dispose();
        _node = process;
        var errors = new StringWriter();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data?.Contains("Press Ctrl+C to stop.", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, line) =>
        {
            lock (errors)
            {
                errors.WriteLine(line.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!waitReady)
        {
            return process;
        }

        Task first = await Task.WhenAny(ready.Task, process.WaitForExitAsync(), Task.Delay(Patience));
        Assert.True(first == ready.Task, $"the node did not start: {errors}");
        return process;
    }

    private static StrataClient Connect(int port) => StrataClient.Connect(new Uri($"http://127.0.0.1:{port}"), new StrataClientOptions
    {
        DefaultDeadline = TimeSpan.FromSeconds(10),
        Retry = RetryPolicy.None, // a write the node died under is not retried against the dead process
    });

    private static int Knob(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), CultureInfo.InvariantCulture, out int value) ? value : fallback;

    public void Dispose()
    {
        if (_node is { HasExited: false })
        {
            _node.Kill(entireProcessTree: true);
            _node.WaitForExit(TimeSpan.FromSeconds(30));
        }

        _node?.Dispose();
        _root.Delete(recursive: true);
    }
}

/// <summary>
/// Power loss in clusters of real processes (<see cref="LocalClusterOptions.PowerLoss"/>): cuts of one node and of every
/// node at once, and the <c>power-loss</c> fault of <c>strata chaos</c>.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class PowerLossClusterTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("strata-powerloss-cluster-");

    /// <summary>
    /// A 3-node cluster whose nodes all run under the library: while clients write through the shard-aware client,
    /// rounds cut the power of the bucket shard's leader alone (the others keep serving; it restarts and catches up),
    /// then of every node at once (a data-centre outage: no node keeps its page cache, so every acknowledged write
    /// must come back from what a majority had fsynced). <c>STRATA_POWERLOSS_CLUSTER_ROUNDS</c> sets the rounds.
    /// </summary>
    [Fact]
    public async Task A_cluster_whose_nodes_all_lose_power_keeps_every_acknowledged_write()
    {
        int rounds = Knob("STRATA_POWERLOSS_CLUSTER_ROUNDS", 2);
        int seed = Knob("STRATA_POWERLOSS_SEED", 20261126);
        var random = new Random(seed);
        await using LocalCluster cluster = LocalCluster.Create(new LocalClusterOptions { Nodes = 3, Directory = Path.Combine(_root.FullName, "cluster"), PowerLoss = true });
        foreach (LocalNode node in cluster.Nodes)
        {
            cluster.Start(node.Id);
        }

        var patient = new StrataClientOptions
        {
            DefaultDeadline = TimeSpan.FromSeconds(5),
            Retry = new RetryPolicy { MaxAttempts = 50, MaxBackoff = TimeSpan.FromMilliseconds(300), MaxElapsed = TimeSpan.FromSeconds(4) },
        };
        var model = new AcknowledgedState();
        long walBytesLost = 0;
        int cutsChangingFiles = 0;
        for (int round = 0; round < 2 * rounds; round++)
        {
            bool everyNode = round % 2 == 1;
            ClusterObservation observed = await cluster.WaitUntilReadyAsync(Patience, CancellationToken.None);
            using StrataClient client = StrataClient.ConnectCluster(cluster.RunningAddresses(), patient);
            string when = $"round {round} (seed {seed}, power cut of {(everyNode ? "every node" : "the shard leader")})";
            await model.VerifyAsync(client, $"start of {when}", sinceTrial: round - 2, random);
            if (round == 0)
            {
                await client.CreateBucketAsync(AcknowledgedState.Bucket);
                observed = await cluster.WaitUntilReadyAsync(Patience, CancellationToken.None);
            }

            ulong leader = observed.Leader(observed.ShardOf(AcknowledgedState.Bucket).ShardId)!.Value.Node;
            bool cut = false;
            int target = model.Acknowledged + random.Next(50, 300);
            Task writing = model.WriteAsync(client, () => Volatile.Read(ref cut), random.Next(), int.MaxValue, round);
            while (model.Acknowledged < target && !writing.IsCompleted)
            {
                await Task.Delay(10);
            }

            Assert.False(writing.IsFaulted, writing.Exception?.ToString());
            ulong[] victims = everyNode ? [.. cluster.Nodes.Select(n => n.Id)] : [leader];
            PowerLossOutcome[] outcomes = await Task.WhenAll(victims.Select(cluster.PowerLossAsync));
            Volatile.Write(ref cut, true);
            await writing;
            foreach ((ulong victim, PowerLossOutcome outcome) in victims.Zip(outcomes))
            {
                walBytesLost += outcome.WriteAheadLogBytesLost;
                cutsChangingFiles += outcome.Changed.Any() ? 1 : 0;
                output.WriteLine($"{when}: node {victim}: {outcome}");
            }

            foreach (ulong victim in victims)
            {
                cluster.Start(victim);
            }
        }

        await cluster.WaitUntilReadyAsync(Patience, CancellationToken.None);
        using (StrataClient client = StrataClient.ConnectCluster(cluster.RunningAddresses(), patient))
        {
            await model.VerifyAsync(client, $"after {rounds} rounds (seed {seed})");
        }

        output.WriteLine($"{2 * rounds} power cuts: {model.Acknowledged} acknowledged writes all present; {walBytesLost} unsynced WAL bytes dropped");
        Assert.True(cutsChangingFiles > 0, "no power cut changed any file: the layer is not doing its job");
    }

    [Fact]
    public async Task A_chaos_run_with_power_losses_is_linearizable_and_records_what_each_cut_dropped()
    {
        ChaosRunFiles run = await ChaosRunFiles.RunAsync(Path.Combine(_root.FullName, "chaos"), "power-loss", faultCount: 2, seed: 5, operations: 400);

        Assert.Contains("power loss of node", run.Result.Out, StringComparison.Ordinal);
        foreach (JsonElement fault in run.Timeline)
        {
            output.WriteLine(fault.ToString());
            Assert.StartsWith("power loss: ", fault.GetProperty("note").GetString(), StringComparison.Ordinal);
            Assert.True(fault.GetProperty("startNanos").GetInt64() < fault.GetProperty("healNanos").GetInt64(), fault.ToString());
        }
    }

    private static int Knob(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), CultureInfo.InvariantCulture, out int value) ? value : fallback;

    public void Dispose() => _root.Delete(recursive: true);
}

/// <summary>
/// What clients were told, per object: its acknowledged state (a size, or absent), and the one state a write whose
/// outcome is unknown (the node died under it) may have left instead. Sizes of an object only grow, so an older
/// value coming back is told apart from the latest.
/// </summary>
internal sealed class AcknowledgedState
{
    public const string Bucket = "power";
    private const int Writers = 4;
    private readonly Dictionary<string, (ulong? Acked, bool Unknown, ulong? Alternative, int Trial)> _objects = [];
    private readonly Lock _lock = new();
    private long _nextSize = 1;
    private int _fresh;

    private int _acknowledged;

    /// <summary><c>STRATA_POWERLOSS_BALLAST=N</c>: N bytes of user metadata on every object (up to 2,000), so that
    /// writes, and the unsynced tail of the WAL at a cut, are larger than a page. Default 0.</summary>
    private static readonly string Ballast = new('b', Math.Clamp(
        int.TryParse(Environment.GetEnvironmentVariable("STRATA_POWERLOSS_BALLAST"), CultureInfo.InvariantCulture, out int n) ? n : 0, 0, 2000));

    public int Acknowledged => Volatile.Read(ref _acknowledged);

    /// <summary>Writes from <see cref="Writers"/> clients until <paramref name="stopped"/> or a write fails, or
    /// <paramref name="limit"/> writes are acknowledged in all.</summary>
    public async Task WriteAsync(StrataClient client, Func<bool> stopped, int seed, int limit, int trial)
    {
        int acknowledged = 0;
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var random = new Random(seed + w);
            var mine = new List<string>();
            while (Volatile.Read(ref acknowledged) < limit && !stopped())
            {
                int choice = random.Next(10);
                string path;
                ulong? value;
                lock (_lock)
                {
                    value = (ulong)_nextSize++;
                    if (choice < 3)
                    {
                        path = $"hot/{w}-{random.Next(3)}"; // overwritten again and again: a revert would show
                    }
                    else if (choice == 3 && mine.Count > 0)
                    {
                        path = mine[random.Next(mine.Count)];
                        value = null; // a delete
                    }
                    else
                    {
                        path = $"objects/{trial:D3}-{w}-{_fresh++:D6}";
                    }
                }

                try
                {
                    if (value is ulong size)
                    {
                        var attributes = new ObjectAttributes { Size = size };
                        if (Ballast.Length > 0)
                        {
                            attributes.UserMetadata["ballast"] = Ballast;
                        }

                        await client.PutObjectAsync(Bucket, path, attributes);
                    }
                    else
                    {
                        await client.DeleteObjectAsync(Bucket, path);
                        mine.Remove(path);
                    }
                }
                catch (StrataException e) when (e.StatusCode != StatusCode.NotFound && e.StatusCode != StatusCode.InvalidArgument)
                {
                    lock (_lock)
                    {
                        ulong? acked = _objects.TryGetValue(path, out var known) ? known.Acked : null;
                        _objects[path] = (acked, true, value, trial);
                    }

                    return; // the node died under this write (or is dying): its outcome is unknown
                }

                lock (_lock)
                {
                    _objects[path] = (value, false, null, trial);
                    _acknowledged++;
                }

                if (value is not null && path.StartsWith("objects/", StringComparison.Ordinal))
                {
                    mine.Add(path);
                }

                Interlocked.Increment(ref acknowledged);
            }
        })));
    }

    /// <summary>Every object written since trial <paramref name="sinceTrial"/>, and a seeded sample of 200 older ones, is
    /// in its acknowledged state (or the one its unknown write may have left).</summary>
    public async Task VerifyAsync(StrataClient client, string when, int sinceTrial = 0, Random? sample = null)
    {
        foreach ((string path, (ulong? acked, bool unknown, ulong? alternative, int trial)) in _objects)
        {
            if (trial < sinceTrial && (sample is null || sample.Next(_objects.Count) >= 200))
            {
                continue;
            }

            ulong? found;
            try
            {
                found = (await client.StatAsync(Bucket, path)).Attributes.Size;
            }
            catch (StrataException e) when (e.StatusCode == StatusCode.NotFound)
            {
                found = null;
            }

            if (found == acked || (unknown && found == alternative))
            {
                continue;
            }

            string State(ulong? size) => size is ulong s ? $"size {s}" : "absent";
            throw new Xunit.Sdk.XunitException(
                $"{when}: {path} is {State(found)}, acknowledged {State(acked)}" + (unknown ? $" (or {State(alternative)} from a write of unknown outcome)" : "") +
                (found is ulong f && acked is ulong a && f < a ? " — an older value came back" : ""));
        }
    }
}
