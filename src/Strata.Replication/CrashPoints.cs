using System.Diagnostics;
using System.Globalization;

namespace Strata.Replication;

/// <summary>
/// Named places in the store's step where a test can make the process die at once (SIGKILL to itself: no flush, no
/// finally, as in a crash), chosen by the environment variable <c>STRATA_CRASH_POINT=NAME[:N]</c> — the process
/// dies the N-th time (default 1) it reaches NAME. Read once when the process starts; when unset every check is one
/// static read.
/// </summary>
/// <remarks>
/// The points, in the order a step reaches them:
/// <list type="bullet">
/// <item><c>log-before-fsync</c>: the step's Ready batch (entries, hard state, snapshot) is staged, not written;</item>
/// <item><c>log-after-fsync</c>: the batch is durable; no message of the step is sent and nothing applied;</item>
/// <item><c>snapshot-install</c>: a snapshot received from the leader is durable in the log, not yet installed in
/// the state machine;</item>
/// <item><c>apply-before</c>: committed entries are about to be applied;</item>
/// <item><c>apply-after</c>: they are applied (their results handed out), the core not yet advanced.</item>
/// </list>
/// Later features add their own points here. Tests restart the process without the variable and check that every
/// acknowledged write is present and nothing reverted.
/// </remarks>
public static class CrashPoints
{
    /// <summary>The environment variable that arms a crash point.</summary>
    public const string Variable = "STRATA_CRASH_POINT";

    /// <summary>Every point a store step reaches.</summary>
    public static IReadOnlyList<string> Names { get; } = ["log-before-fsync", "log-after-fsync", "snapshot-install", "apply-before", "apply-after"];

    private static readonly string? Armed;
    private static readonly long CrashOnHit;
    private static long _hits;

    static CrashPoints()
    {
        (Armed, CrashOnHit) = Parse(Environment.GetEnvironmentVariable(Variable));
    }

    /// <summary>The armed point, or null. Reading it checks the variable (a bad value throws at startup).</summary>
    public static string? ArmedPoint => Armed;

    /// <summary>Parses <c>NAME[:N]</c>; (null, 0) when unset. An unknown name or a bad count is an error at startup,
    /// never a silently disarmed test.</summary>
    public static (string? Name, long Hit) Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return (null, 0);
        }

        string[] parts = value.Split(':', 2);
        long hit = 1;
        if (!Names.Contains(parts[0]) || (parts.Length == 2 && (!long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out hit) || hit < 1)))
        {
            throw new ArgumentException($"{Variable}='{value}' is not NAME[:N] with NAME one of {string.Join(", ", Names)} and N >= 1");
        }

        return (parts[0], hit);
    }

    /// <summary>Dies here if <paramref name="name"/> is the armed point and this is its N-th hit.</summary>
    public static void Reach(string name)
    {
        if (Armed is null || !string.Equals(Armed, name, StringComparison.Ordinal) || Interlocked.Increment(ref _hits) != CrashOnHit)
        {
            return;
        }

        Console.Error.WriteLine($"strata: crash point {name} reached (hit {CrashOnHit}); dying now");
        Console.Error.Flush();
        using Process self = Process.GetCurrentProcess();
        self.Kill();
        Thread.Sleep(Timeout.Infinite); // the signal is on its way; nothing after this point may run
    }
}
