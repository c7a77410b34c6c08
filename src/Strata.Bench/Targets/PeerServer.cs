using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Strata.Bench.Targets;

/// <summary>
/// A peer's server process that the bench started on loopback: its output goes to a log file in the peer's temporary
/// directory, and <see cref="StopAsync"/> ends it (gracefully first: SIGTERM or the peer's own shutdown signal, then
/// SIGKILL of the whole process tree) and waits until it is gone.
/// </summary>
/// <remarks>Not thread-safe: the owning peer starts and stops it from one flow.</remarks>
public sealed class PeerServer
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _gate = new();

    private PeerServer(Process process, StreamWriter log, string logPath)
    {
        _process = process;
        _log = log;
        LogPath = logPath;
    }

    /// <summary>The server's process id (the server itself, not a wrapper: identity switches use <c>setpriv</c>, which execs).</summary>
    public int ProcessId => _process.Id;

    /// <summary>Where the server's standard output and error go.</summary>
    public string LogPath { get; }

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Starts <paramref name="executable"/> with <paramref name="arguments"/>, its output appended to <paramref name="logPath"/>.</summary>
    public static PeerServer Start(string executable, IEnumerable<string> arguments, string logPath, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetDirectoryName(logPath)!,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var log = new StreamWriter(logPath, append: true, Encoding.UTF8) { AutoFlush = true };
        var process = new Process { StartInfo = start };
        var server = new PeerServer(process, log, logPath);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        try
        {
            process.Start();
        }
        catch (Exception e)
        {
            log.Dispose();
            process.Dispose();
            throw new PeerUnavailableException($"could not start {executable}: {e.Message}", e);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>The last <paramref name="lines"/> lines of the log, for error messages.</summary>
    public string LogTail(int lines = 15)
    {
        lock (_gate)
        {
            _log.Flush();
        }

        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            string[] all = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return string.Join(Environment.NewLine, all.TakeLast(lines));
        }
        catch (IOException)
        {
            return "(log unreadable)";
        }
    }

    /// <summary>
    /// Sends <paramref name="signal"/> (SIGTERM by default), waits up to <paramref name="grace"/> for the process to exit,
    /// then kills its whole tree; returns when it is gone.
    /// </summary>
    public async Task StopAsync(int signal = Signals.Terminate, TimeSpan? grace = null)
    {
        if (!_process.HasExited)
        {
            Signals.Send(_process.Id, signal);
            using var timeout = new CancellationTokenSource(grace ?? TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        else
        {
            // Drain the output readers before the log closes.
            await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        lock (_gate)
        {
            _log.Dispose();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // Output that arrives after the stop is dropped.
            }
        }
    }

    /// <summary>The first of <paramref name="candidates"/> that exists as a file, or the name found on PATH; null if none.</summary>
    public static string? FindExecutable(string name, params string[] candidates)
    {
        foreach (string candidate in candidates)
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    /// <summary>Runs a short command to completion; throws <see cref="PeerUnavailableException"/> with its output if it fails.</summary>
    public static async Task RunToCompletionAsync(string executable, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start) ?? throw new PeerUnavailableException($"could not start {executable}");
        Task<string> output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            string said = (await error.ConfigureAwait(false)).Trim() + " " + (await output.ConfigureAwait(false)).Trim();
            throw new PeerUnavailableException(string.Create(CultureInfo.InvariantCulture,
                $"{executable} {string.Join(' ', start.ArgumentList)} exited with {process.ExitCode}: {said}"));
        }
    }

    /// <summary>
    /// Calls <paramref name="probe"/> (bounded by a 2-second timeout each) until it succeeds; throws
    /// <see cref="PeerUnavailableException"/> with the log's tail if a server exits or <paramref name="timeout"/> passes.
    /// Any exception of the probe means "not yet".
    /// </summary>
    public static async Task WaitUntilServingAsync(
        string peer, IReadOnlyList<PeerServer> servers, TimeSpan timeout, Func<CancellationToken, Task> probe, CancellationToken cancellationToken)
    {
        long started = TimeProvider.System.GetTimestamp();
        string last = "no answer yet";
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (servers.FirstOrDefault(s => s.HasExited) is { } exited)
            {
                throw new PeerUnavailableException($"{peer} exited while starting; its log ({exited.LogPath}) ends with:{Environment.NewLine}{exited.LogTail()}");
            }

            if (TimeProvider.System.GetElapsedTime(started) > timeout)
            {
                throw new PeerUnavailableException(
                    $"{peer} did not serve within {timeout.TotalSeconds:0} s ({last}); its log ({servers[0].LogPath}) ends with:{Environment.NewLine}{servers[0].LogTail()}");
            }

            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(TimeSpan.FromSeconds(2));
            try
            {
                await probe(attempt.Token).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                last = e.GetType().Name + ": " + e.Message;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes a peer's temporary directory; one that cannot be deleted is left behind (not worth failing the run for).</summary>
    public static void DeleteDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A temporary directory left behind is not worth failing the run for.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Whether process <paramref name="processId"/> still exists (a zombie counts as gone).</summary>
    public static bool IsAlive(int processId)
    {
        string status = $"/proc/{processId}/stat";
        if (!File.Exists(status))
        {
            return false;
        }

        try
        {
            string text = File.ReadAllText(status);
            int close = text.LastIndexOf(')');
            return close < 0 || close + 2 >= text.Length || text[close + 2] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>POSIX signals through libc's <c>kill(2)</c> (Linux numbering).</summary>
    public static class Signals
    {
        /// <summary>SIGINT: PostgreSQL's fast shutdown.</summary>
        public const int Interrupt = 2;

        /// <summary>SIGTERM: etcd's and Redis's orderly shutdown.</summary>
        public const int Terminate = 15;

        /// <summary>Sends <paramref name="signal"/>; false when the process does not exist.</summary>
        public static bool Send(int processId, int signal) => Kill(processId, signal) == 0;

        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        private static extern int Kill(int processId, int signal);
    }
}

/// <summary>A peer cannot run here: its server is not installed, or did not start (the message says which and how to fix it).</summary>
public sealed class PeerUnavailableException : Exception
{
    /// <summary>An exception with <paramref name="message"/>.</summary>
    public PeerUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>An exception with <paramref name="message"/> caused by <paramref name="inner"/>.</summary>
    public PeerUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
