using System.Text;

namespace Strata.Cli.Tests;

/// <summary>The outcome of one in-process <c>strata</c> invocation.</summary>
internal sealed record CliResult(int ExitCode, string Out, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Out}\n--- stderr ---\n{Error}";

    /// <summary>Asserts that every one of <paramref name="sections"/> appears in the output, in this order.</summary>
    public void AssertSectionsInOrder(params string[] sections)
    {
        int previous = -1;
        foreach (string section in sections)
        {
            int at = Out.IndexOf(section, StringComparison.Ordinal);
            Assert.True(at > previous, $"section '{section}' missing or out of order:\n{Out}");
            previous = at;
        }
    }
}

/// <summary>Runs the CLI entry point in-process over string writers.</summary>
internal static class Cli
{
    public static async Task<CliResult> RunAsync(params string[] args)
    {
        var stdout = new SignallingWriter();
        var stderr = new SignallingWriter();
        int exit = await StrataCli.RunAsync(args, stdout, stderr);
        return new CliResult(exit, stdout.Text, stderr.Text);
    }

    public static async Task<CliResult> RunAsync(string[] args, string input, Func<string, string?>? environment = null)
    {
        var stdout = new SignallingWriter();
        var stderr = new SignallingWriter();
        int exit = await StrataCli.RunAsync(args, CliEnvironment.ForWriters(stdout, stderr, new StringReader(input), environment), CancellationToken.None);
        return new CliResult(exit, stdout.Text, stderr.Text);
    }

    /// <summary>
    /// Runs a command again (every 200 ms) until <paramref name="done"/> holds for its result or
    /// <paramref name="patience"/> passed; returns the last result, so the caller's assertions say what went wrong.
    /// </summary>
    public static async Task<CliResult> RunUntilAsync(Func<CliResult, bool> done, TimeSpan patience, params string[] args)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            CliResult result = await RunAsync(args);
            if (done(result) || clock.Elapsed > patience)
            {
                return result;
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Runs a command that is still running when it returns (start, demo --keep-running).</summary>
    public static (Task<int> Exit, SignallingWriter Out, SignallingWriter Error) Start(CancellationToken cancellationToken, params string[] args)
    {
        var stdout = new SignallingWriter();
        var stderr = new SignallingWriter();
        Task<int> exit = Task.Run(() => StrataCli.RunAsync(args, stdout, stderr, cancellationToken), CancellationToken.None);
        return (exit, stdout, stderr);
    }
}

/// <summary>A string writer that other threads can read and wait on.</summary>
internal sealed class SignallingWriter : TextWriter
{
    private readonly Lock _gate = new();
    private readonly StringBuilder _text = new();
    private readonly List<(string Needle, TaskCompletionSource Seen)> _waiters = [];

    public override Encoding Encoding => Encoding.UTF8;

    public string Text
    {
        get
        {
            lock (_gate)
            {
                return _text.ToString();
            }
        }
    }

    public override void Write(char value) => Append(value.ToString());

    public override void Write(string? value) => Append(value ?? "");

    public override void Write(char[] buffer, int index, int count) => Append(new string(buffer, index, count));

    /// <summary>Completes when the text contains <paramref name="needle"/>; fails (not hangs) if <paramref name="within"/> passes or <paramref name="abandoned"/> ends first.</summary>
    public async Task WaitForAsync(string needle, Task abandoned, TimeSpan within)
    {
        TaskCompletionSource seen = new(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_text.ToString().Contains(needle, StringComparison.Ordinal))
            {
                return;
            }

            _waiters.Add((needle, seen));
        }

        Task first = await Task.WhenAny(seen.Task, abandoned, Task.Delay(within));
        if (first != seen.Task)
        {
            throw new Xunit.Sdk.XunitException($"'{needle}' never appeared (command ended: {abandoned.IsCompleted}); output so far:\n{Text}");
        }
    }

    private void Append(string value)
    {
        lock (_gate)
        {
            _text.Append(value);
            string text = _text.ToString();
            foreach ((string needle, TaskCompletionSource seen) in _waiters.Where(w => text.Contains(w.Needle, StringComparison.Ordinal)).ToList())
            {
                seen.TrySetResult();
                _waiters.Remove((needle, seen));
            }
        }
    }
}
