using System.Net;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using Strata.Transport;

namespace Strata.Benchmarks;

/// <summary>
/// Throughput of the node-to-node TCP transport: two <see cref="TcpTransport"/>s on loopback, node 1 streaming frames
/// of <see cref="FrameSize"/> bytes to node 2 as fast as its outbound queue accepts them while node 2's receive loop
/// drains them (woken by <see cref="TcpTransportOptions.FrameArrived"/>). One operation is one frame delivered:
/// Op/s is frames per second; multiply by the size for bytes per second.
/// </summary>
/// <remarks>
/// 100-byte frames measure the per-frame cost (record framing, CRC-32C, queueing, coalesced flushes); 64 KiB frames,
/// the largest that still travel whole in the small lane, measure bandwidth. Both sides run in this process, so the
/// two cores of a small machine serve sender, receiver and kernel at once.
/// Run: <c>dotnet run -c Release --project bench/Strata.Benchmarks -- --filter '*TcpTransport*' --job short</c>.
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(ThroughputColumns))]
public class TcpTransportBenchmarks
{
    private const int FramesPerOperation = 1_000;
    private const int Bytes = 64 << 20;
    private readonly ArrivalSignal _arrived = new();
    private TcpTransport _sender = null!;
    private TcpTransport _receiver = null!;
    private byte[] _frame = [];

    /// <summary>Bytes per frame.</summary>
    [Params(100, 64 << 10)]
    public int FrameSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _frame = new byte[FrameSize];
        new Random(42).NextBytes(_frame);
        _receiver = Start(2, _arrived.Set);
        _sender = Start(1, null);
        _receiver.SetPeer(1, $"127.0.0.1:{_sender.ListenEndPoint.Port}");
        _sender.SetPeer(2, $"127.0.0.1:{_receiver.ListenEndPoint.Port}");
        while (_sender.LinkTo(2)?.IsConnected != true)
        {
            Thread.Sleep(10);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sender.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _receiver.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Streams a batch of frames from node 1 to node 2 and waits until node 2 has taken all of them.</summary>
    [Benchmark(OperationsPerInvoke = FramesPerOperation)]
    public Task Stream() => StreamBatch();

    private async Task StreamBatch()
    {
        var sent = 0;
        var received = 0;
        while (received < FramesPerOperation)
        {
            while (sent < FramesPerOperation && _sender.Send(2, _frame))
            {
                sent++;
            }

            while (_receiver.TryReceive(out _))
            {
                received++;
            }

            if (received < FramesPerOperation)
            {
                // Woken by the next arrival; the timeout only matters when the sender's queue was full.
                await _arrived.WaitAsync(TimeSpan.FromMilliseconds(1));
            }
        }
    }

    private static TcpTransport Start(ulong id, Action? arrived) =>
        TcpTransport.StartAsync(new TcpTransportOptions
        {
            LocalNodeId = id,
            ClusterId = "bench",
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            OutboundQueueLimit = Bytes,
            BulkBytesPerSecond = null,
            FrameArrived = arrived,
        }).GetAwaiter().GetResult();

    /// <summary>A cheap auto-reset wake-up (set from the I/O thread, awaited by the receive loop).</summary>
    private sealed class ArrivalSignal
    {
        private readonly SemaphoreSlim _semaphore = new(0, 1);
        private int _pending;

        public void Set()
        {
            if (Interlocked.Exchange(ref _pending, 1) == 0)
            {
                _semaphore.Release();
            }
        }

        public async Task WaitAsync(TimeSpan timeout)
        {
            if (await _semaphore.WaitAsync(timeout))
            {
                Volatile.Write(ref _pending, 0);
            }
        }
    }

    private sealed class ThroughputColumns : ManualConfig
    {
        public ThroughputColumns() => AddColumn(StatisticColumn.OperationsPerSecond);
    }
}
