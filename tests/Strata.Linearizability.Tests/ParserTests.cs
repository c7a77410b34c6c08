using Strata.Linearizability.Formats;
using Strata.Linearizability.Models;

namespace Strata.Linearizability.Tests;

public sealed class JepsenRegisterHistoryTests
{
    private static IReadOnlyList<Operation<CasRegisterInput, CasRegisterOutput>> Parse(string text) =>
        JepsenRegisterHistory.Parse(new StringReader(text));

    [Fact]
    public void Reads_every_event_kind_with_tabs_or_spaces()
    {
        var history = Parse("""
            INFO  jepsen.util - 0	:invoke	:read	nil
            INFO  jepsen.util - 1   :invoke :write  3
            INFO  jepsen.util - 0	:ok	:read	nil
            INFO  jepsen.util - 2	:invoke	:cas	[3 4]
            INFO  jepsen.util - 1   :ok     :write  3
            INFO  jepsen.util - 2	:fail	:cas	[3 4]
            INFO  jepsen.util - 3	:invoke	:cas	[1 2]
            INFO  jepsen.util - 3	:info	:cas	:timed-out
            INFO  jepsen.util - 4	:invoke	:read	nil

            INFO  jepsen.util - 4	:fail	:read	:timed-out
            INFO  jepsen.util - 5	:invoke	:write	-7
            INFO  jepsen.util - 5	:fail	:write	-7
            INFO  jepsen.util - 6	:invoke	:cas	[0 1]
            INFO  jepsen.util - 6	:ok	:cas	[0 1]
            INFO  jepsen.util - 7	:invoke	:write	9
            """);

        Assert.Equal(7, history.Count);
        Assert.Equal(new Operation<CasRegisterInput, CasRegisterOutput>(0, CasRegisterInput.Read(), CasRegisterOutput.ReadResult(null), 1, 3), history[0]);
        Assert.Equal(new Operation<CasRegisterInput, CasRegisterOutput>(1, CasRegisterInput.Write(3), CasRegisterOutput.WriteDone, 2, 5), history[1]);
        Assert.Equal(new Operation<CasRegisterInput, CasRegisterOutput>(2, CasRegisterInput.Cas(3, 4), CasRegisterOutput.CasResult(false), 4, 6), history[2]);
        Assert.Equal(Operation<CasRegisterInput, CasRegisterOutput>.Indeterminate(3, CasRegisterInput.Cas(1, 2), 7), history[3]);
        Assert.Equal(Operation<CasRegisterInput, CasRegisterOutput>.Indeterminate(4, CasRegisterInput.Read(), 9), history[4]);
        Assert.Equal(new Operation<CasRegisterInput, CasRegisterOutput>(6, CasRegisterInput.Cas(0, 1), CasRegisterOutput.CasResult(true), 14, 15), history[5]);
        Assert.Equal(Operation<CasRegisterInput, CasRegisterOutput>.Indeterminate(7, CasRegisterInput.Write(9), 16), history[6]);
    }

    [Theory]
    [InlineData("INFO jepsen.util - 0 :invoke :read nil\nnonsense here\n", 2, "expected 'INFO jepsen.util")]
    [InlineData("INFO jepsen.util - x :invoke :read nil\n", 1, "process 'x' is not an integer")]
    [InlineData("INFO jepsen.util - 0 :ok :read 1\n", 1, "never invoked")]
    [InlineData("INFO jepsen.util - 0 :invoke :read nil\nINFO jepsen.util - 0 :invoke :read nil\n", 2, "invokes again")]
    [InlineData("INFO jepsen.util - 0 :invoke :write 1\nINFO jepsen.util - 0 :ok :write 2\n", 2, "write completes with 2")]
    [InlineData("INFO jepsen.util - 0 :invoke :cas [1 2]\nINFO jepsen.util - 0 :ok :read 2\n", 2, "completes :read but invoked :cas")]
    [InlineData("INFO jepsen.util - 0 :invoke :cas 1\n", 1, "not a pair")]
    [InlineData("INFO jepsen.util - 0 :invoke :delete 1\n", 1, "unknown function ':delete'")]
    [InlineData("INFO jepsen.util - 0 :invoke :read nil\nINFO jepsen.util - 0 :maybe :read 1\n", 2, "unknown event type ':maybe'")]
    public void Malformed_logs_name_the_line(string text, int line, string message)
    {
        var error = Assert.Throws<HistoryFormatException>(() => Parse(text));

        Assert.Equal(line, error.LineNumber);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.StartsWith($"line {line}: ", error.Message, StringComparison.Ordinal);
    }
}

