using System.Runtime.InteropServices;

namespace Strata.Cli.Chaos;

/// <summary>
/// SIGSTOP and SIGCONT for the pause fault, through libc's <c>kill(2)</c>. A stopped process keeps its sockets
/// open (the kernel still accepts connections and buffers bytes) but runs nothing: no ticks, no heartbeats, no
/// answers, exactly a process stalled by a long GC pause, a VM migration or a swap storm.
/// </summary>
/// <remarks>Signal numbers differ between Linux and the BSDs (macOS); other platforms are refused.</remarks>
internal static class ProcessSignals
{
    /// <summary>Stops (freezes) process <paramref name="processId"/>; false when it does not exist.</summary>
    public static bool Stop(int processId) => Send(processId, OperatingSystem.IsLinux() ? 19 : 17);

    /// <summary>Continues a stopped process <paramref name="processId"/>; false when it does not exist.</summary>
    public static bool Continue(int processId) => Send(processId, OperatingSystem.IsLinux() ? 18 : 19);

    private static bool Send(int processId, int signal)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            throw new PlatformNotSupportedException("pausing a process needs POSIX signals (Linux, macOS, FreeBSD)");
        }

        return Kill(processId, signal) == 0;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int processId, int signal);
}
