using System.Globalization;

namespace Strata.Cli.Cluster;

/// <summary>
/// One flipped bit in a node's data directory: a bit of a write-ahead log (<c>.log</c>), sorted table (<c>.sst</c>) or
/// manifest (<c>MANIFEST-*</c>) file — the files RocksDB checksums — chosen by a seeded draw. The node must be down
/// while a bit is flipped. Flipping the same bit again undoes it.
/// </summary>
/// <param name="File">The file, relative to the data directory.</param>
/// <param name="Offset">The byte flipped.</param>
/// <param name="Bit">The bit of that byte (0–7).</param>
internal sealed record BitFlip(string File, long Offset, int Bit)
{
    /// <summary>
    /// Draws a file of <paramref name="dataDirectory"/> (in ordinal order of path), a byte of it and a bit, in that
    /// order, from <paramref name="random"/>; null when the directory holds no such file. With
    /// <paramref name="tablesOnly"/> only sorted tables are drawn from (what a running node reads again).
    /// </summary>
    public static BitFlip? Choose(string dataDirectory, Random random, bool tablesOnly = false)
    {
        ArgumentNullException.ThrowIfNull(random);
        var root = new DirectoryInfo(dataDirectory);
        FileInfo[] candidates = [.. root.EnumerateFiles("*", SearchOption.AllDirectories)
            .Where(f => f.Length > 0 && (tablesOnly ? f.Name.EndsWith(".sst", StringComparison.Ordinal) : IsChecksummed(f.Name)))
            .OrderBy(f => f.FullName, StringComparer.Ordinal)];
        if (candidates.Length == 0)
        {
            return null;
        }

        FileInfo file = candidates[random.Next(candidates.Length)];
        long offset = random.NextInt64(file.Length);
        return new BitFlip(Path.GetRelativePath(root.FullName, file.FullName), offset, random.Next(8));
    }

    /// <summary>Whether a file named <paramref name="name"/> is one RocksDB checksums: a WAL, a sorted table, a manifest.</summary>
    public static bool IsChecksummed(string name) =>
        name.EndsWith(".sst", StringComparison.Ordinal) || name.EndsWith(".log", StringComparison.Ordinal) || name.StartsWith("MANIFEST-", StringComparison.Ordinal);

    /// <summary>The kind of file flipped: <c>WAL</c>, <c>SST</c> or <c>MANIFEST</c>.</summary>
    public string FileKind => System.IO.Path.GetFileName(File) switch
    {
        string n when n.EndsWith(".sst", StringComparison.Ordinal) => "SST",
        string n when n.EndsWith(".log", StringComparison.Ordinal) => "WAL",
        _ => "MANIFEST",
    };

    /// <summary>
    /// Flips the bit in <paramref name="dataDirectory"/> (again: undoes an earlier flip). Returns false, changing
    /// nothing, when the file is gone or has become shorter than <see cref="Offset"/>.
    /// </summary>
    public bool Apply(string dataDirectory)
    {
        string path = System.IO.Path.Combine(dataDirectory, File);
        if (!System.IO.File.Exists(path))
        {
            return false;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        if (Offset >= stream.Length)
        {
            return false;
        }

        stream.Position = Offset;
        int value = stream.ReadByte();
        stream.Position = Offset;
        stream.WriteByte((byte)(value ^ (1 << Bit)));
        stream.Flush(flushToDisk: true);
        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{File}@{Offset} bit {Bit}");
}
