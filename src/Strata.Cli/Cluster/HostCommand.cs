using System.Diagnostics;

namespace Strata.Cli.Cluster;

/// <summary>What a <see cref="HostCommand"/> printed and how it ended.</summary>
/// <param name="ExitCode">The process's exit code.</param>
/// <param name="Output">Its standard output.</param>
/// <param name="Error">Its standard error.</param>
internal sealed record HostCommandResult(int ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// Runs one administration command of the host (<c>ip</c>, <c>iptables-restore</c>) to its end and captures what it
/// printed: the network namespaces of <see cref="NamespaceNetwork"/> are built and cut with these.
/// </summary>
/// <remarks>Stateless and thread-safe. Commands are run directly (no shell), so arguments need no quoting.</remarks>
internal static class HostCommand
{
    // A liveness bound: ip and iptables answer in milliseconds; one that hangs fails the run instead of stalling it.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs <paramref name="file"/> with <paramref name="arguments"/> (and <paramref name="input"/> on its standard
    /// input, if any) and returns its result, whatever its exit code. Throws <see cref="CommandFailedException"/>
    /// only when it cannot be started or does not end within 30 s.
    /// </summary>
    public static async Task<HostCommandResult> TryRunAsync(string file, IReadOnlyList<string> arguments, string? input = null, CancellationToken cancellationToken = default)
    {
        var info = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new CommandFailedException($"cannot run {Describe(file, arguments)}: {e.Message}");
        }

        Task<string> output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        Task<string> error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input).ConfigureAwait(false);
            process.StandardInput.Close();
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            throw new CommandFailedException($"{Describe(file, arguments)} did not finish within {Timeout.TotalSeconds:0} s");
        }

        return new HostCommandResult(process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }

    /// <summary>Runs the command like <see cref="TryRunAsync"/>; a non-zero exit is a <see cref="CommandFailedException"/> quoting its error output.</summary>
    public static async Task<string> RunAsync(string file, IReadOnlyList<string> arguments, string? input = null, CancellationToken cancellationToken = default)
    {
        HostCommandResult result = await TryRunAsync(file, arguments, input, cancellationToken).ConfigureAwait(false);
        return result.Succeeded
            ? result.Output
            : throw new CommandFailedException($"{Describe(file, arguments)} failed with exit code {result.ExitCode}: {result.Error.Trim()}");
    }

    /// <summary>The command line as a user would type it (for messages).</summary>
    public static string Describe(string file, IReadOnlyList<string> arguments) => string.Join(' ', new[] { Path.GetFileName(file) }.Concat(arguments));
}
