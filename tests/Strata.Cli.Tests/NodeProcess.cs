using System.Diagnostics;
using Strata.Cli.Cluster;
using Strata.Client;

namespace Strata.Cli.Tests;

/// <summary>
/// One <c>strata start</c> process over a data directory on fixed loopback ports (so it can be killed and restarted on
/// the same addresses), with its standard error captured. For the durability tests that kill, crash and damage a node.
/// </summary>
internal sealed class NodeProcess : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly StringWriter _errors = new();

    private NodeProcess(Process process, int port)
    {
        Process = process;
        Port = port;
    }

    public Process Process { get; }

    public int Port { get; }

    /// <summary>Everything the node wrote to standard error so far.</summary>
    public string Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    /// <summary>
    /// Starts the node and waits until it serves, or exits (<see cref="Ready"/> false: read <see cref="Errors"/> and the
    /// exit code). <paramref name="environment"/> entries are set (a null value removes the variable), then
    /// <paramref name="configure"/> may change the start further (e.g. run it under the power-loss library).
    /// </summary>
    public static async Task<NodeProcess> StartAsync(string data, int port, int raftPort, IReadOnlyDictionary<string, string?>? environment = null,
        Action<ProcessStartInfo>? configure = null)
    {
        ProcessStartInfo info = NodeProgram.OfThisCli().StartInfo(
            ["start", "--data", data, "--port", $"{port}", "--raft-port", $"{raftPort}"]);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = true;
        info.Environment.Remove(Replication.CrashPoints.Variable);
        foreach ((string name, string? value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        configure?.Invoke(info);
        var node = new NodeProcess(Process.Start(info)!, port);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        node.Process.OutputDataReceived += (_, line) =>
        {
            if (line.Data?.Contains("Press Ctrl+C to stop.", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        node.Process.ErrorDataReceived += (_, line) =>
        {
            lock (node._errors)
            {
                node._errors.WriteLine(line.Data);
            }
        };
        node.Process.BeginOutputReadLine();
        node.Process.BeginErrorReadLine();
        Task exited = node.Process.WaitForExitAsync(); // completes after all of standard error was read
        Task first = await Task.WhenAny(ready.Task, exited, Task.Delay(Patience));

        node.Ready = first == ready.Task;
        return node;
    }

    /// <summary>The node reached "Press Ctrl+C to stop." (it serves).</summary>
    public bool Ready { get; private set; }

    /// <summary>A client without retries: a write the node died under is not retried against the dead process.</summary>
    public StrataClient Connect() => StrataClient.Connect(new Uri($"http://127.0.0.1:{Port}"), new StrataClientOptions
    {
        DefaultDeadline = TimeSpan.FromSeconds(5),
        Retry = RetryPolicy.None,
    });

    /// <summary>
    /// Waits up to <paramref name="patience"/> for the process to exit by itself; true when it did, and then all of its
    /// standard error is in <see cref="Errors"/> (<c>Process.WaitForExit(TimeSpan)</c> may return before the last lines
    /// were read).
    /// </summary>
    public async Task<bool> WaitForExitAsync(TimeSpan patience)
    {
        using var timeout = new CancellationTokenSource(patience);
        try
        {
            await Process.WaitForExitAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Kills the process (SIGKILL) and waits for it.</summary>
    public async Task KillAsync()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
        }

        await Process.WaitForExitAsync();
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit(TimeSpan.FromSeconds(30));
        }

        Process.Dispose();
    }
}
