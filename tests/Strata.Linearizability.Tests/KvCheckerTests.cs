using Strata.Linearizability.Models;

namespace Strata.Linearizability.Tests;

public sealed class KvCheckerTests
{
    private static Operation<KvInput, string> Get(int client, string key, string value, long call, long ret) =>
        new(client, KvInput.Get(key), value, call, ret);

    private static Operation<KvInput, string> Put(int client, string key, string value, long call, long ret) =>
        new(client, KvInput.Put(key, value), null, call, ret);

    private static Operation<KvInput, string> Append(int client, string key, string value, long call, long ret) =>
        new(client, KvInput.Append(key, value), null, call, ret);

    private static CheckResult Check(params Operation<KvInput, string>[] history) =>
        LinearizabilityChecker.Check(KvModel.Instance, history, Timeout.InfiniteTimeSpan);

    [Fact]
    public void Keys_start_empty_and_appends_concatenate()
    {
        Operation<KvInput, string>[] history =
        [
            Get(0, "a", "", 0, 1),
            Append(0, "a", "x", 2, 3),
            Append(1, "a", "y", 4, 5),
            Get(2, "a", "xy", 6, 7),
            Put(0, "a", "z", 8, 9),
            Append(1, "a", "w", 10, 11),
            Get(2, "a", "zw", 12, 13),
        ];

        LinearizationAssert.IsValid(KvModel.Instance, history, Check(history));
    }

    [Fact]
    public void Concurrent_appends_may_land_in_either_order()
    {
        Operation<KvInput, string>[] history =
        [
            Append(0, "a", "x", 0, 10),
            Append(1, "a", "y", 0, 10),
            Get(2, "a", "yx", 11, 12),
        ];

        var result = Check(history);

        LinearizationAssert.IsValid(KvModel.Instance, history, result);
        Assert.Equal([1, 0, 2], result.Partitions.Single().Linearization);
    }

    [Fact]
    public void Each_key_is_a_partition_and_only_the_bad_key_is_illegal()
    {
        var result = Check(
            Put(0, "a", "1", 0, 1),
            Put(0, "b", "1", 2, 3),
            Get(1, "a", "1", 4, 5),
            Get(1, "b", "", 6, 7));

        Assert.Equal(Verdict.Illegal, result.Verdict);
        Assert.Equal(["key \"a\"", "key \"b\""], result.Partitions.Select(p => p.Name));
        Assert.Equal(Verdict.Ok, result.Partitions[0].Verdict);
        Assert.Equal(Verdict.Illegal, result.Partitions[1].Verdict);
        Assert.Contains("key \"b\": not linearizable", result.Explanation, StringComparison.Ordinal);
        Assert.DoesNotContain("key \"a\"", result.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Lost_append_is_illegal()
    {
        var result = Check(
            Append(0, "k", "x", 0, 1),
            Append(1, "k", "y", 2, 3),
            Get(2, "k", "y", 4, 5));

        Assert.Equal(Verdict.Illegal, result.Verdict);
        Assert.Contains("get \"k\" -> \"y\" [call 4, return 5]: not legal in state \"xy\"", result.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Indeterminate_append_may_show_up_later_or_never()
    {
        Operation<KvInput, string>[] history =
        [
            Append(0, "k", "x", 0, 1),
            Operation<KvInput, string>.Indeterminate(1, KvInput.Append("k", "y"), 2),
            Get(2, "k", "x", 3, 4),
            Get(2, "k", "xy", 5, 6),
        ];

        LinearizationAssert.IsValid(KvModel.Instance, history, Check(history));
        Assert.Equal(Verdict.Ok, Check(history[0], history[1], history[2]).Verdict);
        Assert.Equal(Verdict.Illegal, Check(history[0], history[1], history[3], Get(2, "k", "x", 7, 8)).Verdict);
    }
}
