using System.Net;
using System.Net.Sockets;

namespace Strata.Cli.Tests;

public sealed class UsageAndConnectionTests
{
    [Theory]
    [InlineData(new string[0], "Required command was not provided")]
    [InlineData(new[] { "frobnicate" }, "frobnicate")]
    [InlineData(new[] { "stat", "bucket-only" }, "Required argument missing")]
    [InlineData(new[] { "stat", "b", "--statt" }, "unrecognized option '--statt'")]
    [InlineData(new[] { "put", "b", "p", "--size", "lots" }, "lots")]
    [InlineData(new[] { "ls", "b", "--unknown-flag" }, "--unknown-flag")]
    [InlineData(new[] { "txn" }, "--file")]
    [InlineData(new[] { "lincheck", "--format", "jepsen", "x.log" }, "--model")]
    public async Task Usage_errors_exit_2_with_a_strata_message_and_a_help_hint(string[] args, string mentioned)
    {
        CliResult result = await Cli.RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        string[] lines = result.Error.TrimEnd().Split('\n');
        Assert.All(lines, line => Assert.StartsWith("strata: ", line, StringComparison.Ordinal));
        Assert.Contains(mentioned, result.Error, StringComparison.Ordinal);
        Assert.Contains("--help'", lines[^1], StringComparison.Ordinal);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task Help_lists_the_commands_and_exits_0()
    {
        CliResult result = await Cli.RunAsync("--help");

        Assert.Equal(0, result.ExitCode);
        foreach (string command in new[] { "start", "demo", "bucket", "put", "stat", "ls", "mv", "rm", "mkdir", "rmdir", "txn", "lincheck" })
        {
            Assert.Contains(command, result.Out, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_bad_address_is_a_usage_error()
    {
        CliResult result = await Cli.RunAsync("bucket", "ls", "--address", "ftp://example");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("strata: --address 'ftp://example' is not an http:// or https:// URL", result.Error.Trim());
    }

    [Fact]
    public async Task A_refused_connection_exits_3()
    {
        using var closed = new ClosedPort();
        int port = closed.Port;

        CliResult result = await Cli.RunAsync("bucket", "ls", "--address", $"127.0.0.1:{port}");

        Assert.Equal(3, result.ExitCode);
        Assert.StartsWith($"strata: cannot reach the node at http://127.0.0.1:{port} (Unavailable): ", result.Error, StringComparison.Ordinal);
        Assert.Single(result.Error.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task The_address_defaults_to_STRATA_ADDRESS()
    {
        using var closed = new ClosedPort();
        int port = closed.Port;

        CliResult result = await Cli.RunAsync(["stat", "b", "p"], "", name => name == "STRATA_ADDRESS" ? $"http://127.0.0.1:{port}" : null);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains($"127.0.0.1:{port}", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_refuses_an_out_of_range_port()
    {
        CliResult result = await Cli.RunAsync("start", "--in-memory", "--port", "70000");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("strata: --port 70000 is outside 0..65535", result.Error.Trim());
    }

    [Fact]
    public async Task Start_on_a_taken_port_exits_1()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;

        CliResult result = await Cli.RunAsync("start", "--in-memory", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"strata: cannot start the node on 127.0.0.1:{port}", result.Error, StringComparison.Ordinal);
    }

    /// <summary>
    /// A port that refuses connections for as long as the test holds it: bound (so nothing else can take it) but
    /// never listening, so a connection attempt is refused at once.
    /// </summary>
    private sealed class ClosedPort : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        public ClosedPort() => _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        public int Port => ((IPEndPoint)_socket.LocalEndPoint!).Port;

        public void Dispose() => _socket.Dispose();
    }
}
