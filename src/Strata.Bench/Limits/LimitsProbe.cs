using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Strata.Storage;

namespace Strata.Bench.Limits;

/// <summary>How many samples each probe of <see cref="LimitsProbe"/> takes (after a few unrecorded ones).</summary>
public sealed record LimitsProbeOptions
{
    /// <summary>Synchronous 4 KiB writes (each one fdatasync).</summary>
    public int FsyncSamples { get; init; } = 300;

    /// <summary>Loopback ping-pongs.</summary>
    public int RoundTripSamples { get; init; } = 2_000;

    /// <summary>RocksDB gets of existing keys.</summary>
    public int GetSamples { get; init; } = 20_000;

    /// <summary>RocksDB synced puts (each one WAL fdatasync).</summary>
    public int SyncPutSamples { get; init; } = 300;

    /// <summary>RocksDB puts without sync.</summary>
    public int PutSamples { get; init; } = 5_000;

    /// <summary>Throws <see cref="ArgumentException"/> when a count is below 1.</summary>
    public void Validate()
    {
        if (FsyncSamples < 1 || RoundTripSamples < 1 || GetSamples < 1 || SyncPutSamples < 1 || PutSamples < 1)
        {
            throw new ArgumentException("every probe needs at least one sample");
        }
    }
}

/// <summary>
/// Measures <see cref="PhysicalLimits"/>: fsync of a small write, a loopback TCP round trip, and raw RocksDB get and put
/// through Strata's own <see cref="RocksDbEngine"/>. Each probe runs alone, one operation at a time, and times each
/// operation with the high-resolution timestamp.
/// </summary>
/// <remarks>
/// Writes only inside a fresh subdirectory of the directory it is given, and deletes it afterwards. Not thread-safe
/// with itself (run one probe at a time); it shares the machine with whatever else runs, as the workloads do, which is
/// why the load average is recorded with the figures.
/// </remarks>
public static class LimitsProbe
{
    private const int WarmupSamples = 10;
    private const int PageBytes = 4_096;
    private const int PingBytes = 64;
    private const int RocksKeys = 10_000;

