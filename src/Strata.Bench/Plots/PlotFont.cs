using ScottPlot;
using SkiaSharp;

namespace Strata.Bench.Plots;

/// <summary>
/// The one font every chart draws its text with: a TrueType file found on the machine, loaded by path and registered
/// with ScottPlot under <see cref="Family"/>.
/// </summary>
/// <remarks>
/// <para>Why a file and not a family name: the SkiaSharp native build used here (NoDependencies) has no fontconfig,
/// so asking for "sans-serif" gets whatever it happens to scan first, and on a machine without fonts it gets an empty
/// typeface that draws nothing — a chart with no labels, silently. Loading a known file instead makes the font the
/// same everywhere, and its absence an error that says what to install.</para>
/// <para>Where it looks: <c>STRATA_PLOT_FONT</c> (a path to a .ttf/.otf file) if set; then DejaVu Sans
/// (Debian <c>fonts-dejavu-core</c>, installed by <c>scripts/install-prerequisites.sh</c>), Liberation Sans and a few
/// other common sans fonts at their usual paths; then any TrueType file under the usual font directories. A
/// candidate is taken only if Skia can load it and it has glyphs for digits and Latin letters.</para>
/// <para>Thread-safe: <see cref="Ensure"/> resolves and registers once per process (the outcome, failure included,
/// is kept); <see cref="Find"/> is a pure function of its arguments and the files.</para>
/// </remarks>
public static class PlotFont
{
    /// <summary>The family name charts use; registered with ScottPlot by <see cref="Ensure"/>.</summary>
    public const string Family = "Strata Plot Sans";

    /// <summary>The environment variable naming a font file to use instead of searching.</summary>
    public const string OverrideVariable = "STRATA_PLOT_FONT";

    /// <summary>Well-known sans font files, most preferred first, with the bold face looked for beside each.</summary>
    public static IReadOnlyList<string> KnownFiles { get; } =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
        "/Library/Fonts/Arial.ttf",
        "/System/Library/Fonts/Supplemental/Arial.ttf",
        @"C:\Windows\Fonts\arial.ttf",
    ];

    /// <summary>Directories searched (recursively) for any usable .ttf when no known file exists.</summary>
    public static IReadOnlyList<string> FontDirectories { get; } =
    [
        "/usr/share/fonts",
        "/usr/local/share/fonts",
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".fonts"),
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "fonts"),
    ];

    /// <summary>What Debian calls the package that provides the preferred font.</summary>
    public const string DebianPackage = "fonts-dejavu-core";

    private static readonly Lazy<string> Registered = new(Register, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Finds the font (once per process), registers it with ScottPlot and returns <see cref="Family"/>; throws
    /// <see cref="PlotFontMissingException"/> (every call, with the same message) when there is none.
    /// </summary>
    public static string Ensure() => Registered.Value;

    /// <summary>
    /// The regular font file to use, and its bold face (the regular one when no bold file lies beside it).
    /// </summary>
    /// <param name="overridePath">A file named by the user (<see cref="OverrideVariable"/>); when set, nothing else is tried.</param>
    /// <param name="knownFiles">Preferred files, in order.</param>
    /// <param name="directories">Directories searched for any usable .ttf/.otf file, in order, when no known file is usable.</param>
    /// <exception cref="PlotFontMissingException">No candidate is a usable font: the message lists where it looked and what to install.</exception>
    public static (string Regular, string Bold) Find(string? overridePath, IEnumerable<string> knownFiles, IEnumerable<string> directories)
    {
        ArgumentNullException.ThrowIfNull(knownFiles);
        ArgumentNullException.ThrowIfNull(directories);
        if (!string.IsNullOrEmpty(overridePath))
        {
            return IsUsable(overridePath)
                ? (overridePath, overridePath)
                : throw new PlotFontMissingException(
                    $"{OverrideVariable}={overridePath} is not a usable font file (missing, unreadable, or without Latin glyphs); unset it or name a .ttf file");
        }

        List<string> known = [.. knownFiles];
        foreach (string file in known)
        {
            if (IsUsable(file))
            {
                return (file, BoldBeside(file));
            }
        }

        List<string> searched = [.. directories];
        foreach (string directory in searched.Where(Directory.Exists))
        {
            IEnumerable<string> files;
            try
            {
                files = Directory.EnumerateFiles(directory, "*.*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true })
                    .Where(f => f.EndsWith(".ttf", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".otf", StringComparison.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal)
                    .ToList();
            }
            catch (IOException)
            {
                continue;
            }

            // Prefer an upright regular face: bold, italic and symbol fonts make poor axis labels.
            foreach (string file in files.OrderBy(Penalty))
            {
                if (IsUsable(file))
                {
                    return (file, file);
                }
            }
        }

        throw new PlotFontMissingException(
            $"plots need a TrueType font and none was found (looked for {string.Join(", ", known)}, then any .ttf/.otf under {string.Join(", ", searched)}). " +
            $"On Debian: apt-get install {DebianPackage} (scripts/install-prerequisites.sh does), or set {OverrideVariable} to a .ttf file");
    }

    /// <summary>Whether Skia loads <paramref name="file"/> as a typeface with glyphs for digits and Latin letters.</summary>
    public static bool IsUsable(string file)
    {
        if (!File.Exists(file))
        {
            return false;
        }

        using SKTypeface? typeface = SKTypeface.FromFile(file);
        if (typeface is null || typeface.GlyphCount == 0)
        {
            return false;
        }

        using var font = new SKFont(typeface);
        return font.ContainsGlyphs("0123456789.% abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ()/");
    }

    private static string Register()
    {
        (string regular, string bold) = Find(Environment.GetEnvironmentVariable(OverrideVariable), KnownFiles, FontDirectories);
        Fonts.AddFontFile(Family, regular, bold: false, italic: false);
        Fonts.AddFontFile(Family, bold, bold: true, italic: false);
        return Family;
    }

    private static string BoldBeside(string regular)
    {
        string directory = Path.GetDirectoryName(regular) ?? "";
        string name = Path.GetFileNameWithoutExtension(regular);
        string extension = Path.GetExtension(regular);
        string stem = name.EndsWith("-Regular", StringComparison.Ordinal) ? name[..^"-Regular".Length] : name;
        string candidate = Path.Combine(directory, stem + "-Bold" + extension);
        return IsUsable(candidate) ? candidate : regular;
    }

    private static int Penalty(string file)
    {
        string name = Path.GetFileNameWithoutExtension(file);
        int penalty = 0;
        foreach (string word in new[] { "Bold", "Italic", "Oblique", "Light", "Condensed", "Mono", "Math", "Symbol", "Emoji" })
        {
            if (name.Contains(word, StringComparison.OrdinalIgnoreCase))
            {
                penalty++;
            }
        }

        return penalty;
    }
}

/// <summary>No usable font for chart text: the message says where the search looked and what to install.</summary>
public sealed class PlotFontMissingException : Exception
{
    /// <summary>A failure with its explanation.</summary>
    public PlotFontMissingException(string message)
        : base(message)
    {
    }

    /// <summary>A failure with its explanation and cause.</summary>
    public PlotFontMissingException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>A failure without explanation (prefer the other constructors).</summary>
    public PlotFontMissingException()
        : base("no usable font for plot text")
    {
    }
}
