namespace Strata.Storage.Tests;

public sealed class InMemoryKvEngineContractTests : KvEngineContract
{
    protected override IKvEngine CreateEngine() => new InMemoryKvEngine();
}

public sealed class RocksDbEngineContractTests : KvEngineContract
{
    private readonly TempDirectory _directory = new();
    private int _engines;

    /// <summary>Small caches and buffers: tests open many engines.</summary>
    internal static readonly RocksDbEngineOptions SmallOptions = new()
    {
        BlockCacheBytes = 8 << 20,
        WriteBufferBytes = 4 << 20,
        BackgroundThreads = 2,
    };

    protected override IKvEngine CreateEngine() =>
        RocksDbEngine.Open(_directory.Sub($"db{Interlocked.Increment(ref _engines)}"), SmallOptions);

    public override void Dispose()
    {
        base.Dispose();
        _directory.Dispose();
    }
}