    /// <summary>Runs every probe, writing under <paramref name="directory"/> (the data disk to measure).</summary>
    public static async Task<PhysicalLimits> MeasureAsync(string directory, LimitsProbeOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        LimitsProbeOptions o = options ?? new LimitsProbeOptions();
        o.Validate();
        System.IO.Directory.CreateDirectory(directory);
        string scratch = Path.Combine(Path.GetFullPath(directory), $"strata-limits-{Environment.ProcessId}-{Stopwatch.GetTimestamp():x}");
        System.IO.Directory.CreateDirectory(scratch);
        try
        {
            FloorLatency fsync = Fsync(scratch, o.FsyncSamples, cancellationToken);
            FloorLatency roundTrip = await LoopbackRoundTripAsync(o.RoundTripSamples, cancellationToken).ConfigureAwait(false);
            (FloorLatency get, FloorLatency putSync, FloorLatency put) = RocksDb(Path.Combine(scratch, "rocksdb"), o, cancellationToken);
            return new PhysicalLimits(Path.GetFullPath(directory), fsync, roundTrip, get, putSync, put, MachineInfo.LoadAverageNow());
        }
        finally
        {
            System.IO.Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>Writes 4 KiB at page-aligned offsets of a preallocated 1 MiB file, each followed by fdatasync (what a WAL append costs, minus the size change).</summary>
    private static FloorLatency Fsync(string directory, int samples, CancellationToken cancellationToken)
    {
        const int Pages = 256;
        string path = Path.Combine(directory, "fsync.probe");
        using SafeFileHandle file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.None, preallocationSize: Pages * PageBytes);
        byte[] page = new byte[PageBytes];
        Random.Shared.NextBytes(page);
        for (int i = 0; i < Pages; i++)
        {
            RandomAccess.Write(file, page, (long)i * PageBytes);
        }

        Sync(file);
        var latencies = new List<double>(samples);
        for (int i = -WarmupSamples; i < samples; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            page[0] = (byte)i;
            long started = Stopwatch.GetTimestamp();
            RandomAccess.Write(file, page, (long)((i + WarmupSamples) % Pages) * PageBytes);
            Sync(file);
            double us = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            if (i >= 0)
            {
                latencies.Add(us);
            }
        }

        return FloorLatency.Of(latencies);
    }

    private static void Sync(SafeFileHandle file)
    {
        if (OperatingSystem.IsLinux())
        {
            if (FDataSync(file) != 0)
            {
                throw new IOException($"fdatasync failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        else
        {
            RandomAccess.FlushToDisk(file);
        }
    }

    /// <summary>Ping-pong of 64 bytes over one loopback TCP connection with Nagle off: the floor of any request and reply.</summary>
    private static async Task<FloorLatency> LoopbackRoundTripAsync(int samples, CancellationToken cancellationToken)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Task<Socket> accepting = listener.AcceptSocketAsync(cancellationToken).AsTask();
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint, cancellationToken).ConfigureAwait(false);
        using Socket server = await accepting.ConfigureAwait(false);
        server.NoDelay = true;
        int total = samples + WarmupSamples;
        Task echo = EchoAsync(server, total, cancellationToken);
        byte[] ping = new byte[PingBytes];
        byte[] pong = new byte[PingBytes];
        var latencies = new List<double>(samples);
        for (int i = 0; i < total; i++)
        {
            ping[0] = (byte)i;
            long started = Stopwatch.GetTimestamp();
            await client.SendAsync(ping, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            await ReceiveExactlyAsync(client, pong, cancellationToken).ConfigureAwait(false);
            double us = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            if (pong[0] != ping[0])
            {
                throw new InvalidOperationException("the loopback echo returned another message");
            }

            if (i >= WarmupSamples)
            {
                latencies.Add(us);
            }
        }

        await echo.ConfigureAwait(false);
        return FloorLatency.Of(latencies);
    }

    private static async Task EchoAsync(Socket socket, int messages, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[PingBytes];
        for (int i = 0; i < messages; i++)
        {
            await ReceiveExactlyAsync(socket, buffer, cancellationToken).ConfigureAwait(false);
            await socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task ReceiveExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new IOException("the loopback connection closed early");
            }

            read += n;
        }
    }

    /// <summary>Raw RocksDB through <see cref="RocksDbEngine"/> (the engine Strata's node uses, default options): hot gets, synced puts, unsynced puts.</summary>
    private static (FloorLatency Get, FloorLatency PutSync, FloorLatency Put) RocksDb(string directory, LimitsProbeOptions o, CancellationToken cancellationToken)
    {
        using RocksDbEngine engine = RocksDbEngine.Open(directory);
        byte[] value = new byte[128];
        Random.Shared.NextBytes(value);
        using (IKvWriteBatch load = engine.CreateBatch())
        {
            for (int i = 0; i < RocksKeys; i++)
            {
                load.Put(KvColumn.Data, Key(i), value);
            }

            engine.Write(load, sync: true);
        }

        var random = new Random(RocksKeys);
        var gets = new List<double>(o.GetSamples);
        for (int i = -WarmupSamples; i < o.GetSamples; i++)
        {
            byte[] key = Key(random.Next(RocksKeys));
            long started = Stopwatch.GetTimestamp();
            byte[]? found = engine.Get(KvColumn.Data, key);
            double us = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            if (found is null)
            {
                throw new InvalidOperationException("a key the probe wrote is missing from RocksDB");
            }

            if (i >= 0)
            {
                gets.Add(us);
            }
        }

        FloorLatency Puts(int samples, bool sync, int offset)
        {
            var latencies = new List<double>(samples);
            using IKvWriteBatch batch = engine.CreateBatch();
            for (int i = -WarmupSamples; i < samples; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                batch.Clear();
                batch.Put(KvColumn.Data, Key(offset + i + WarmupSamples), value);
                long started = Stopwatch.GetTimestamp();
                engine.Write(batch, sync);
                double us = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
                if (i >= 0)
                {
                    latencies.Add(us);
                }
            }

            return FloorLatency.Of(latencies);
        }

        FloorLatency putSync = Puts(o.SyncPutSamples, sync: true, RocksKeys);
        FloorLatency put = Puts(o.PutSamples, sync: false, RocksKeys + o.SyncPutSamples + WarmupSamples);
        return (FloorLatency.Of(gets), putSync, put);
    }

    private static byte[] Key(int index) => System.Text.Encoding.ASCII.GetBytes(index.ToString("D10", System.Globalization.CultureInfo.InvariantCulture));

    [DllImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static extern int FDataSync(SafeFileHandle file);
}
