namespace Strata.Cli.Tests;

public sealed class LincheckTests
{
    private static string History(string relative) => Path.Combine(SharedTestData.Linearizability, relative);

    [Fact]
    public async Task A_linearizable_history_exits_0_with_its_verdict()
    {
        string file = History("jepsen-etcd/etcd_002.log");

        CliResult result = await Cli.RunAsync("lincheck", "--model", "cas-register", "--format", "jepsen", file);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"{file}: linearizable", result.Out.Trim());
    }

    [Fact]
    public async Task An_illegal_history_exits_1_with_its_verdict()
    {
        string file = History("jepsen-etcd/etcd_001.log");

        CliResult result = await Cli.RunAsync("lincheck", "--model", "cas-register", "--format", "jepsen", file);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"{file}: illegal", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_value_histories_use_the_kv_model()
    {
        string ok = History("kv/c01-ok.txt"), bad = History("kv/c01-bad.txt");

        CliResult result = await Cli.RunAsync("lincheck", "--model", "kv", "--format", "edn", ok, bad);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{ok}: linearizable", result.Out, StringComparison.Ordinal);
        Assert.Contains($"{bad}: illegal", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_checkers_usage_errors_exit_2_with_the_strata_prefix()
    {
        CliResult result = await Cli.RunAsync("lincheck", "--model", "queue", "--format", "jepsen", History("jepsen-etcd/etcd_002.log"));

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("strata: lincheck: unknown model 'queue'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_history_file_exits_2()
    {
        CliResult result = await Cli.RunAsync("lincheck", "--model", "kv", "--format", "edn", History("kv/absent.txt"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no such file", result.Error, StringComparison.Ordinal);
    }
}
