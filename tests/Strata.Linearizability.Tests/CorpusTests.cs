using System.Diagnostics;
using Strata.Linearizability.Formats;
using Strata.Linearizability.Models;
using Xunit.Abstractions;

namespace Strata.Linearizability.Tests;

/// <summary>The checker must reproduce every published verdict on the recorded etcd histories.</summary>
public sealed class CorpusTests(ITestOutputHelper output)
{
    // Generous: a wrong answer is what fails the test; a timeout would show up as "unknown" and fail too.
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(1);

    private static string JepsenDirectory => Path.Combine(SharedTestData.LinearizabilityDirectory, "jepsen-etcd");

    private static string KvDirectory => Path.Combine(SharedTestData.LinearizabilityDirectory, "kv");

    private static Dictionary<string, string> ReadVerdicts()
    {
        var verdicts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(Path.Combine(JepsenDirectory, "VERDICTS")))
        {
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2)
            {
                verdicts.Add(parts[0], parts[1]);
            }
        }

        return verdicts;
    }

    [Fact]
    public void Verdicts_list_exactly_the_logs_present()
    {
        var verdicts = ReadVerdicts();
        var logs = Directory.GetFiles(JepsenDirectory, "*.log").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();

        Assert.True(logs.Count >= 80, $"expected the etcd corpus (80+ logs), found {logs.Count}");
        Assert.Equal(verdicts.Keys.Order(StringComparer.Ordinal), logs);
        Assert.All(verdicts.Values, v => Assert.Contains(v, new[] { "linearizable", "illegal" }));
    }

    [Fact]
    public void Every_etcd_history_gets_its_published_verdict()
    {
        var verdicts = ReadVerdicts();
        var mismatches = new List<string>();
        var total = Stopwatch.StartNew();
        foreach (var (file, expected) in verdicts.OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            using var reader = new StreamReader(Path.Combine(JepsenDirectory, file));
            var history = JepsenRegisterHistory.Parse(reader);
            var watch = Stopwatch.StartNew();
            var result = LinearizabilityChecker.Check(CasRegisterModel.Instance, history, Budget);
            var actual = result.Verdict switch
            {
                Verdict.Ok => "linearizable",
                Verdict.Illegal => "illegal",
                _ => "unknown",
            };
            output.WriteLine($"{file}: {actual} ({history.Count} operations, {watch.Elapsed.TotalMilliseconds:F1} ms)");
            if (actual != expected)
            {
                mismatches.Add($"{file}: expected {expected}, got {actual}");
            }

            if (result.Verdict == Verdict.Illegal)
            {
                Assert.False(string.IsNullOrWhiteSpace(result.Explanation));
                Assert.NotEmpty(result.Partitions[0].Unplaced);
                LinearizationAssert.IsValidPrefix(CasRegisterModel.Instance, history, result.Partitions[0]);
            }
            else if (result.Verdict == Verdict.Ok)
            {
                LinearizationAssert.IsValid(CasRegisterModel.Instance, history, result);
            }
        }

        output.WriteLine($"all {verdicts.Count} histories: {total.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Empty(mismatches);
    }

    [Theory]
    [InlineData("c01-ok.txt", Verdict.Ok)]
    [InlineData("c01-bad.txt", Verdict.Illegal)]
    [InlineData("c10-ok.txt", Verdict.Ok)]
    [InlineData("c10-bad.txt", Verdict.Illegal)]
    public void Kv_history_gets_its_verdict(string file, Verdict expected)
    {
        using var reader = new StreamReader(Path.Combine(KvDirectory, file));
        var history = EdnKvHistory.Parse(reader);

        var result = LinearizabilityChecker.Check(KvModel.Instance, history, Budget);

        output.WriteLine(result.Explanation ?? "linearizable");
        Assert.Equal(expected, result.Verdict);
        Assert.True(result.Partitions.Count > 1, "the kv model checks one key at a time");
    }

    [Fact]
    public void Every_kv_file_follows_the_ok_bad_naming()
    {
        var files = Directory.GetFiles(KvDirectory, "*.txt");
        Assert.NotEmpty(files);
        foreach (var path in files)
        {
            using var reader = new StreamReader(path);
            var result = LinearizabilityChecker.Check(KvModel.Instance, EdnKvHistory.Parse(reader), Budget);
            var expected = Path.GetFileName(path).Contains("-ok", StringComparison.Ordinal) ? Verdict.Ok : Verdict.Illegal;
            Assert.True(expected == result.Verdict, $"{Path.GetFileName(path)}: expected {expected}, got {result.Verdict}");
        }
    }
}
