namespace Strata.Cli.Cluster;

/// <summary>
/// The host programs <see cref="NamespaceNetwork"/> needs, found on this machine: <c>ip</c> (iproute2) for the
/// namespaces, veth pairs and bridge, <c>iptables</c> and <c>iptables-restore</c> for the partitions.
/// </summary>
/// <param name="Ip">Full path of <c>ip</c>.</param>
/// <param name="Iptables">Full path of <c>iptables</c>.</param>
/// <param name="IptablesRestore">Full path of <c>iptables-restore</c>.</param>
internal sealed record NetworkTools(string Ip, string Iptables, string IptablesRestore)
{
    /// <summary>Where the tools are looked for after <c>PATH</c>: the sbin folders are often missing from a user's PATH.</summary>
    private static readonly string[] SystemFolders = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

    /// <summary>
    /// The tools of this machine, or a <see cref="CommandFailedException"/> (exit 3) saying what is missing: not
    /// Linux, not root, or a program not installed. Never returns partially: namespace networking either works or
    /// the run does not start.
    /// </summary>
    public static NetworkTools Require() =>
        Require(OperatingSystem.IsLinux(), Environment.IsPrivilegedProcess, Find);

    /// <summary>
    /// <see cref="Require()"/> over the given facts (testable without root): whether this is Linux, whether the process
    /// runs as root, and how a program name is resolved to a path (null: not found).
    /// </summary>
    public static NetworkTools Require(bool isLinux, bool isRoot, Func<string, string?> find)
    {
        ArgumentNullException.ThrowIfNull(find);
        const string Why = "--network netns puts each node in its own Linux network namespace (ip netns, veth pairs, a bridge) and partitions them with iptables";
        if (!isLinux)
        {
            throw new CommandFailedException($"{Why}; this is not Linux", ExitUndecided);
        }

        if (!isRoot)
        {
            throw new CommandFailedException($"{Why}, which needs root: run strata chaos --network netns as root (sudo)", ExitUndecided);
        }

        string? ip = find("ip");
        string? iptables = find("iptables");
        string? restore = find("iptables-restore");
        var missing = new List<string>();
        if (ip is null)
        {
            missing.Add("'ip' (Debian package iproute2)");
        }

        if (iptables is null || restore is null)
        {
            missing.Add("'iptables' and 'iptables-restore' (Debian package iptables)");
        }

        return missing.Count == 0
            ? new NetworkTools(ip!, iptables!, restore!)
            : throw new CommandFailedException(
                $"{Why}; missing {string.Join(" and ", missing)}: install with scripts/install-prerequisites.sh or apt-get install iproute2 iptables", ExitUndecided);
    }

    /// <summary>The full path of the executable <paramref name="program"/> on PATH or in the system folders; null when none.</summary>
    public static string? Find(string program)
    {
        IEnumerable<string> folders = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(SystemFolders);
        foreach (string folder in folders)
        {
            string candidate = Path.Combine(folder, program);
            if (File.Exists(candidate) && !OperatingSystem.IsWindows() && (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The exit code of a chaos run that could not be done (the same as an unfinished run).</summary>
    private const int ExitUndecided = 3;
}
