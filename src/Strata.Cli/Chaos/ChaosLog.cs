using System.Globalization;
using Spectre.Console;

namespace Strata.Cli.Chaos;

/// <summary>
/// The run's progress lines on the console, each stamped with the run's clock. Thread-safe: the clients, the fault
/// scheduler and the runner write from their own threads; lines are written whole, one at a time.
/// </summary>
internal sealed class ChaosLog(CliEnvironment env, ChaosClock clock)
{
    private readonly Lock _gate = new();

    /// <summary>Writes <paramref name="markup"/> (Spectre markup; escape any text from outside) after the time stamp.</summary>
    public void Line(string markup)
    {
        string stamp = string.Create(CultureInfo.InvariantCulture, $"{ChaosClock.Seconds(clock.Now),7:0.0} s");
        lock (_gate)
        {
            env.Console.MarkupLine($"[grey]{stamp}[/]  {markup}");
        }
    }
}