public sealed class EdnKvHistoryTests
{
    private static IReadOnlyList<Operation<KvInput, string>> Parse(string text) => EdnKvHistory.Parse(new StringReader(text));

    [Fact]
    public void Reads_invocations_completions_failures_and_indeterminate_operations()
    {
        var history = Parse("""
            {:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}
            {:process 1, :type :invoke, :f :get, :key "0", :value nil}
            {:process 0, :type :ok, :f :append, :key "0", :value "x 0 0 y"}
            {:process 1, :type :ok, :f :get, :key "0", :value "x 0 0 y"}

            {:process 2 :type :invoke :f :put :key 7 :value "say \"hi\"\\"}
            {:process 2, :type :info, :f :put, :key 7, :value "say \"hi\"\\"}
            {:process 3, :type :invoke, :f :put, :key "z", :value "v"}
            {:process 3, :type :fail, :f :put, :key "z", :value "v"}
            {:process 4, :type :invoke, :f :get, :key "0", :value nil}
            {:process 4, :type :ok, :f :get, :key "0", :value nil}
            {:process 5, :type :invoke, :f :append, :key "0", :value "w"}
            """);

        Assert.Equal(5, history.Count);
        Assert.Equal(new Operation<KvInput, string>(0, KvInput.Append("0", "x 0 0 y"), null, 1, 3), history[0]);
        Assert.Equal(new Operation<KvInput, string>(1, KvInput.Get("0"), "x 0 0 y", 2, 4), history[1]);
        Assert.Equal(Operation<KvInput, string>.Indeterminate(2, KvInput.Put("7", "say \"hi\"\\"), 6), history[2]);
        Assert.Equal(new Operation<KvInput, string>(4, KvInput.Get("0"), "", 10, 11), history[3]);
        Assert.Equal(Operation<KvInput, string>.Indeterminate(5, KvInput.Append("0", "w"), 12), history[4]);
    }

    [Theory]
    [InlineData("{:process 0, :type :invoke, :f :get, :key \"a\", :value nil", 1, "not closed")]
    [InlineData("{:process 0, :type :invoke, :f :get, :key \"a}", 1, "string is not closed")]
    [InlineData("[:process 0]", 1, "expected '{'")]
    [InlineData("{:type :invoke, :f :get, :key \"a\"}", 1, "missing :process")]
    [InlineData("{:process 0, :type \"invoke\", :f :get, :key \"a\"}", 1, ":type must be a keyword")]
    [InlineData("{:process 0, :type :invoke, :f :cas, :key \"a\"}", 1, "unknown function ':cas'")]
    [InlineData("{:process 0, :type :invoke, :f :put, :key \"a\", :value 3}", 1, ":put needs a string :value")]
    [InlineData("{:process 0, :type :invoke, :f :get, :key \"a\"}\n{:process 0, :type :ok, :f :get, :key \"b\", :value \"\"}", 2, "invoked something else on line 1")]
    [InlineData("{:process 0, :type :ok, :f :get, :key \"a\", :value \"\"}", 1, "never invoked")]
    [InlineData("{:process 0, :process 1}", 1, "appears twice")]
    [InlineData("{:process 0, :type :invoke, :f :get, :key \"a\"} trailing", 1, "unexpected text after the map")]
    public void Malformed_lines_name_the_line(string text, int line, string message)
    {
        var error = Assert.Throws<HistoryFormatException>(() => Parse(text));

        Assert.Equal(line, error.LineNumber);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
