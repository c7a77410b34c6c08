using System.Runtime.CompilerServices;

namespace Strata.Cli.Tests;

/// <summary>
/// Finds shared/testdata, which lives beside the repository (never inside it): STRATA_SHARED_DIR if set, else
/// walking up from the test binaries, the working directory and this source file (STRATA_ARTIFACTS may put the
/// binaries outside the repository). Missing data fails the test, never skips it.
/// </summary>
internal static class SharedTestData
{
    public static string Linearizability { get; } = Path.Combine(Locate(), "linearizability");

    private static string Locate([CallerFilePath] string sourceFile = "")
    {
        if (Environment.GetEnvironmentVariable("STRATA_SHARED_DIR") is { Length: > 0 } shared)
        {
            string candidate = Path.Combine(shared, "testdata");
            return Directory.Exists(candidate) ? candidate : throw new DirectoryNotFoundException($"STRATA_SHARED_DIR={shared} has no testdata/");
        }

        string[] starts = [AppContext.BaseDirectory, Directory.GetCurrentDirectory(), Path.GetDirectoryName(sourceFile) ?? ""];
        foreach (string start in starts.Where(s => s.Length > 0))
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "shared", "testdata");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new DirectoryNotFoundException($"shared/testdata not found above any of: {string.Join(", ", starts)}");
    }
}
