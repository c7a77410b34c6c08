using System.Runtime.CompilerServices;

namespace Strata.Linearizability.Tests;

/// <summary>
/// Finds shared/testdata/linearizability: the recorded histories live beside the repository (../shared),
/// never inside it. Searched from the test binaries, the working directory and this source file upwards,
/// so it works from a clone with shared/ beside it and with STRATA_ARTIFACTS pointing elsewhere.
/// STRATA_SHARED_DIR overrides. Missing data is a failure, never a skip.
/// </summary>
internal static class SharedTestData
{
    private const string Relative = "shared/testdata/linearizability";

    public static string LinearizabilityDirectory { get; } = Locate();

    private static string Locate([CallerFilePath] string sourceFile = "")
    {
        if (Environment.GetEnvironmentVariable("STRATA_SHARED_DIR") is { Length: > 0 } shared)
        {
            var candidate = Path.Combine(shared, "testdata", "linearizability");
            return Directory.Exists(candidate)
                ? candidate
                : throw new DirectoryNotFoundException($"STRATA_SHARED_DIR={shared} has no testdata/linearizability.");
        }

        var starts = new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory(), Path.GetDirectoryName(sourceFile) ?? string.Empty };
        foreach (var start in starts)
        {
            for (var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, Relative);
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new DirectoryNotFoundException(
            $"Could not find {Relative} above any of: {string.Join(", ", starts)}. The histories live in ../shared beside the repository.");
    }
}
