using Strata.Api.V1;
using Strata.Cli.Cluster;
using Strata.Bench.Targets;
using Strata.Client;
using Xunit.Abstractions;

namespace Strata.Cli.Tests;

/// <summary>
/// Disk faults against a real node process: bytes flipped in its RocksDB files (write-ahead log, SST files, manifest)
/// while it is down are detected by checksums — the node refuses to start, fails the read (DATA_LOSS) or stops — and
/// are never served: every read that answers returns what was acknowledged.
/// </summary>
public sealed class DiskFaultTests(ITestOutputHelper output) : IDisposable
{
    private readonly List<DirectoryInfo> _directories = [];
    private readonly List<string> _mounts = [];
    private NodeProcess? _node;

    /// <summary>
    /// Each trial writes two generations of objects with a kill between (the restart flushes the first into SST files,
    /// so the directory has SST files, a manifest and a write-ahead log), kills the node, flips one seeded bit in a seeded
    /// file and offset, and restarts. <c>STRATA_FLIP_TRIALS</c> sets the number of trials (default 4),
    /// <c>STRATA_FLIP_SEED</c> the seed.
    /// </summary>
    [Fact]
    public async Task Flipped_bytes_in_the_data_files_are_detected_and_never_served()
    {
        int trials = Knob("STRATA_FLIP_TRIALS", 4);
        int seed = Knob("STRATA_FLIP_SEED", 20261126);
        var random = new Random(seed);
        var outcomes = new Dictionary<string, int>();
        for (int trial = 0; trial < trials; trial++)
        {
            string outcome = await FlipTrialAsync(random, $"trial {trial} (seed {seed})");
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            output.WriteLine($"trial {trial}: {outcome}");
        }

        output.WriteLine($"{trials} flips (seed {seed}): " + string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}")));

        // Not vacuous: the flips land in checksummed bytes, so most trials must see the damage detected.
        int detected = trials - outcomes.GetValueOrDefault(Harmless);
        Assert.True(detected * 2 > trials, $"only {detected} of {trials} flips were detected: " +
            string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}")));
    }

    private const string Harmless = "every read answered correctly";

    private async Task<string> FlipTrialAsync(Random random, string trial)
    {
        DirectoryInfo data = Directory.CreateTempSubdirectory("strata-flip-");
        _directories.Add(data);
        int[] ports = LoopbackPorts.Reserve(2);
        var acknowledged = new Dictionary<string, ulong>();
        for (int generation = 0; generation < 2; generation++)
        {
            NodeProcess writer = await StartAsync(data, ports);
            Assert.True(writer.Ready, $"{trial}: the node did not start: {writer.Errors}");
            using (StrataClient client = writer.Connect())
            {
                if (generation == 0)
                {
                    await client.CreateBucketAsync("flip");
                }

                for (int i = 0; i < 150; i++)
                {
                    string path = $"g{generation}/objects/{i:D4}";
                    ulong size = (ulong)(1000 * generation + i + 1);
                    await client.PutObjectAsync("flip", path, new ObjectAttributes { Size = size, ContentType = "application/x-flip-" + new string('p', 40) });
                    acknowledged[path] = size;
                }
            }

            await writer.KillAsync();
        }

        (string file, long offset) = FlipOneBit(data, random);
        NodeProcess node = await StartAsync(data, ports);
        if (!node.Ready)
        {
            Assert.True(node.Process.HasExited, $"{trial}: the node neither served nor exited after the flip in {file}@{offset}");
            Assert.NotEqual(0, node.Process.ExitCode);
            Assert.Contains("corrupt", node.Errors, StringComparison.OrdinalIgnoreCase);
            output.WriteLine($"{file}@{offset}: {node.Errors.Trim()}");
            return "refused to start";
        }

        int refused = 0;
        using (StrataClient client = node.Connect())
        {
            foreach ((string path, ulong size) in acknowledged)
            {
                try
                {
                    Entry entry = await client.StatAsync("flip", path);
                    Assert.True(entry.Attributes.Size == size,
                        $"{trial}: after a flip in {file}@{offset}, {path} was served with size {entry.Attributes.Size}, acknowledged {size}");
                }
                catch (StrataException e) when (e.StatusCode is not Grpc.Core.StatusCode.NotFound)
                {
                    refused++; // detected: DATA_LOSS, or the node stopped after finding it (UNAVAILABLE)
                }
                catch (StrataException e)
                {
                    Assert.Fail($"{trial}: after a flip in {file}@{offset}, acknowledged {path} is served as missing: {e.Message}");
                }
            }
        }

        output.WriteLine($"{file}@{offset}: {refused} reads refused; exit {(node.Process.HasExited ? node.Process.ExitCode : "-")}; {node.Errors.Trim()}");
        await node.KillAsync();
        return refused > 0 ? "a read refused" : Harmless;
    }

