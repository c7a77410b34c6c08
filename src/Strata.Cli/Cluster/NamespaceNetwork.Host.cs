using System.Globalization;
using System.Text.RegularExpressions;

namespace Strata.Cli.Cluster;

internal sealed partial class NamespaceNetwork
{
    /// <summary>
    /// Removes the namespaces, interfaces and FORWARD rules of runs whose process no longer exists (a runner killed
    /// with SIGKILL cannot clean up; its nodes stopped with it, since they stop when their standard input closes).
    /// </summary>
    private static async Task SweepOrphansAsync(NetworkTools tools, CancellationToken cancellationToken)
    {
        foreach (string name in await NamespaceNamesAsync(tools, cancellationToken).ConfigureAwait(false))
        {
            if (NamespaceName().Match(name) is { Success: true } m && !IsAlive(m.Groups["pid"].Value))
            {
                await HostCommand.TryRunAsync(tools.Ip, ["netns", "del", name], cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (string name in await LinkNamesAsync(tools, cancellationToken).ConfigureAwait(false))
        {
            if (LinkName().Match(name) is { Success: true } m && !IsAlive(m.Groups["pid"].Value))
            {
                await HostCommand.TryRunAsync(tools.Ip, ["link", "del", name], cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }

        HostCommandResult forward = await HostCommand.TryRunAsync(tools.Iptables, ["-S", "FORWARD"], cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (string rule in forward.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (ForwardRule().Match(rule) is { Success: true } m && !IsAlive(m.Groups["pid"].Value))
            {
                string[] spec = rule.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2..];
                await HostCommand.TryRunAsync(tools.Iptables, ["-D", "FORWARD", .. spec], cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// A third octet X such that no address or route of this host is in <c>10.77.X.0/24</c>, starting the search
    /// at a place that depends on <paramref name="tag"/> (callers hold the lock, so two runs never pick the same).
    /// </summary>
    private static async Task<int> FreeSubnetAsync(NetworkTools tools, string tag, CancellationToken cancellationToken)
    {
        string addresses = await HostCommand.RunAsync(tools.Ip, ["-4", "-o", "addr", "show"], cancellationToken: cancellationToken).ConfigureAwait(false);
        string routes = await HostCommand.RunAsync(tools.Ip, ["-4", "route", "show", "table", "all"], cancellationToken: cancellationToken).ConfigureAwait(false);
        int start = (int)((uint)StringComparer.Ordinal.GetHashCode(tag) % 254);
        return ChooseSubnet(addresses + "\n" + routes, start)
            ?? throw new CommandFailedException("no free 10.77.X.0/24 subnet for the nodes' network (every one is used by an address or route of this host)");
    }

    /// <summary>
    /// The first third octet X (1..254, searched from <paramref name="start"/> on, wrapping) such that
    /// <c>10.77.X.0/24</c> overlaps no network or address in <paramref name="hostNetworks"/> (the text of
    /// <c>ip addr</c> and <c>ip route</c>: every <c>a.b.c.d</c> or <c>a.b.c.d/len</c> in it; prefixes shorter than /8,
    /// such as a default route, are ignored); null when every one overlaps.
    /// </summary>
    internal static int? ChooseSubnet(string hostNetworks, int start)
    {
        ArgumentNullException.ThrowIfNull(hostNetworks);
        var used = new List<(uint Network, int Prefix)>();
        foreach (Match m in HostNetwork().Matches(hostNetworks))
        {
            string[] octets = m.Groups["address"].Value.Split('.');
            if (octets.Any(o => int.Parse(o, CultureInfo.InvariantCulture) > 255))
            {
                continue;
            }

            uint address = octets.Aggregate(0u, (acc, o) => (acc << 8) | uint.Parse(o, CultureInfo.InvariantCulture));
            int prefix = m.Groups["prefix"].Success ? int.Parse(m.Groups["prefix"].Value, CultureInfo.InvariantCulture) : 32;
            if (prefix is >= 8 and <= 32)
            {
                used.Add((address, prefix));
            }
        }

        for (int i = 0; i < 254; i++)
        {
            int third = ((start + i) % 254) + 1;
            uint candidate = (10u << 24) | (77u << 16) | ((uint)third << 8);
            // Two networks overlap when they agree on the shorter of their two prefixes.
            if (!used.Any(u => (candidate & Mask(Math.Min(24, u.Prefix))) == (u.Network & Mask(Math.Min(24, u.Prefix)))))
            {
                return third;
            }
        }

        return null;
    }

    private static uint Mask(int prefix) => prefix == 0 ? 0 : uint.MaxValue << (32 - prefix);

    private static async Task<IReadOnlyList<string>> NamespaceNamesAsync(NetworkTools tools, CancellationToken cancellationToken)
    {
        HostCommandResult listed = await HostCommand.TryRunAsync(tools.Ip, ["netns", "list"], cancellationToken: cancellationToken).ConfigureAwait(false);
        return [.. listed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(line => line.Split(' ')[0])];
    }

    private static async Task<IReadOnlyList<string>> LinkNamesAsync(NetworkTools tools, CancellationToken cancellationToken)
    {
        // Lines look like "12: svNAME@if2: <BROADCAST,...> ...".
        string listed = await HostCommand.RunAsync(tools.Ip, ["-o", "link", "show"], cancellationToken: cancellationToken).ConfigureAwait(false);
        return [.. listed.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':', 3))
            .Where(parts => parts.Length == 3)
            .Select(parts => parts[1].Trim().Split('@')[0])];
    }

    private static bool IsAlive(string pid) =>
        int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out int id) && (id == Environment.ProcessId || Directory.Exists($"/proc/{id}"));

    [GeneratedRegex(@"^strata-(?<pid>\d+)c\d+-\d+$")]
    private static partial Regex NamespaceName();

    [GeneratedRegex(@"^s[bv](?<pid>\d+)c\d+(n\d+)?$")]
    private static partial Regex LinkName();

    [GeneratedRegex(@"^-A FORWARD -i sb(?<pid>\d+)c\d+ -o sb\d+c\d+ -j ACCEPT$")]
    private static partial Regex ForwardRule();

    [GeneratedRegex(@"(?<![\d.])(?<address>\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(/(?<prefix>\d{1,2}))?(?![\d.])")]
    private static partial Regex HostNetwork();
}
