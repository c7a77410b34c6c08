using System.Diagnostics;

namespace Strata.Cli.Cluster;

/// <summary>
/// How to run this very <c>strata</c> command as a child process: the file to execute and the arguments that come
/// before the command's own (none for the <c>strata</c> executable; <c>exec path/strata.dll</c> for the
/// <c>dotnet</c> host).
/// </summary>
/// <param name="FileName">The executable.</param>
/// <param name="Prefix">Arguments placed before <c>start ...</c>.</param>
internal sealed record NodeProgram(string FileName, IReadOnlyList<string> Prefix)
{
    /// <summary>
    /// The program of the running CLI: <see cref="Environment.ProcessPath"/> when that is the <c>strata</c>
    /// executable; <c>dotnet exec strata.dll</c> when the CLI runs on the <c>dotnet</c> host; otherwise (the CLI
    /// is hosted by another program, e.g. a test host) the <c>strata</c> executable next to <c>strata.dll</c>, or
    /// <c>dotnet exec strata.dll</c> when there is none.
    /// </summary>
    public static NodeProgram OfThisCli()
    {
        string assembly = typeof(NodeProgram).Assembly.Location;
        string? process = Environment.ProcessPath;
        string processName = process is null ? "" : Path.GetFileNameWithoutExtension(process);
        if (process is not null && string.Equals(processName, "strata", StringComparison.OrdinalIgnoreCase))
        {
            return new NodeProgram(process, []);
        }

        if (process is not null && string.Equals(processName, "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return new NodeProgram(process, ["exec", assembly]);
        }

        string apphost = Path.Combine(Path.GetDirectoryName(assembly) ?? ".", OperatingSystem.IsWindows() ? "strata.exe" : "strata");
        if (File.Exists(apphost))
        {
            return new NodeProgram(apphost, []);
        }

        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } fromSdk ? fromSdk : "dotnet";
        return new NodeProgram(host, ["exec", assembly]);
    }

    /// <summary>A start description of this program with <paramref name="arguments"/> after the prefix.</summary>
    public ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(FileName) { UseShellExecute = false };
        foreach (string argument in Prefix.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    /// <summary>The command line as a user would type it (for logs and error messages).</summary>
    public override string ToString() => string.Join(' ', new[] { FileName }.Concat(Prefix));
}
