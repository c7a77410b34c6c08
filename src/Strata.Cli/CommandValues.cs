using System.CommandLine;
using System.Globalization;
using Strata.Api.V1;
using Strata.Namespace;

namespace Strata.Cli;

/// <summary>Parsing of the values commands share (tiers, metadata pairs, timestamps, preconditions), for options and txn files alike.</summary>
internal static class CommandValues
{
    public static readonly string[] TierNames = ["ssd", "hdd", "tape", "cloud"];

    /// <summary>
    /// Refuses a value that looks like an option: System.CommandLine hands an unknown "--flag" to an open
    /// argument, so a mistyped option would otherwise become a path.
    /// </summary>
    public static Argument<string> RejectingOptions(this Argument<string> argument)
    {
        argument.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is { } value && value.StartsWith("--", StringComparison.Ordinal))
            {
                result.AddError($"unrecognized option '{value}' (use '--' before a path that starts with '--')");
            }
        });
        return argument;
    }

    public static Tier ParseTier(string text) => text.ToLowerInvariant() switch
    {
        "ssd" => Tier.Ssd,
        "hdd" => Tier.Hdd,
        "tape" => Tier.Tape,
        "cloud" => Tier.Cloud,
        _ => throw new UsageException($"tier '{text}' is not one of {string.Join(", ", TierNames)}"),
    };

    /// <summary>"key=value" (the value may contain '=' and be empty; the key may not be empty).</summary>
    public static KeyValuePair<string, string> ParseMetadata(string text)
    {
        int equals = text.IndexOf('=', StringComparison.Ordinal);
        return equals > 0
            ? new KeyValuePair<string, string>(text[..equals], text[(equals + 1)..])
            : throw new UsageException($"metadata '{text}' is not key=value");
    }

    /// <summary>
    /// A read timestamp: an HLC timestamp as the node returns them (a decimal integer), or a UTC wall-clock
    /// time in ISO 8601 (everything written up to the end of that millisecond is visible).
    /// </summary>
    public static ulong ParseTimestamp(string text)
    {
        if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong hlc))
        {
            return hlc;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset time))
        {
            // The last logical tick of that millisecond: include every write stamped within it.
            return HybridClock.FromMilliseconds(time.ToUnixTimeMilliseconds()) | 0xFFFF;
        }

        throw new UsageException($"timestamp '{text}' is neither an HLC timestamp (integer) nor an ISO 8601 time");
    }

    /// <summary>The preconditions of a request, or null when none is asked for.</summary>
    public static Preconditions? Preconditions(ulong? ifGenerationMatch, bool ifNoneMatch = false)
    {
        if (ifGenerationMatch is null && !ifNoneMatch)
        {
            return null;
        }

        var preconditions = new Preconditions { IfNoneMatch = ifNoneMatch };
        if (ifGenerationMatch is ulong generation)
        {
            preconditions.IfGenerationMatch = generation;
        }

        return preconditions;
    }
}
