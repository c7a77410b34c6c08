using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using Strata.Linearizability;
using Strata.Linearizability.Formats;
using Strata.Linearizability.Models;

namespace Strata.Benchmarks;

/// <summary>
/// Checker speed on the recorded etcd (Jepsen) and key-value histories in ../shared/testdata/linearizability.
/// Histories are parsed once in setup; each invocation checks a whole corpus.
/// Run: <c>STRATA_ARTIFACTS=/tmp/art-lin dotnet run -c Release --project bench/Strata.Benchmarks -- --filter '*Linearizability*' --job short</c>.
/// </summary>
[MemoryDiagnoser]
public class LinearizabilityBenchmarks
{
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(1);
    private readonly List<IReadOnlyList<Operation<CasRegisterInput, CasRegisterOutput>>> _etcd = [];
    private readonly List<IReadOnlyList<Operation<KvInput, string>>> _kv = [];
    private IReadOnlyList<Operation<CasRegisterInput, CasRegisterOutput>> _hardestEtcd = [];

    [GlobalSetup]
    public void Setup()
    {
        var root = LinearizabilityCorpus.Locate();
        foreach (var file in Directory.GetFiles(Path.Combine(root, "jepsen-etcd"), "*.log").Order(StringComparer.Ordinal))
        {
            using var reader = new StreamReader(file);
            _etcd.Add(JepsenRegisterHistory.Parse(reader));
            if (Path.GetFileName(file) == "etcd_099.log")
            {
                _hardestEtcd = _etcd[^1];
            }
        }

        foreach (var file in Directory.GetFiles(Path.Combine(root, "kv"), "*.txt").Order(StringComparer.Ordinal))
        {
            using var reader = new StreamReader(file);
            _kv.Add(EdnKvHistory.Parse(reader));
        }

        if (_etcd.Count == 0 || _kv.Count == 0 || _hardestEtcd.Count == 0)
        {
            throw new InvalidOperationException($"No histories found under {root}.");
        }
    }

    /// <summary>All etcd histories (82 files, ~80 operations each, most of them illegal); returns how many are illegal.</summary>
    [Benchmark]
    public int EtcdCorpus()
    {
        var illegal = 0;
        foreach (var history in _etcd)
        {
            illegal += LinearizabilityChecker.Check(CasRegisterModel.Instance, history, Budget).Verdict == Verdict.Illegal ? 1 : 0;
        }

        return illegal;
    }

    /// <summary>The etcd history that costs the most search (illegal, many indeterminate operations).</summary>
    [Benchmark]
    public Verdict EtcdHardest() => LinearizabilityChecker.Check(CasRegisterModel.Instance, _hardestEtcd, Budget).Verdict;

    /// <summary>The four key-value histories (1 and 10 clients, ok and bad), checked key by key.</summary>
    [Benchmark]
    public int KvCorpus()
    {
        var illegal = 0;
        foreach (var history in _kv)
        {
            illegal += LinearizabilityChecker.Check(KvModel.Instance, history, Budget).Verdict == Verdict.Illegal ? 1 : 0;
        }

        return illegal;
    }
}

/// <summary>Finds shared/testdata/linearizability beside the repository (STRATA_SHARED_DIR overrides).</summary>
internal static class LinearizabilityCorpus
{
    private const string Relative = "shared/testdata/linearizability";

    public static string Locate([CallerFilePath] string sourceFile = "")
    {
        if (Environment.GetEnvironmentVariable("STRATA_SHARED_DIR") is { Length: > 0 } shared)
        {
            return Path.Combine(shared, "testdata", "linearizability");
        }

        // BenchmarkDotNet runs a generated copy of this assembly from elsewhere, so the source path matters most.
        foreach (var start in new[] { Path.GetDirectoryName(sourceFile), Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, Relative);
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new DirectoryNotFoundException($"{Relative} not found above {sourceFile}; set STRATA_SHARED_DIR.");
    }
}