    /// <summary>
    /// The data directory on a small tmpfs fills up under writes: the node stops by itself (exit 4, saying why and what
    /// to do) instead of lingering; once space is freed it restarts over the same directory with every acknowledged
    /// write. Needs root (mount).
    /// </summary>
    [Fact]
    public async Task A_full_disk_stops_the_node_which_recovers_every_acknowledged_write_once_space_is_freed()
    {
        DirectoryInfo mountPoint = Directory.CreateTempSubdirectory("strata-full-");
        _directories.Add(mountPoint);
        await RunAsync("mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", mountPoint.FullName);
        _mounts.Add(mountPoint.FullName);
        DirectoryInfo data = mountPoint.CreateSubdirectory("node");
        int[] ports = LoopbackPorts.Reserve(2);
        string padding = new('m', 2000);
        var acknowledged = new List<string>();
        NodeProcess node = await StartAsync(data, ports);
        Assert.True(node.Ready, $"the node did not start: {node.Errors}");
        using (StrataClient client = node.Connect())
        {
            await client.CreateBucketAsync("full");
            for (int i = 0; i < 100_000 && !node.Process.HasExited; i++)
            {
                string path = $"objects/{i:D6}";
                var attributes = new ObjectAttributes { Size = (ulong)i + 1 };
                attributes.UserMetadata["padding"] = padding;
                try
                {
                    await client.PutObjectAsync("full", path, attributes);
                    acknowledged.Add(path);
                }
                catch (StrataException)
                {
                    break; // the disk is full: this write's outcome is unknown
                }
            }
        }

        Assert.True(await node.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the node kept running on a full disk");
        Assert.Equal(4, node.Process.ExitCode);
        Assert.True(node.Errors.Contains("No space left on device", StringComparison.Ordinal), node.Errors);
        Assert.Contains("restart it over the same data directory", node.Errors, StringComparison.Ordinal);
        Assert.True(acknowledged.Count > 100, $"only {acknowledged.Count} writes before the disk was full");

        await RunAsync("mount", "-o", "remount,size=64m", mountPoint.FullName);
        NodeProcess restarted = await StartAsync(data, ports);
        Assert.True(restarted.Ready, $"the node did not restart once space was freed: {restarted.Errors}");
        using (StrataClient client = restarted.Connect())
        {
            foreach (string path in acknowledged)
            {
                Entry entry = await client.StatAsync("full", path);
                Assert.Equal(ulong.Parse(path["objects/".Length..], System.Globalization.CultureInfo.InvariantCulture) + 1, entry.Attributes.Size);
                Assert.Equal(padding, entry.Attributes.UserMetadata["padding"]);
            }

            await client.PutObjectAsync("full", "after-the-disk-was-freed", new ObjectAttributes { Size = 1 });
        }

        await restarted.KillAsync();
    }

    /// <summary>
    /// A failed fsync: the power-loss library makes the node's N-th file sync fail with EIO and, as Linux may, drops
    /// what it was to make durable (a later fsync would "succeed" without it). The node must stop (exit 4) rather than
    /// retry and carry on; after a power cut of what it left, the restart has every acknowledged write.
    /// </summary>
    [Fact]
    public async Task A_failed_fsync_stops_the_node_and_a_power_cut_after_it_loses_no_acknowledged_write()
    {
        DirectoryInfo data = Directory.CreateTempSubdirectory("strata-eio-");
        _directories.Add(data);
        _directories.Add(new DirectoryInfo(PowerLoss.ShadowOf(data.FullName)));
        int[] ports = LoopbackPorts.Reserve(2);
        _node?.Dispose();
        NodeProcess node = _node = await NodeProcess.StartAsync(data.FullName, ports[0], ports[1],
            new Dictionary<string, string?> { [PowerLoss.FailSyncVariable] = "150" },
            configure: info => PowerLoss.Arm(info, data.FullName));
        Assert.True(node.Ready, $"the node did not start: {node.Errors}");
        var acknowledged = new List<string>();
        using (StrataClient client = node.Connect())
        {
            await client.CreateBucketAsync("eio");
            for (int i = 0; i < 5000 && !node.Process.HasExited; i++)
            {
                string path = $"objects/{i:D5}";
                try
                {
                    await client.PutObjectAsync("eio", path, new ObjectAttributes { Size = (ulong)i + 1 });
                    acknowledged.Add(path);
                }
                catch (StrataException)
                {
                    break; // the write the fsync failed under: outcome unknown
                }
            }
        }

        Assert.True(await node.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the node kept running after a failed fsync");
        Assert.Equal(4, node.Process.ExitCode);
        Assert.True(node.Errors.Contains("injected EIO", StringComparison.Ordinal) && node.Errors.Contains("Input/output error", StringComparison.Ordinal), node.Errors);
        Assert.NotEmpty(acknowledged);

        PowerLoss.Apply(data.FullName, node.Process.Id);
        NodeProcess restarted = await StartAsync(data, ports);
        Assert.True(restarted.Ready, $"the node did not restart after the power cut: {restarted.Errors}");
        using (StrataClient client = restarted.Connect())
        {
            foreach (string path in acknowledged)
            {
                Entry entry = await client.StatAsync("eio", path);
                Assert.Equal(ulong.Parse(path["objects/".Length..], System.Globalization.CultureInfo.InvariantCulture) + 1, entry.Attributes.Size);
            }
        }

        await restarted.KillAsync();
    }

    private static async Task RunAsync(string program, params string[] arguments)
    {
        var info = new System.Diagnostics.ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(info)!;
        string errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} failed (this test needs root): {errors}");
    }

    /// <summary>Flips one bit of a seeded write-ahead log, SST or manifest file at a seeded offset; says which.</summary>
    private static (string File, long Offset) FlipOneBit(DirectoryInfo data, Random random)
    {
        Assert.Contains(data.EnumerateFiles("*", SearchOption.AllDirectories), f => f.Extension == ".sst" && f.Length > 0);
        BitFlip flip = BitFlip.Choose(data.FullName, random)!;
        Assert.True(flip.Apply(data.FullName));
        return (flip.File, flip.Offset);
    }

    private async Task<NodeProcess> StartAsync(DirectoryInfo data, int[] ports)
    {
        _node?.Dispose();
        _node = await NodeProcess.StartAsync(data.FullName, ports[0], ports[1]);
        return _node;
    }

    private static int Knob(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), System.Globalization.CultureInfo.InvariantCulture, out int value) ? value : fallback;

    public void Dispose()
    {
        _node?.Dispose();
        foreach (string mount in _mounts)
        {
            using var umount = System.Diagnostics.Process.Start("umount", ["-l", mount]);
            umount.WaitForExit();
        }

        foreach (DirectoryInfo directory in _directories.Where(d => Directory.Exists(d.FullName)))
        {
            directory.Delete(recursive: true);
        }
    }
}
