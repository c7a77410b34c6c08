namespace Strata.Linearizability.Tests;

public sealed class LincheckCommandTests : IDisposable
{
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(1);
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("strata-lincheck-");
    private readonly StringWriter _output = new();
    private readonly StringWriter _error = new();

    public void Dispose()
    {
        _directory.Delete(recursive: true);
        _output.Dispose();
        _error.Dispose();
    }

    private string File(string name, string text)
    {
        var path = Path.Combine(_directory.FullName, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    private string Linearizable => File("ok.log", """
        INFO  jepsen.util - 0	:invoke	:write	1
        INFO  jepsen.util - 0	:ok	:write	1
        INFO  jepsen.util - 1	:invoke	:read	nil
        INFO  jepsen.util - 1	:ok	:read	1
        """);

    private string Illegal => File("bad.log", """
        INFO  jepsen.util - 0	:invoke	:write	1
        INFO  jepsen.util - 0	:ok	:write	1
        INFO  jepsen.util - 1	:invoke	:read	nil
        INFO  jepsen.util - 1	:ok	:read	2
        """);

    private int Run(string model, string format, params string[] files) =>
        LincheckCommand.Run(model, format, files, _output, _error, Budget);

    private string[] OutputLines => _output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    [Fact]
    public void All_linearizable_exits_zero_with_one_line_per_file()
    {
        var file = Linearizable;

        Assert.Equal(0, Run("cas-register", "jepsen", file, file));

        Assert.Equal([$"{file}: linearizable", $"{file}: linearizable"], OutputLines);
        Assert.Empty(_error.ToString());
    }

    [Fact]
    public void Any_illegal_exits_one_and_indents_the_explanation_under_its_file()
    {
        var ok = Linearizable;
        var bad = Illegal;

        Assert.Equal(1, Run("cas-register", "jepsen", bad, ok));

        var lines = OutputLines;
        Assert.Equal($"{bad}: illegal", lines[0]);
        Assert.Equal($"{ok}: linearizable", lines[^1]);
        var explanation = lines[1..^1];
        Assert.NotEmpty(explanation);
        Assert.All(explanation, line => Assert.StartsWith("  ", line, StringComparison.Ordinal));
        Assert.Contains(explanation, line => line.Contains("read -> 2 [call 3, return 4]: not legal in state 1", StringComparison.Ordinal));
    }

    [Fact]
    public void Checks_the_shared_corpus_files_with_their_published_verdicts()
    {
        var jepsen = Path.Combine(SharedTestData.LinearizabilityDirectory, "jepsen-etcd");
        var kv = Path.Combine(SharedTestData.LinearizabilityDirectory, "kv");

        Assert.Equal(1, Run("cas-register", "jepsen", Path.Combine(jepsen, "etcd_002.log"), Path.Combine(jepsen, "etcd_001.log")));
        Assert.Equal(0, Run("kv", "edn", Path.Combine(kv, "c10-ok.txt")));

        Assert.Contains($"{Path.Combine(jepsen, "etcd_002.log")}: linearizable", OutputLines);
        Assert.Contains($"{Path.Combine(jepsen, "etcd_001.log")}: illegal", OutputLines);
        Assert.Contains($"{Path.Combine(kv, "c10-ok.txt")}: linearizable", OutputLines);
    }

    [Theory]
    [InlineData("register", "jepsen", "unknown model 'register'")]
    [InlineData("kv", "json", "unknown format 'json'")]
    [InlineData("kv", "jepsen", "model 'kv' cannot read format 'jepsen'")]
    [InlineData("cas-register", "edn", "model 'cas-register' cannot read format 'edn'")]
    public void Bad_model_or_format_is_a_usage_error(string model, string format, string message)
    {
        Assert.Equal(2, Run(model, format, Linearizable));

        Assert.Contains(message, _error.ToString(), StringComparison.Ordinal);
        Assert.Empty(_output.ToString());
    }

    [Fact]
    public void No_files_is_a_usage_error()
    {
        Assert.Equal(2, Run("kv", "edn"));
        Assert.Contains("no history files", _error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_is_a_usage_error_and_nothing_is_checked()
    {
        var missing = Path.Combine(_directory.FullName, "missing.log");

        Assert.Equal(2, Run("cas-register", "jepsen", Linearizable, missing));

        Assert.Equal($"lincheck: {missing}: no such file", _error.ToString().TrimEnd());
        Assert.Empty(_output.ToString());
    }

    [Fact]
    public void Parse_error_names_file_and_line()
    {
        var broken = File("broken.txt", "{:process 0, :type :invoke, :f :get, :key \"a\", :value nil}\n{:process 0, :type :ok, :f :get :key}\n");

        Assert.Equal(2, Run("kv", "edn", broken));

        Assert.StartsWith($"lincheck: {broken}:2: ", _error.ToString(), StringComparison.Ordinal);
        Assert.Empty(_output.ToString());
    }

    [Fact]
    public void Undecided_without_illegal_exits_three()
    {
        Assert.Equal(3, LincheckCommand.Run("cas-register", "jepsen", [Linearizable], _output, _error, TimeSpan.Zero));

        Assert.StartsWith($"{Path.Combine(_directory.FullName, "ok.log")}: unknown", OutputLines[0], StringComparison.Ordinal);
    }
}
